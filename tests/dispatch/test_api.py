"""HTTP API: the same answer as the CLI, 422 errors naming the field, health and docs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app
from dispatch.calls import parse_call
from dispatch.recommend import recommend

CALL = {"lat": 45.9237, "lon": 6.8694, "onset": "2026-12-04T17:00+01:00", "at": "2026-12-04T18:00+01:00"}


@pytest.fixture(scope="module")
def client(settings, context):
    with TestClient(create_app(settings, context=context)) as test_client:
        yield test_client


def test_recommendation_matches_in_process_answer(client, context):
    response = client.post("/api/v1/recommendations", json=CALL)
    assert response.status_code == 200
    body = response.json()
    expected = recommend(context, parse_call(context.region, now=datetime.now(UTC), **CALL))
    for key in ("strategy", "destination", "transport", "chain_min", "diagnosis_to_wire_min", "alternatives", "rules"):
        assert body[key] == expected[key]


def test_recommendation_by_commune(client):
    response = client.post("/api/v1/recommendations", json={"commune": "Val d'Isère", "onset": "2026-01-15T09:00+01:00", "at": "2026-01-15T10:00+01:00"})
    assert response.status_code == 200
    assert response.json()["strategy"] == "fibrinolysis_then_transfer"


def test_english_by_query_parameter(client):
    response = client.post("/api/v1/recommendations?lang=en", json=CALL)
    assert response.json()["strategy_text"] == "Primary PCI"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"lat": 95, "lon": 6.0}, "lat", "latitude_range"),
        ({"lat": 46.2044, "lon": 6.1432}, "lat", "outside_region"),
        ({"commune": "Atlantis"}, "commune", "commune_unknown"),
        ({"lat": 45.19, "lon": 5.72, "onset": "2026-12-04T20:00+01:00", "at": "2026-12-04T19:00+01:00"}, "onset", "onset_after_call"),
        ({"lat": 45.19, "lon": 5.72, "onset": "2026-10-25T02:30"}, "onset", "time_ambiguous"),
        ({"lat": 45.19, "lon": 5.72, "colour": "red"}, "colour", "unknown_field"),
        ({"lat": "north", "lon": 5.72}, "lat", "field_invalid"),
        ({"lat": 45.19, "lon": 5.72, "contraindication": "maybe"}, "contraindication", "field_invalid"),
    ],
)
def test_bad_input_is_422_naming_field(client, body, field, code):
    response = client.post("/api/v1/recommendations", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] == code
    assert error["message"]


def test_nan_latitude_rejected(client):
    response = client.post("/api/v1/recommendations", content=b'{"lat": NaN, "lon": 5.7}', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "lat"


def test_error_message_in_french_by_default(client):
    response = client.post("/api/v1/recommendations", json={"lat": 46.2044, "lon": 6.1432})
    assert "hors de la région" in response.json()["error"]["message"]


def test_health_reports_network(client):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["network"]["source"] == "skeleton"
    assert body["network"]["version"].startswith("v")


def test_openapi_docs_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/v1/recommendations" in client.get("/openapi.json").json()["paths"]

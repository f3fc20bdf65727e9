"""HTTP API: the same answer as the CLI, 422 errors naming the field, health and docs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app
from dispatch.calls import parse_call
from dispatch.recommend import recommend
from dispatch.schemas import Recommendation

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
    # In daylight the Courchevel helicopter reaches the resort: primary PCI by air.
    assert response.json()["strategy"] == "primary_pci"
    assert response.json()["transport"] == "helicopter"


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
        ({"lat": True, "lon": 5.72}, "lat", "field_invalid"),
        ({"lat": 45.19, "lon": 5.72, "shock": "yes"}, "shock", "field_invalid"),
        ({"commune": "saint gervais"}, "commune", "commune_ambiguous"),
        ({"commune": "Grenoble", "lat": 45.9237, "lon": 6.8694}, "commune", "commune_mismatch"),
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


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"22"])
def test_malformed_body_is_422_on_body(client, content):
    response = client.post("/api/v1/recommendations", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"
    assert "objet JSON" in response.json()["error"]["message"]


def test_unknown_field_lists_accepted_fields(client):
    error = client.post("/api/v1/recommendations", json={"lat": 45.19, "lon": 5.72, "colour": "red"}).json()["error"]
    assert "champ inconnu : colour" in error["message"]
    assert "onset" in error["message"]


def test_choice_error_in_french(client):
    error = client.post("/api/v1/recommendations", json={"lat": 45.19, "lon": 5.72, "contraindication": "maybe"}).json()["error"]
    assert error["message"] == "contraindication : « maybe » invalide, choisissez parmi : absolute, relative."


def test_wrong_path_and_method_use_error_body(client):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = client.get("/api/v1/recommendations")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_answer_matches_documented_schema(client):
    body = client.post("/api/v1/recommendations", json=CALL).json()
    Recommendation.model_validate(body)
    lysis = client.post("/api/v1/recommendations", json={"commune": "Val d'Isère", "onset": "2026-01-15T09:00+01:00", "at": "2026-01-15T10:00+01:00", "age": 80}).json()
    Recommendation.model_validate(lysis)


def test_docs_served_without_external_assets(client):
    page = client.get("/docs").text
    assert "cdn" not in page
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200


def test_openapi_documents_answer_and_errors(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/recommendations"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Recommendation")
    assert "422" in operation["responses"]
    assert {p["name"] for p in operation["parameters"]} == {"lang", "Accept-Language"}
    assert "lat" in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]


def test_health_reports_network(client):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["network"]["source"] == "skeleton"
    assert body["network"]["version"].startswith("v")




def test_routed_endpoint_matches_fast_path(client, context):
    from dispatch.api import answer_recommendation

    status, direct = answer_recommendation(context, b'{"lat": 45.9237, "lon": 6.8694, "onset": "2026-12-04T17:00+01:00", "at": "2026-12-04T18:00+01:00"}', None, "")
    over_http = client.post("/api/v1/recommendations", json=CALL).json()
    assert status == 200
    assert direct["strategy"] == over_http["strategy"]
    assert direct["alternatives"] == over_http["alternatives"]


def test_fast_path_reads_lang_from_query_and_header(client):
    by_query = client.post("/api/v1/recommendations?lang=en", json={"lat": 95, "lon": 6.0}).json()
    by_header = client.post("/api/v1/recommendations", json={"lat": 95, "lon": 6.0}, headers={"accept-language": "en-GB,en;q=0.8"}).json()
    assert by_query["error"]["message"].startswith("lat: 95.0 is invalid")
    assert by_header["error"]["message"].startswith("lat: 95.0 is invalid")

"""The registry on the web service: live answers recorded whole, a case linked to one, the report, roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dispatch.api import create_app
from dispatch.auth import Role, add_token
from dispatch.registry.models import CaseRecord, RecommendationRecord

CALL = {"lat": 45.92412, "lon": 6.86987, "onset": "2008-06-14T08:30+02:00", "at": "2008-06-14T10:00+02:00", "age": 62}


@pytest.fixture
def client(settings, context, tmp_path: Path):
    # A registry of its own for each test, in a fresh state directory.
    with TestClient(create_app(settings.model_copy(update={"state_dir": tmp_path}), context=context)) as test_client:
        yield test_client


def test_live_answer_recorded_whole(client):
    response = client.post("/api/v1/recommendations", json=CALL)
    answer = response.json()
    recorder = client.app.state.context.registry_recorder
    assert recorder.flush()

    with client.app.state.registry_engine.connect() as connection:
        stored = connection.execute(select(RecommendationRecord).where(RecommendationRecord.id == answer["recommendation_id"])).one()

    assert stored.source == "live"
    assert stored.strategy == answer["strategy"]
    assert stored.destination == answer["destination"]["id"]
    assert stored.predicted_diagnosis_to_wire_min == answer["diagnosis_to_wire_min"]
    assert stored.predicted_call_to_arrival_min == answer["call_to_arrival_min"]
    assert stored.profile_version == str(answer["profile"]["version"])
    assert stored.sites_version == answer["sites_version"]
    assert stored.network_version == answer["network"]["version"]
    assert stored.answer["alternatives"] == answer["alternatives"]
    assert stored.answer["rules"] == answer["rules"]
    # The position is kept to 100 m only, and no map line passes through the exact point.
    assert "geometry" not in stored.answer
    assert str(CALL["lat"]) not in json.dumps(stored.answer)
    assert str(CALL["lon"]) not in json.dumps(stored.answer)
    assert stored.answer["patient"]["lat"] != CALL["lat"]
    assert abs(stored.answer["patient"]["lat"] - CALL["lat"]) < 0.001
    assert abs(stored.answer["patient"]["lon"] - CALL["lon"]) < 0.001


def test_followed_recommendation_appears_in_next_report(client):
    answer = client.post("/api/v1/recommendations", json=CALL).json()
    done = answer["strategy"]
    case = {
        "case_id": "API-2008-1",
        "age_years": 62,
        "sex": "M",
        "commune_insee": "74056",
        "lat": CALL["lat"],
        "lon": CALL["lon"],
        "onset": CALL["onset"],
        "call": CALL["at"],
        "first_medical_contact": "2008-06-14T10:10+02:00",
        "diagnosis": "2008-06-14T10:20+02:00",
        "arrival": "2008-06-14T11:40+02:00",
        "arterial_puncture": "2008-06-14T11:50+02:00",
        "wire_crossing": "2008-06-14T12:00+02:00",
        "strategy": done,
        "transport": answer["transport"],
        "destination": answer["destination"]["id"],
        "admission": "direct",
        "in_hospital_death": False,
        "recommendation_id": answer["recommendation_id"],
    }
    # The case is recorded at once: the endpoint waits for the recorder's queue.
    created = client.post("/api/v1/registry/cases", json=case)
    assert created.status_code == 201, created.text
    assert created.json()["recommendation_id"] == answer["recommendation_id"]
    assert created.json()["departement"] == "74"

    indicators = client.get("/api/v1/registry/indicators?by=year").json()["groups"]["2008"]
    assert indicators["recommendation_followed_share"] == {"count": 1, "total": 1, "percent": 100.0}
    # Observed call to arrival 100 min minus the answer's prediction.
    assert indicators["gap_call_to_arrival_min"]["median"] == 100 - answer["call_to_arrival_min"]

    page = client.get("/registry?year=2008&lang=en")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Recommendations followed" in page.text
    assert "100% (1/1)" in page.text
    assert "data:image/png;base64," in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text

    # The same recommendation cannot be linked to a second case.
    again = client.post("/api/v1/registry/cases", json={**case, "case_id": "API-2008-2"})
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "recommendation_id"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"case_id": "API-2008-9", "commune_insee": "38185", "call": "2008-03-30T02:30"}, "call", "time_nonexistent"),
        ({"case_id": "API-2008-9", "commune_insee": "00000", "call": "2008-03-30T10:30+02:00"}, "commune_insee", "registry_commune_unknown"),
        ({"case_id": "API-2008-9", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00", "nom": "Dupont"}, "nom", "registry_identity_fields"),
        ({"case_id": "API-2008-9", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00", "colour": "red"}, "colour", "unknown_field"),
        ({"case_id": "Dupont_Jean_19500302", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"}, "case_id", "registry_case_id_date"),
        ({"case_id": "Dupont_Jean", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"}, "case_id", "registry_case_id_name"),
        ({"case_id": "API-2008-9", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00",
          "ecg": "2008-03-30T10:50+02:00", "diagnosis": "2008-03-30T10:45+02:00"}, "diagnosis", "registry_chain_order"),
        ({"case_id": "API-2008-9", "commune_insee": "74056", "lat": 45.1885, "lon": 5.7245, "call": "2008-03-30T10:30+02:00"},
         "commune_insee", "registry_position_other_commune"),
    ],
)
def test_invalid_case_names_field(client, body, field, code):
    response = client.post("/api/v1/registry/cases?lang=en", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["code"] == code


def test_case_endpoint_stores_no_identity(client):
    client.post("/api/v1/registry/cases", json={"case_id": "API-2008-3", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"})

    columns = set(CaseRecord.__table__.columns.keys())
    assert not columns & {"name", "nom", "birth_date", "date_of_birth"}


@pytest.fixture
def tokens(settings, context, tmp_path: Path):
    path = tmp_path / "tokens.yaml"
    issued = {role: add_token(path, role.value, role) for role in (Role.PLANNER, Role.REGULATOR, Role.SMUR)}
    app = create_app(settings.model_copy(update={"state_dir": tmp_path, "tokens_file": path}), context=context)
    with TestClient(app) as test_client:
        yield test_client, {role: {"authorization": f"Bearer {token}"} for role, token in issued.items()}


def test_report_for_planner_only(tokens):
    client, headers = tokens

    assert client.get("/registry", headers=headers[Role.PLANNER]).status_code == 200
    assert client.get("/registry", headers=headers[Role.REGULATOR]).status_code == 403
    assert client.get("/registry", headers=headers[Role.SMUR]).status_code == 403
    assert client.get("/registry").status_code == 401


def test_case_recording_for_desks_and_teams(tokens):
    client, headers = tokens
    body = {"case_id": "API-2008-4", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"}

    assert client.post("/api/v1/registry/cases", json=body, headers=headers[Role.PLANNER]).status_code == 403
    assert client.post("/api/v1/registry/cases", json=body, headers=headers[Role.REGULATOR]).status_code == 201
    assert client.post("/api/v1/registry/cases", json={**body, "case_id": "API-2008-5"}, headers=headers[Role.SMUR]).status_code == 201


def test_service_answers_without_registry(settings, context, tmp_path, caplog):
    unreachable = settings.model_copy(update={"state_dir": tmp_path, "database_url": "postgresql://postgres@127.0.0.1:1/none"})
    with caplog.at_level("ERROR", logger="dispatch.api_registry"), TestClient(create_app(unreachable, context=context)) as client:
        answer = client.post("/api/v1/recommendations", json=CALL)
        page = client.get("/registry?lang=en")

    assert answer.status_code == 200
    assert "recommendation_id" not in answer.json()
    assert page.status_code == 503
    assert page.json()["error"]["code"] == "registry_unreachable"
    assert page.json()["error"]["field"] == "RESURCOR_DATABASE_URL"
    assert any("registry unavailable" in record.getMessage() for record in caplog.records)


def test_recording_off_gives_no_id(settings, context, tmp_path):
    quiet = settings.model_copy(update={"state_dir": tmp_path, "registry_record": False})
    with TestClient(create_app(quiet, context=context)) as client:
        answer = client.post("/api/v1/recommendations", json=CALL).json()
        page = client.get("/registry")

    assert "recommendation_id" not in answer
    assert page.status_code == 200


def test_concurrent_duplicate_gets_409(client, monkeypatch):
    import dispatch.api_registry as api_registry

    body = {"case_id": "API-2008-6", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"}
    assert client.post("/api/v1/registry/cases", json=body).status_code == 201

    # Another request stored the same id between this request's check and its insert.
    original = api_registry.case_check

    def check_before_other_request(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        check = original(*args, **kwargs)
        check.existing_case_ids.clear()
        return check

    monkeypatch.setattr(api_registry, "case_check", check_before_other_request)
    response = client.post("/api/v1/registry/cases?lang=en", json=body)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "registry_import_conflict"
    assert response.json()["error"]["field"] == "case_id"


def test_api_messages_speak_of_keys(client):
    body = {"case_id": "API-2008-7", "commune_insee": "38185", "call": "2008-03-30T10:30+02:00"}
    assert client.post("/api/v1/registry/cases", json=body).status_code == 201

    duplicate = client.post("/api/v1/registry/cases?lang=fr", json=body).json()["error"]
    named = client.post("/api/v1/registry/cases?lang=fr", json={**body, "case_id": "API-2008-8", "nom": "Dupont", "prenom": "Jean"}).json()["error"]
    twice = client.post(
        "/api/v1/registry/cases?lang=en", json={**body, "case_id": "API-2008-8", "recommendation_id": "x", "recommended_strategy": "primary_pci"}
    ).json()["error"]

    assert duplicate["message"] == "case_id : le cas « API-2008-7 » est déjà dans le registre : donnez un identifiant unique."
    assert named["code"] == "registry_identity_fields"
    assert named["message"].startswith("clés d'identité refusées (nom, prenom)")
    assert "colonne" not in named["message"]
    assert "recommended_* keys" in twice["message"]

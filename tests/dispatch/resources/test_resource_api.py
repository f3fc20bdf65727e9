"""The resource endpoints: tokens and roles, claims and conflicts, errors, health with Redis down."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app
from dispatch.auth import Role, add_token
from redis_server import closed_port

UNIT_KEYS = {"kind", "unit_id", "name", "state", "raw_state", "set_by", "set_at", "age_s", "until", "returns_to", "call_id", "version", "stale"}


@pytest.fixture()
def tokens(tmp_path):
    path = tmp_path / "tokens.yaml"
    made = {role: add_token(path, f"{role.value}-desk", role) for role in Role}
    return path, made


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["memory", "redis"])
def secured(request, settings, context, tokens):
    """A client of a service with tokens, on each kind of store."""
    path, made = tokens
    update = {"tokens_file": path}
    if request.param == "redis":
        shared = request.getfixturevalue("shared_redis")
        update.update(redis_url=shared.url, redis_namespace=shared.namespace)
    app = create_app(settings.model_copy(update=update), context=context)
    with TestClient(app) as client:
        yield client, made


def test_list_shows_every_unit(secured, region):
    client, made = secured
    response = client.get("/api/v1/resources", headers=_auth(made[Role.PLANNER]))
    assert response.status_code == 200
    body = response.json()
    assert body["store"]["reachable"] is True
    expected = len(region.sites.smur_bases) + len(region.sites.heli_bases) + len(region.sites.cath_labs)
    assert len(body["units"]) == expected
    assert set(body["units"][0]) == UNIT_KEYS
    assert {unit["state"] for unit in body["units"]} == {"unknown"}


def test_reads_and_changes_need_tokens(secured):
    client, made = secured
    assert client.get("/api/v1/resources").status_code == 401
    missing = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "token_missing"
    planner = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed"}, headers=_auth(made[Role.PLANNER]))
    assert planner.status_code == 403
    assert planner.json()["error"]["code"] == "role_forbidden"
    smur_claim = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c1"}, headers=_auth(made[Role.SMUR]))
    assert smur_claim.status_code == 403


def test_smur_role_sets_smur_state_only(secured):
    client, made = secured
    own = client.put("/api/v1/resources/smur/sallanches-hpmb", json={"state": "off_duty"}, headers=_auth(made[Role.SMUR]))
    assert own.status_code == 200, own.text
    assert own.json()["set_by"] == "smur-desk"
    other = client.put("/api/v1/resources/helicopter/annecy-meythet-base", json={"state": "available"}, headers=_auth(made[Role.SMUR]))
    assert other.status_code == 403


def test_regulator_sets_state_with_until(secured):
    client, made = secured
    response = client.put(
        "/api/v1/resources/cath_lab/annecy-change", json={"state": "closed", "until": "2099-01-01T08:00+01:00"}, headers=_auth(made[Role.REGULATOR])
    )
    assert response.status_code == 200, response.text
    unit = response.json()
    assert set(unit) == UNIT_KEYS
    assert (unit["state"], unit["raw_state"], unit["set_by"], unit["version"]) == ("closed", "closed", "regulator-desk", 1)
    assert unit["until"].startswith("2099-01-01T08:00")
    assert made[Role.REGULATOR] not in response.text
    one = client.get("/api/v1/resources/cath_lab/annecy-change", headers=_auth(made[Role.PLANNER])).json()
    assert one["state"] == "closed"


def test_claim_twice_gives_409(secured):
    client, made = secured
    regulator = _auth(made[Role.REGULATOR])
    first = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "2026-12-04-0412"}, headers=regulator)
    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["call_id"]) == ("engaged", "2026-12-04-0412")
    second = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "2026-12-04-0413"}, headers=_auth(made[Role.ADMIN]))
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "unit_claimed"
    assert "2026-12-04-0412" in error["message"]
    assert "regulator-desk" in error["message"]
    wrong = client.post("/api/v1/resources/smur/annecy-change/release", json={"call_id": "2026-12-04-0413"}, headers=regulator)
    assert wrong.status_code == 409
    released = client.post("/api/v1/resources/smur/annecy-change/release", json={"call_id": "2026-12-04-0412"}, headers=regulator)
    assert released.json()["state"] == "available"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    [
        ("put", "/api/v1/resources/boat/annecy-change", {"state": "closed"}, 422, "resource_kind_invalid", "kind"),
        ("put", "/api/v1/resources/cath_lab/nowhere", {"state": "closed"}, 404, "unit_unknown", "unit_id"),
        ("get", "/api/v1/resources/smur/nowhere", None, 404, "unit_unknown", "unit_id"),
        ("put", "/api/v1/resources/cath_lab/annecy-change", {"state": "shut"}, 422, "resource_state_invalid", "state"),
        ("put", "/api/v1/resources/cath_lab/annecy-change", {"state": "closed", "colour": "red"}, 422, "unknown_field", "colour"),
        ("put", "/api/v1/resources/cath_lab/annecy-change", {}, 422, "field_missing", "state"),
        ("put", "/api/v1/resources/cath_lab/annecy-change", {"state": "closed", "until": "2020-01-01T08:00+01:00"}, 422, "until_past", "until"),
        ("put", "/api/v1/resources/cath_lab/annecy-change", {"state": "closed", "until": "tomorrow"}, 422, "time_invalid", "until"),
        ("put", "/api/v1/resources/smur/annecy-change", {"state": "engaged", "returns_to": "paris"}, 422, "unit_unknown", "returns_to"),
        ("post", "/api/v1/resources/cath_lab/annecy-change/claim", {"call_id": "c1"}, 422, "claim_kind_invalid", "kind"),
        ("post", "/api/v1/resources/smur/annecy-change/claim", {"call_id": "Jean Dupont"}, 422, "call_id_invalid", "call_id"),
        ("post", "/api/v1/resources/smur/annecy-change/claim", {}, 422, "field_missing", "call_id"),
    ],
)
def test_invalid_request_names_field(secured, method, path, body, status, code, field):
    client, made = secured
    kwargs = {"headers": _auth(made[Role.ADMIN])}
    if body is not None:
        kwargs["json"] = body
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]


def test_unknown_unit_lists_ids_in_english(secured):
    client, made = secured
    response = client.get("/api/v1/resources/helicopter/annecy?lang=en", headers=_auth(made[Role.ADMIN]))
    message = response.json()["error"]["message"]
    assert "valid ids" in message
    assert "annecy-meythet-base" in message


def test_health_reports_store(secured):
    client, _ = secured
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["resources"]["reachable"] is True


def test_redis_down_degrades_without_failing(settings, context):
    # Nothing listens on this port: the service starts and responds, marked degraded.
    app = create_app(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port()}/0"}), context=context)
    with TestClient(app) as client:
        health = client.get("/api/v1/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["resources"]["reachable"] is False
        assert "since" in health.json()["resources"]
        listing = client.get("/api/v1/resources")
        assert listing.status_code == 200
        assert listing.json()["store"]["reachable"] is False
        change = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed"})
        assert change.status_code == 503
        assert change.json()["error"]["code"] == "store_unavailable"
        assert "PAS" in change.json()["error"]["message"]
        claim = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c1"})
        assert claim.status_code == 503


def test_recommendation_follows_closed_cath_lab(secured):
    client, made = secured
    call = {"commune": "Chamonix", "onset": "2026-12-05T11:00+01:00", "at": "2026-12-05T12:00+01:00"}
    regulator = _auth(made[Role.REGULATOR])
    closed = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed", "until": "2099-01-01T08:00+01:00"}, headers=regulator)
    assert closed.status_code == 200
    answer = client.post("/api/v1/recommendations", json=call, headers=regulator).json()
    assert answer["destination"]["id"] != "annecy-change"
    assert all(plan["destination"]["id"] != "annecy-change" for plan in answer["alternatives"])
    assert [lab["id"] for lab in answer["resources"]["closed_cath_labs"]] == ["annecy-change"]
    assert answer["resources"]["reachable"] is True


@pytest.fixture()
def single_desk(settings, context):
    """A client of a service without a tokens file: every request acts as the local desk."""
    app = create_app(settings, context=context)
    with TestClient(app) as client:
        yield client


def test_single_desk_records_by(single_desk):
    changed = single_desk.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed", "by": "cors-74"})
    assert changed.status_code == 200
    assert changed.json()["set_by"] == "cors-74"
    unnamed = single_desk.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "open"})
    assert unnamed.json()["set_by"] == "local-desk"

    claimed = single_desk.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c-1", "by": "desk-a"})
    assert claimed.json()["set_by"] == "desk-a"
    conflict = single_desk.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c-2", "by": "desk-b"})
    assert conflict.status_code == 409
    assert "desk-a" in conflict.json()["error"]["message"]
    released = single_desk.post("/api/v1/resources/smur/annecy-change/release", json={"call_id": "c-1", "by": "desk-c"})
    assert released.json()["set_by"] == "desk-c"


def test_token_name_stays_with_by(secured):
    client, made = secured
    headers = _auth(made[Role.REGULATOR])
    other = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed", "by": "Dr Martin"}, headers=headers)
    assert other.json()["set_by"] == "regulator-desk (Dr Martin)"
    same = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "open", "by": "regulator-desk"}, headers=headers)
    assert same.json()["set_by"] == "regulator-desk"
    claimed = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c-1", "by": "desk-2"}, headers=headers)
    assert claimed.json()["set_by"] == "regulator-desk (desk-2)"


@pytest.mark.parametrize("by", ["", "   ", "a" * 65, "desk\nforged line", 12])
def test_invalid_by_names_field(single_desk, by):
    response = single_desk.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed", "by": by})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "by"


def test_errors_translate_kinds_and_permissions(secured):
    client, made = secured
    unknown = client.get("/api/v1/resources/helicopter/nowhere", headers=_auth(made[Role.PLANNER]))
    assert "unité de type hélicoptère" in unknown.json()["error"]["message"]
    english = client.get("/api/v1/resources/helicopter/nowhere", headers={**_auth(made[Role.PLANNER]), "accept-language": "en"})
    assert "not a helicopter unit" in english.json()["error"]["message"]

    forbidden = client.put("/api/v1/resources/cath_lab/annecy-change", json={"state": "closed"}, headers=_auth(made[Role.PLANNER]))
    message = forbidden.json()["error"]["message"]
    assert "« changer l'état de tous les moyens »" in message
    assert "set_resource_state" not in message

    cath = client.post("/api/v1/resources/cath_lab/annecy-change/claim", json={"call_id": "c1"}, headers=_auth(made[Role.REGULATOR]))
    assert "unité de type salle de KT" in cath.json()["error"]["message"]
    assert "hélicoptère, SMUR" in cath.json()["error"]["message"]


def test_conflict_gives_local_clock_time(secured, region):
    from datetime import datetime

    client, made = secured
    regulator = _auth(made[Role.REGULATOR])
    first = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c-1"}, headers=regulator)
    local = datetime.fromisoformat(first.json()["set_at"]).astimezone(region.timezone)
    second = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "c-2"}, headers=regulator)
    message = second.json()["error"]["message"]
    assert f"depuis {local:%H:%M} :" in message
    assert "T" not in message.split("depuis ")[1].split(" :")[0]

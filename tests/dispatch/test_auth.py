"""Tokens and roles: digests on disk, constant-time lookup, 401 and 403 from the API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app
from dispatch.auth import LOCAL_DESK, AuthError, Permission, Role, add_token, list_tokens, load_tokens, revoke_token
from geodata.errors import DataError

GRENOBLE = {"lat": 45.1885, "lon": 5.7245, "onset": "2026-02-14T08:10+01:00", "at": "2026-02-14T09:00+01:00"}


@pytest.fixture()
def tokens(tmp_path):
    path = tmp_path / "tokens.yaml"
    made = {role: add_token(path, f"{role.value}-desk", role) for role in Role}
    return path, made


def test_tokens_file_keeps_digests_only(tokens):
    path, made = tokens
    text = path.read_text()
    assert all(token not in text for token in made.values())
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_each_role_is_recognised_and_limited(tokens):
    path, made = tokens
    registry = load_tokens(path)
    regulator = registry.principal(f"Bearer {made[Role.REGULATOR]}")
    assert (regulator.name, regulator.role) == ("regulator-desk", Role.REGULATOR)
    assert regulator.can(Permission.CLAIM_UNITS)
    assert not regulator.can(Permission.PLAN)
    assert not registry.principal(f"Bearer {made[Role.SMUR]}").can(Permission.SET_RESOURCE_STATE)
    assert registry.principal(f"Bearer {made[Role.PLANNER]}").can(Permission.READ_REGISTRY)


def test_no_tokens_file_gives_local_desk():
    principal = load_tokens(None).principal(None)
    assert principal.name == LOCAL_DESK
    assert all(principal.can(p) for p in Permission)


def test_duplicate_name_and_bad_file_are_refused(tmp_path, tokens):
    path, _ = tokens
    with pytest.raises(DataError, match="already has a token named"):
        add_token(path, "planner-desk", Role.PLANNER)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: x, role: pilot, sha256: '00'}\n")
    with pytest.raises(DataError, match="entry 1"):
        load_tokens(bad)


@pytest.fixture()
def secured_client(settings, context, tokens):
    path, made = tokens
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    with TestClient(app) as client:
        yield client, made


def test_recommendation_needs_a_token(secured_client):
    client, made = secured_client
    missing = client.post("/api/v1/recommendations", json=GRENOBLE)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "token_missing"
    assert "Authorization" in missing.json()["error"]["message"]
    wrong = client.post("/api/v1/recommendations", json=GRENOBLE, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "token_unknown"
    ok = client.post("/api/v1/recommendations", json=GRENOBLE, headers={"Authorization": f"Bearer {made[Role.SMUR]}"})
    assert ok.status_code == 200, ok.text


def test_token_is_never_logged(secured_client, caplog):
    client, made = secured_client
    with caplog.at_level("DEBUG"):
        client.post("/api/v1/recommendations", json=GRENOBLE, headers={"Authorization": f"Bearer {made[Role.ADMIN]}"})
        client.post("/api/v1/recommendations", json=GRENOBLE, headers={"Authorization": f"Bearer {made[Role.ADMIN]}x"})
    assert made[Role.ADMIN] not in caplog.text


def test_cli_refuses_open_mode_off_the_loopback(capsys, monkeypatch):
    from dispatch.cli import main

    monkeypatch.delenv("RESURCOR_TOKENS_FILE", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 1
    assert "127.0.0.1" in capsys.readouterr().err


def test_cli_adds_a_token(tmp_path, capsys, monkeypatch):
    from dispatch.cli import main

    path = tmp_path / "t.yaml"
    monkeypatch.setenv("RESURCOR_TOKENS_FILE", str(path))
    assert main(["tokens", "add", "--name", "desk-1", "--role", "regulator"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert load_tokens(path).principal(f"Bearer {token}").role == Role.REGULATOR
    assert "desk-1" in out.err


def test_list_shows_names_and_roles(tokens):
    path, made = tokens
    listed = list_tokens(path)
    assert listed == [(f"{role.value}-desk", role) for role in Role]


def test_revoke_removes_one_token(tokens):
    path, made = tokens
    assert revoke_token(path, "planner-desk") == len(Role) - 1
    registry = load_tokens(path)
    with pytest.raises(AuthError) as caught:
        registry.principal(f"Bearer {made[Role.PLANNER]}")
    assert caught.value.status == 401
    assert registry.principal(f"Bearer {made[Role.REGULATOR]}").name == "regulator-desk"
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    with pytest.raises(DataError) as caught:
        revoke_token(path, "planner-desk")
    assert caught.value.code == "token_not_found"
    assert "regulator-desk" in caught.value.params["names"]


def test_running_service_drops_revoked_token(tokens, settings, context):
    path, made = tokens
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    app.state.tokens.check_interval_s = 0
    with TestClient(app) as client:
        planner = {"Authorization": f"Bearer {made[Role.PLANNER]}"}
        regulator = {"Authorization": f"Bearer {made[Role.REGULATOR]}"}
        assert client.get("/api/v1/resources", headers=planner).status_code == 200

        revoke_token(path, "planner-desk")
        assert client.get("/api/v1/resources", headers=planner).status_code == 401
        assert client.get("/api/v1/resources", headers=regulator).status_code == 200

        # A file that becomes invalid rejects every token; it never opens the service.
        path.write_text("not: a list\n", encoding="utf-8")
        assert client.get("/api/v1/resources", headers=regulator).status_code == 401
        assert client.get("/api/v1/resources").status_code == 401
        path.unlink()
        assert client.get("/api/v1/resources", headers=regulator).status_code == 401


def test_cli_lists_and_revokes(tokens, monkeypatch, capsys):
    from dispatch.cli import main

    path, made = tokens
    monkeypatch.setenv("RESURCOR_TOKENS_FILE", str(path))
    assert main(["tokens", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["nom", "rôle"]
    assert "planner-desk" in out
    assert all(token not in out for token in made.values())
    assert path.read_text().split("sha256: ")[1][:16] not in out

    assert main(["tokens", "list", "--json"]) == 0
    assert {"name": "smur-desk", "role": "smur"} in json.loads(capsys.readouterr().out)

    assert main(["tokens", "revoke", "--name", "smur-desk"]) == 0
    assert "smur-desk" in capsys.readouterr().err
    assert main(["tokens", "revoke", "--name", "smur-desk", "--lang", "en"]) == 1
    assert "no token named 'smur-desk'" in capsys.readouterr().err
    assert main(["tokens", "list", "--json"]) == 0
    assert "smur-desk" not in capsys.readouterr().out


def test_new_token_never_starts_with_dash():
    from dispatch.auth import new_token

    # One URL-safe base64 draw in 64 starts with "-": 2000 draws would show one.
    tokens = [new_token() for _ in range(2000)]
    assert not [token for token in tokens if token.startswith("-")]
    assert len(set(tokens)) == len(tokens)
    assert {len(token) for token in tokens} == {43}

"""``resurcor resources``: list, set, claim and release on the shared Redis and in memory."""

from __future__ import annotations

import json

import pytest

from dispatch.cli import main


@pytest.fixture()
def shared(shared_redis, monkeypatch):
    monkeypatch.setenv("RESURCOR_REDIS_URL", shared_redis.url)
    monkeypatch.setenv("RESURCOR_REDIS_NAMESPACE", shared_redis.namespace)
    return shared_redis


def _units(capsys) -> dict[tuple[str, str], dict]:
    listing = json.loads(capsys.readouterr().out)
    return {(unit["kind"], unit["unit_id"]): unit for unit in listing["units"]}


def test_set_then_list_on_redis(shared, capsys):
    assert main(["resources", "set", "helicopter", "annecy-meythet-base", "grounded_weather", "--by", "cors-74"]) == 0
    assert "au sol (météo)" in capsys.readouterr().out
    assert main(["resources", "list", "--json"]) == 0
    unit = _units(capsys)[("helicopter", "annecy-meythet-base")]
    assert (unit["state"], unit["set_by"], unit["version"]) == ("grounded_weather", "cors-74", 1)


def test_claim_conflict_and_release(shared, capsys):
    assert main(["resources", "claim", "smur", "smur-chamonix-hpmb", "--call-id", "74-0412", "--by", "desk-a"]) == 0
    capsys.readouterr()
    assert main(["resources", "claim", "smur", "smur-chamonix-hpmb", "--call-id", "74-0413", "--by", "desk-b"]) == 1
    error = capsys.readouterr().err
    assert "74-0412" in error
    assert "desk-a" in error
    assert main(["resources", "release", "smur", "smur-chamonix-hpmb", "--call-id", "74-0412"]) == 0
    assert "disponible" in capsys.readouterr().out


def test_list_table_in_french(shared, capsys):
    assert main(["resources", "set", "cath_lab", "annecy-change", "closed", "--until", "23:59"]) == 0
    capsys.readouterr()
    assert main(["resources", "list"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:5] == ["type", "unité", "nom", "état", "âge"]
    assert "fermée (jusqu'à" in out
    row = next(line for line in out.splitlines() if "annecy-change" in line and "fermée" in line)
    assert "CHANGE" in row
    # A long name is cut to 40 characters, ending with an ellipsis.
    assert "SAMU-SMUR 38, CHU Grenoble Alpes Nord (…" in out
    assert "(La Tronche)" not in out
    assert "inconnu" in out


def test_list_in_english(shared, capsys):
    assert main(["--lang", "en", "resources", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:4] == ["kind", "unit", "name", "state"]
    assert main(["resources", "list", "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:4] == ["kind", "unit", "name", "state"]


def test_bad_input_names_the_fix(shared, capsys):
    assert main(["resources", "set", "smur", "annecy-change", "asleep"]) == 2
    assert "available, engaged, off_duty" in capsys.readouterr().err
    assert main(["resources", "claim", "smur", "chamonix", "--call-id", "c1"]) == 2
    assert "smur-chamonix-hpmb" in capsys.readouterr().err
    assert main(["resources", "claim", "smur", "annecy-change", "--call-id", "Jean Dupont"]) == 2
    assert "identité" in capsys.readouterr().err


def test_memory_store_points_to_url(monkeypatch, capsys):
    monkeypatch.delenv("RESURCOR_REDIS_URL", raising=False)
    assert main(["resources", "list", "--json"]) == 0
    captured = capsys.readouterr()
    assert "--url http://127.0.0.1:8000" in captured.err
    assert json.loads(captured.out)["store"]["name"] == "memory"


def test_recommend_reads_shared_states(shared, settings, capsys, monkeypatch):
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(settings.cache_dir))
    assert main(["resources", "set", "cath_lab", "annecy-change", "closed", "--until", "2099-01-01T08:00+01:00"]) == 0
    capsys.readouterr()
    call = ["--commune", "chamonix", "--onset", "2026-12-05T11:00+01:00", "--at", "2026-12-05T12:00+01:00", "--json"]
    assert main(["recommend", *call]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["destination"]["id"] != "annecy-change"
    assert answer["resources"]["store"] == "redis"


def test_invalid_redis_url_is_named(monkeypatch, capsys):
    monkeypatch.setenv("RESURCOR_REDIS_URL", "http://127.0.0.1:6379")
    assert main(["resources", "list"]) == 2
    assert "RESURCOR_REDIS_URL" in capsys.readouterr().err

"""The resurcor command: answers, one-line errors with status 2, geodata build."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dispatch.cli import main


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("RESURCOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RESURCOR_REGION_DIR", str(settings.region_dir))
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.delenv("RESURCOR_LANG", raising=False)
    return settings


def test_recommend_text_in_french(env, capsys):
    assert main(["recommend", "--commune", "Grenoble", "--onset", "2026-12-04T17:00+01:00", "--at", "2026-12-04T18:00+01:00"]) == 0
    out = capsys.readouterr().out
    assert "ANGIOPLASTIE PRIMAIRE" in out
    assert "Règles appliquées" in out
    assert "APPROXIMATIF" in out


def test_recommend_json_in_english(env, capsys):
    assert main(["recommend", "--lat", "45.1885", "--lon", "5.7245", "--onset", "2026-12-04T17:00+01:00", "--lang", "en", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["strategy"] == "primary_pci"
    assert answer["strategy_text"] == "Primary PCI"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lat", "nan", "--lon", "5.7"], "--lat : nan invalide"),
        (["--lat", "46.2044", "--lon", "6.1432"], "hors de la région"),
        (["--commune", "Atlantis"], "commune « Atlantis » inconnue"),
        (["--lat", "45.19", "--lon", "5.72", "--onset", "2026-12-04T20:00+01:00", "--at", "2026-12-04T19:00+01:00"], "--onset : le début des symptômes"),
        (["--lat", "45.19", "--lon", "5.72", "--onset", "2026-03-29T02:30"], "n'existe pas"),
        (["--lat", "45.19", "--lon", "5.72", "--frobnicate"], "option inconnue : --frobnicate (voir resurcor recommend --help)"),
        (["--commune", "saint gervais"], "Saint-Gervais (38), Saint-Gervais-les-Bains (74)"),
        (["--commune", "grenoble", "--lat", "45.9237", "--lon", "6.8694"], "la commune Grenoble est à 121 km"),
        (["--lat", "45.19", "--lon", "5.72", "--onset", "2020-01-01T10:00+01:00"], "plus de 7 jours avant l'appel"),
        (["--lon"], "l'option --lon attend une valeur"),
        (["--lat", "45.19", "--lon", "5.72", "--lang", "de"], "--lang : « de » invalide, choisissez parmi : fr, en"),
        (["--lat", "45.19"], "--lon : valeur obligatoire manquante"),
    ],
)
def test_bad_input_exits_2_with_one_french_line(env, capsys, args, expected):
    assert main(["recommend", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]


def test_bad_input_in_english(env, capsys):
    assert main(["recommend", "--lat", "91", "--lon", "5.7", "--lang", "en"]) == 2
    assert "--lat: 91 is invalid, give a finite latitude" in capsys.readouterr().err


def test_route_between_two_cities(env, capsys):
    assert main(["route", "--from", "45.1885,5.7245", "--to", "45.5646,5.9178", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert 40 <= answer["car_time_min"] <= 70
    assert 45 <= answer["distance_km"] <= 75
    assert answer["smur_time_min"] < answer["car_time_min"]


def test_route_bad_point(env, capsys):
    assert main(["route", "--from", "45.18", "--to", "45.5646,5.9178"]) == 2
    assert "LAT,LON" in capsys.readouterr().err


def test_missing_cache_names_build_command(env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(tmp_path))
    assert main(["recommend", "--commune", "Grenoble"]) == 1
    assert "resurcor geodata build --skeleton" in capsys.readouterr().err


def test_geodata_build_writes_versioned_cache(env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(tmp_path))
    assert main(["geodata", "build", "--skeleton"]) == 0
    assert (tmp_path / "network" / "current.json").is_file()
    assert list((tmp_path / "network").glob("network-v*.npz"))


def test_installed_command_exits_2_without_traceback(env):
    result = subprocess.run(
        [sys.executable, "-m", "dispatch.cli", "recommend", "--lat", "abc", "--lon", "5"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_refuses_missing_cache(env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(tmp_path))
    assert main(["serve", "--port", "8799"]) == 1
    assert "resurcor geodata build" in capsys.readouterr().err


def test_serve_refuses_stale_cache(env, monkeypatch, tmp_path, capsys, region):
    import shutil

    source = tmp_path / "skeleton.geojson"
    shutil.copy(region.skeleton_path, source)
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["geodata", "build", "--skeleton", str(source)]) == 0
    source.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["serve", "--port", "8799"]) == 1
    assert "a changé depuis la construction du cache" in capsys.readouterr().err


def test_decimal_comma_is_explained(env, capsys):
    assert main(["recommend", "--lat", "45,92", "--lon", "6"]) == 2
    assert "écrivez 45.92" in capsys.readouterr().err


def test_french_contraindication_word_accepted(env, capsys):
    assert main(["recommend", "--commune", "Grenoble", "--contraindication", "absolue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["patient"]["contraindication"] == "absolute"


def test_json_mode_prints_error_body(env, capsys):
    assert main(["recommend", "--commune", "Atlantis", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "commune_unknown"
    assert error["field"] == "commune"


def test_communes_takes_several_words(env, capsys):
    assert main(["communes", "val", "thorens"]) == 0
    assert "Les Belleville" in capsys.readouterr().out


def test_communes_unknown_name_fails(env, capsys):
    assert main(["communes", "xyzq"]) == 2
    assert "inconnue" in capsys.readouterr().err


def test_invalid_port_rejected(env, capsys):
    assert main(["serve", "--port", "99999"]) == 2
    assert "--port" in capsys.readouterr().err


def test_invalid_setting_names_variable(env, monkeypatch, capsys):
    monkeypatch.setenv("RESURCOR_LANG", "de")
    assert main(["recommend", "--commune", "Grenoble"]) == 2
    assert "RESURCOR_LANG" in capsys.readouterr().err


def test_help_in_french_and_english(env, capsys):
    with pytest.raises(SystemExit):
        main(["recommend", "--help"])
    assert "latitude du patient" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--lang", "en", "recommend", "--help"])
    assert "patient latitude" in capsys.readouterr().out

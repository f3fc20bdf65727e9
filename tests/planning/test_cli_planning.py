"""The simulate command: files written, tables printed, scenario errors on one line with status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.cli import main

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("RESURCOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RESURCOR_REGION_DIR", str(settings.region_dir))
    monkeypatch.setenv("RESURCOR_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.delenv("RESURCOR_LANG", raising=False)
    return settings


def test_simulate_with_compare_writes_files(env, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["simulate", str(SCENARIOS_DIR / "winter-peak.yaml"), "--compare", str(SCENARIOS_DIR / "annecy-cath-lab-closed-night.yaml"), "--out", str(out), "--calls", "2000", "--workers", "1"]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "≤ 120 min" in printed.out
    assert "population présente" in printed.out
    assert "appels simulés" in printed.err
    for name in ("communes.csv", "summary.json", "map_diagnosis_to_wire.png", "map_difference.png", "report.html"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["simulation"]["calls"] == 2000
    assert summary["compare"]["scenario"] == "annecy-closed-night"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in report
    assert "http://" not in report and "https://" not in report
    header = (out / "communes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "night_diagnosis_to_wire_road_or_air_min" in header
    assert "delta_night_min" in header


def test_simulate_bad_key_one_line(env, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {SCENARIOS_DIR / 'winter-peak.yaml'}\nname: bad\nsmur: {{availability: 1.5}}\n", encoding="utf-8")
    assert main(["simulate", str(path), "--out", str(tmp_path / "out"), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "resurcor: smur.availability = 1.5 is invalid: give a value ≤ 1.0."


def test_simulate_unknown_site_before_run(env, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {SCENARIOS_DIR / 'winter-peak.yaml'}\nname: bad\ncath_labs: {{closed: [{{site: annecy}}]}}\n", encoding="utf-8")
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("resurcor: cath_labs.closed.0.site : site « annecy » inconnu")
    assert "annecy-change" in err
    assert "appels simulés" not in err
    assert not (tmp_path / "out").exists()


def test_simulate_missing_file(env, tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "introuvable" in capsys.readouterr().err

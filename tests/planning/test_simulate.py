"""Monte-Carlo runs: determinism, population weighting, local and Dask runs alike, comparison."""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from dispatch.i18n import error_text
from dispatch.planning import run as run_module
from dispatch.planning.outputs import REPORT_HTML, SUMMARY_JSON, write_outputs
from dispatch.planning.prepare import prepare
from dispatch.planning.run import compare_runs, dask_client, run_scenario
from dispatch.planning.scenario import load_scenario, merge_overrides, read_scenario_data, validate_scenario
from dispatch.planning.engine import TRANSPORTS
from dispatch.planning.simulate import draw_calls, run_local
from geodata.errors import InputError

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
CALLS = 3000


def _variant(name: str, **overrides):
    data = read_scenario_data(SCENARIOS_DIR / f"{name}.yaml")
    return validate_scenario(merge_overrides(data, overrides))


def _same(first, second) -> bool:
    return all(np.array_equal(getattr(first, f.name), getattr(second, f.name)) for f in fields(first))


@pytest.fixture(scope="module")
def winter(context):
    return prepare(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"))


def test_same_seed_same_calls_and_results(context, winter):
    again = prepare(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"))
    first, second = draw_calls(winter, CALLS), draw_calls(again, CALLS)
    assert _same(first, second)
    assert _same(run_local(winter, first, workers=1), run_local(again, second, workers=1))


def test_other_seed_other_calls(context, winter):
    other = prepare(context, _variant("winter-peak", calls={"seed": 1}))
    assert not np.array_equal(draw_calls(winter, CALLS).commune, draw_calls(other, CALLS).commune)


def test_two_processes_match_one(winter):
    calls = draw_calls(winter, CALLS)
    assert _same(run_local(winter, calls, workers=1), run_local(winter, calls, workers=2))


def test_calls_follow_present_population(context):
    # With every bed full, calls per commune follow residents + beds.
    prepared = prepare(context, _variant("winter-peak", population={"occupancy_rate": 1.0}, period={"end": "2027-02-13"}))
    calls = draw_calls(prepared, 200_000)
    present = prepared.population.present(prepared.days[0]) * (prepared.commune_nodes >= 0)
    expected = present / present.sum()
    observed = np.bincount(calls.commune, minlength=len(present)) / len(calls)
    biggest = np.argsort(-expected)[:20]
    assert np.allclose(observed[biggest], expected[biggest], rtol=0.1)
    resort = [i for i, c in enumerate(prepared.population.communes) if c.insee == "73227"][0]
    assert expected[resort] > 5 * prepared.population.residents[resort] / prepared.population.residents.sum()


def test_tourists_raise_resort_share(context):
    with_tourists = prepare(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"))
    residents_only = prepare(context, _variant("winter-peak", population={"include_tourists": False}))
    resort = [i for i, c in enumerate(with_tourists.population.communes) if c.insee == "73227"][0]
    share = lambda p: float(np.mean(draw_calls(p, 50_000).commune == resort))  # noqa: E731
    assert share(with_tourists) > 3 * share(residents_only)


def test_night_calls_stay_in_hours(context):
    prepared = prepare(context, load_scenario(SCENARIOS_DIR / "night.yaml"))
    minutes = draw_calls(prepared, CALLS).minute
    assert ((minutes >= 22 * 60) | (minutes < 6 * 60)).all()


def test_summary_shares_add_up(context):
    run = run_scenario(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"), calls=CALLS, workers=1)
    assert sum(run.simulation["strategy_shares"].values()) == pytest.approx(1.0)
    assert run.simulation["strategy_shares"]["primary_pci"] > 0.5
    assert 0 < run.simulation["diagnosis_to_wire_min"]["median"] < 180
    within = run.coverage.summary["within"]["day_road"]
    assert within["60"]["present"] <= within["90"]["present"] <= within["120"]["present"] <= 1


def test_annecy_closed_at_night_comparison(context, tmp_path):
    base = run_scenario(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"), calls=CALLS, workers=1)
    closed = run_scenario(context, load_scenario(SCENARIOS_DIR / "annecy-cath-lab-closed-night.yaml"), calls=CALLS, workers=1)
    compare = compare_runs(base, closed)
    annecy = [i for i, c in enumerate(base.prepared.population.communes) if c.insee == "74010"][0]
    assert compare["delta_night_min"][annecy] > 0
    assert not np.any(compare["delta_day_min"])
    assert (compare["delta_night_min"] >= 0).all()
    assert compare["communes_losing_most"][0]["night_delta_min"] > 0
    night = closed.coverage.columns["night_destination"]
    assert "annecy-change" not in set(night)
    assert "annecy-change" in set(closed.coverage.columns["day_destination"])
    assert compare["coverage_share_delta"]["night_road"]["60"]["present"] < 0

    # The report escapes a title with an apostrophe once, and names the closed roads.
    object.__setattr__(closed.model, "title", "Pointe d'hiver sans Annecy")
    files = write_outputs(base, tmp_path, "fr", closed, compare)
    report = files[REPORT_HTML].read_text(encoding="utf-8")
    assert "Comparaison : Pointe d&#x27;hiver sans Annecy" in report
    summary = json.loads(files[SUMMARY_JSON].read_text(encoding="utf-8"))
    names = summary["network"]["closed_section_names"]["2"]
    assert names
    assert f"Routes fermées (mois 2, {len(names)} tronçons)" in report
    assert summary["compare"]["tables"]["coverage"]["rows"][0][0] == "jour · route"
    assert all("," in cell and "." not in cell for cell in summary["tables"]["coverage"]["rows"][0][2:])


def test_dask_local_cluster_matches_local(context, winter):
    calls = draw_calls(winter, CALLS)
    local = run_local(winter, calls, workers=1)
    from dispatch.planning.simulate import run_dask

    with dask_client("local", workers=2) as client:
        assert logging.getLogger("distributed").getEffectiveLevel() >= logging.WARNING
        assert client.scheduler_info()["services"].get("dashboard") != 8787
        distributed = run_dask(winter, calls, client)
    assert _same(local, distributed)


def test_unreachable_dask_names_option(monkeypatch):
    monkeypatch.setattr(run_module, "DASK_CONNECT_TIMEOUT_S", 1)
    with pytest.raises(InputError) as caught:
        with dask_client("tcp://127.0.0.1:8399"):
            pass
    assert caught.value.code == "planning_dask_unreachable"
    assert caught.value.field == "dask"
    assert "--dask local" in error_text(caught.value, "en", field_prefix="--")


def test_weather_grounding_removes_air(context):
    grounded = prepare(context, _variant("winter-peak", helicopters={"weather_grounded_probability": 1.0}))
    results = run_local(grounded, draw_calls(grounded, CALLS), workers=1)
    helicopter = [mode.value for mode in TRANSPORTS].index("helicopter")
    assert not np.any(results.transport == helicopter)


def test_grounded_bases_leave_road_coverage(context):
    model = load_scenario(SCENARIOS_DIR / "winter-peak.yaml")
    bases = [base.id for base in context.heli_bases]
    run = run_scenario(context, _variant("winter-peak", helicopters={"grounded": bases}), calls=500, workers=1)
    columns = run.coverage.columns
    assert "helicopter" not in set(columns["day_transport"])
    assert np.array_equal(columns["day_diagnosis_to_wire_road_min"], columns["day_diagnosis_to_wire_road_or_air_min"])
    assert model.helicopters.grounded == ()


def test_door_to_wire_override_adds_minutes(context):
    base = run_scenario(context, load_scenario(SCENARIOS_DIR / "winter-peak.yaml"), calls=500, workers=1)
    slower = run_scenario(context, _variant("winter-peak", chain={"door_to_wire_min": 50}), calls=500, workers=1)
    road_base = base.coverage.columns["day_diagnosis_to_wire_road_min"]
    road_slower = slower.coverage.columns["day_diagnosis_to_wire_road_min"]
    reached = road_base >= 0
    assert np.all(road_slower[reached] - road_base[reached] == 30)


def test_snow_slows_road_coverage(context):
    dry = run_scenario(context, _variant("winter-peak", roads={"snow_speed_factor": 1.0}), calls=500, workers=1)
    snow = run_scenario(context, _variant("winter-peak", roads={"snow_speed_factor": 0.72}), calls=500, workers=1)
    column = "day_diagnosis_to_wire_road_min"
    assert (snow.coverage.columns[column] >= dry.coverage.columns[column]).all()
    assert snow.coverage.summary["within"]["day_road"]["90"]["present"] < dry.coverage.summary["within"]["day_road"]["90"]["present"]


def test_other_profile_decides(context):
    legacy = prepare(context, _variant("winter-peak", profile="fr-has2006"))
    assert legacy.profile.name == "fr-has2006"
    assert legacy.service.profile is legacy.profile
    results = run_local(legacy, draw_calls(legacy, CALLS), workers=1)
    assert (results.strategy >= 0).all()

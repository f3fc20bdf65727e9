"""Scenario files: extends and overrides, and every bad file rejected with the key that is wrong."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from dispatch.i18n import error_text
from dispatch.planning.prepare import prepare
from dispatch.planning.scenario import ScenarioError, load_scenario
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"

EXAMPLES = sorted(SCENARIOS_DIR.glob("*.yaml"))


def test_examples_exist():
    names = {path.stem for path in EXAMPLES}
    assert {"winter-peak", "summer-peak", "off-season", "night", "annecy-cath-lab-closed-night"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_validate_and_prepare(path, context):
    scenario = load_scenario(path)
    prepared = prepare(context, scenario)
    assert prepared.days[0] == scenario.period.start
    assert (prepared.commune_nodes >= 0).mean() > 0.95


def test_annecy_variant_is_five_lines():
    path = SCENARIOS_DIR / "annecy-cath-lab-closed-night.yaml"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) <= 5


def test_extends_overrides_keys():
    base = load_scenario(SCENARIOS_DIR / "winter-peak.yaml")
    variant = load_scenario(SCENARIOS_DIR / "annecy-cath-lab-closed-night.yaml")
    assert variant.period == base.period
    assert variant.smur == base.smur
    assert variant.cath_labs.closed[0].site == "annecy-change"
    assert variant.cath_labs.closed[0].start == time(18, 30)
    assert variant.title is None
    assert base.cath_labs.closed == ()


def test_extends_merges_nested_mappings(write_scenario):
    path = write_scenario("extends: {examples}/winter-peak.yaml\nname: snowy\nroads: {snow_speed_factor: 0.72}\n")
    scenario = load_scenario(path)
    assert scenario.roads.snow_speed_factor == 0.72
    assert scenario.roads.seasonal_closures is True
    assert scenario.period.start == date(2027, 2, 13)


BAD_FILES = [
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-01}\n", "scenario_period_order", "period"),
    ("name: x\n", "scenario_missing_key", "period"),
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14}\nsmur: {availabilty: 0.9}\n", "scenario_unknown_key", "smur.availabilty"),
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14}\nsmur: {availability: 1.5}\n", "scenario_less_than_equal", "smur.availability"),
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14}\ncath_labs: {closed: [{site: a, from: '20:00'}]}\n", "scenario_closure_bounds", "cath_labs.closed.0"),
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14}\ncalls: {hour_weights: [1, 2]}\n", "scenario_hour_weights_count", "calls.hour_weights"),
    ("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14}\ncalls: {onset_to_call: {median_min: 90, p90_min: 60}}\n", "scenario_onset_order", "calls.onset_to_call"),
    ("name: X Y\nperiod: {start: 2027-02-13, end: 2027-02-14}\n", "scenario_string_pattern_mismatch", "name"),
    ("- a\n- b\n", "scenario_not_mapping", "scenario"),
    ("name: x\nperiod: [unclosed\n", "scenario_yaml", "scenario"),
    ("extends: missing.yaml\nname: x\n", "scenario_not_found", "extends"),
    ("name: x\nperiod: {start: 2027-02-30, end: 2027-03-02}\n", "scenario_date_from_datetime_parsing", "period.start"),
]


def test_yaml_syntax_error_one_french_line(write_scenario):
    path = write_scenario("name: x\nperiod: [unclosed\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    french = error_text(caught.value, "fr")
    assert french.count(str(path)) == 1
    assert "ligne 3, colonne 1" in french
    assert "\n" not in french
    assert "expected" not in french


@pytest.mark.parametrize(("text", "code", "field"), BAD_FILES, ids=[case[1] + "-" + case[2] for case in BAD_FILES])
def test_bad_file_names_key(write_scenario, text, code, field):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(text))
    assert caught.value.code == code
    assert caught.value.field == field
    french = error_text(caught.value, "fr")
    english = error_text(caught.value, "en")
    assert field in french or code in ("scenario_not_mapping", "scenario_yaml", "scenario_not_found")
    assert french != english


def test_extends_loop_rejected(write_scenario):
    write_scenario("extends: b.yaml\nname: a\n", "a.yaml")
    path = write_scenario("extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.code == "scenario_extends_loop"


@pytest.mark.parametrize(
    ("extra", "code", "field"),
    [
        ("cath_labs: {closed: [{site: nowhere}]}", "scenario_unknown_site", "cath_labs.closed.0.site"),
        ("smur: {closed: [annecy-change-typo]}", "scenario_unknown_site", "smur.closed.0"),
        ("cath_labs: {closed: [{site: smur-la-mure}]}", "scenario_site_not_cath_lab", "cath_labs.closed.0.site"),
        ("helicopters: {grounded: [smur-la-mure]}", "scenario_site_not_heli_base", "helicopters.grounded.0"),
        ("roads: {closed_refs: [Z999]}", "scenario_unknown_road", "roads.closed_refs"),
        ("region: elsewhere", "scenario_region", "region"),
        ("profile: esc2099", "scenario_unknown_profile", "profile"),
        ("population: {occupancy_period: no_such_period}", "population_unknown_period", "population.occupancy_period"),
    ],
)
def test_region_checks_name_key(write_scenario, context, extra, code, field):
    path = write_scenario(f"extends: {{examples}}/winter-peak.yaml\nname: bad\n{extra}\n")
    with pytest.raises(ScenarioError) as caught:
        prepare(context, load_scenario(path))
    assert caught.value.code == code
    assert caught.value.field == field
    assert "{" not in error_text(caught.value, "en")


def test_unquoted_clock_time_rejected(write_scenario):
    path = write_scenario("name: x\nperiod: {start: 2027-02-13, end: 2027-02-14, hours: [22:00, '06:00']}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field == "period.hours.0"
    assert '"22:00"' in error_text(caught.value, "en")


def test_bound_error_translated(write_scenario):
    path = write_scenario("extends: {examples}/winter-peak.yaml\nname: x\nsmur: {availability: 1.5}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.code == "scenario_less_than_equal"
    assert error_text(caught.value, "fr") == "smur.availability = 1.5 invalide : donnez une valeur ≤ 1.0."
    assert error_text(caught.value, "en") == "smur.availability = 1.5 is invalid: give a value ≤ 1.0."


def test_road_in_several_departements_needs_one(write_scenario, context):
    path = write_scenario("extends: {examples}/winter-peak.yaml\nname: bad\nroads: {closed_refs: [D902]}\n")
    with pytest.raises(ScenarioError) as caught:
        prepare(context, load_scenario(path))
    assert caught.value.code == "scenario_road_departements"
    assert caught.value.field == "roads.closed_refs"
    text = error_text(caught.value, "en")
    assert "73, 74" in text and "D902@73" in text and "{" not in text.replace("{ref", "")


@pytest.mark.parametrize("ref", ["D902@73", '{ref: D902, departement: "73"}'])
def test_scoped_road_closes_its_departement_only(write_scenario, context, ref):
    path = write_scenario(f"extends: {{examples}}/winter-peak.yaml\nname: scoped\nroads: {{seasonal_closures: false, closed_refs: [{ref}]}}\n")
    prepared = prepare(context, load_scenario(path))
    road = next(iter(prepared.roads.values()))
    assert road.closed_names
    assert all("D902" in name and name.endswith("(73)") for name in road.closed_names)


def test_scoped_road_outside_its_departement_rejected(write_scenario, context):
    path = write_scenario("extends: {examples}/winter-peak.yaml\nname: bad\nroads: {closed_refs: [D902@38]}\n")
    with pytest.raises(ScenarioError) as caught:
        prepare(context, load_scenario(path))
    assert caught.value.code == "scenario_unknown_road"


def test_site_of_wrong_kind_named(write_scenario, context):
    path = write_scenario("extends: {examples}/winter-peak.yaml\nname: bad\ncath_labs: {closed: [{site: smur-la-mure}]}\n")
    with pytest.raises(ScenarioError) as caught:
        prepare(context, load_scenario(path))
    french = error_text(caught.value, "fr")
    assert "n'a pas de salle de cathétérisme" in french
    assert "annecy-change" in french
    assert "inconnu" not in french

"""End-to-end recommendations on the region's network, sites and profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from geodata.errors import InputError, OutsideRegionError
from dispatch.calls import parse_call
from dispatch.recommend import recommend
from dispatch.resources import ResourceKind, ResourceSnapshot, ResourceState

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
STRATEGIES = {"primary_pci", "fibrinolysis_then_transfer", "pci_centre_no_lysis", "no_emergency_reperfusion"}


def _answer(context, road_only=False, **fields):
    """Recommend a call; ``road_only`` grounds every helicopter, as bad weather would."""
    fields.setdefault("now", NOW)
    call = parse_call(context.region, places=context.places, **fields)
    return recommend(context, call, resources=grounded_helicopters(context, call.at.value) if road_only else None)


def grounded_helicopters(context, at):
    """A snapshot where every helicopter base is grounded by weather, set at ``at``."""
    states = {
        (ResourceKind.HELICOPTER, base.id): ResourceState(ResourceKind.HELICOPTER, base.id, "grounded_weather", "test desk", at)
        for base in context.heli_bases
    }
    return ResourceSnapshot(states=states, taken_at=at)


def test_grenoble_primary_pci_in_grenoble(context):
    answer = _answer(context, commune="Grenoble", onset="2026-12-04T17:00+01:00", at="2026-12-04T18:00+01:00")
    assert answer["strategy"] == "primary_pci"
    assert answer["destination"]["id"] in {"grenoble-chu-nord", "grenoble-clinique-belledonne"}
    assert answer["transport"] == "road"
    assert 30 <= answer["diagnosis_to_wire_min"] <= 70


def test_chamonix_reaches_a_cath_lab_within_two_hours(context):
    answer = _answer(context, commune="chamonix", onset="2026-12-04T17:00+01:00", at="2026-12-04T18:00+01:00")
    assert answer["strategy"] == "primary_pci"
    assert answer["destination"]["id"] in {"annecy-change", "geneve-hug"}
    assert 80 <= answer["diagnosis_to_wire_min"] <= 120


def test_val_disere_in_winter_gets_lysis(context):
    answer = _answer(context, road_only=True, commune="val disere", onset="2026-01-15T09:00+01:00", at="2026-01-15T10:00+01:00")
    assert answer["strategy"] == "fibrinolysis_then_transfer"
    assert answer["diagnosis_to_wire_min"] > 120
    assert answer["bolus_within_min"] <= 10
    assert "diagnosis_to_bolus" not in answer["chain_min"]
    assert sum(answer["chain_min"].values()) == answer["call_to_arrival_min"]
    assert {r["id"] for r in answer["rules"]} >= {"reperfusion_window", "pci_delay_exceeded", "fibrinolysis"}


def test_answer_has_every_documented_key(context):
    answer = _answer(context, lat=45.1885, lon=5.7245, onset="2026-12-04T17:00+01:00")
    for key in ("strategy", "destination", "transport", "chain_min", "diagnosis_to_wire_min", "alternatives", "rules", "warnings", "network"):
        assert key in answer
    assert answer["strategy"] in STRATEGIES
    assert set(answer["destination"]) == {"id", "finess", "name", "lat", "lon"}
    assert set(answer["chain_min"]) >= {"dispatch", "smur_to_patient", "fmc_to_diagnosis", "on_scene", "transport", "door_to_wire"}
    assert answer["network"]["source"] == "skeleton"
    assert all(rule["source"] for rule in answer["rules"])


def test_chain_sums_to_diagnosis_to_wire(context):
    answer = _answer(context, lat=45.1885, lon=5.7245, onset="2026-12-04T17:00+01:00")
    chain = answer["chain_min"]
    assert chain["on_scene"] + chain["transport"] + chain["door_to_wire"] == answer["diagnosis_to_wire_min"]


def test_alternatives_sorted_fastest_first(context):
    answer = _answer(context, lat=45.5646, lon=5.9178, onset="2026-12-04T17:00+01:00")
    times = [a["diagnosis_to_wire_min"] for a in answer["alternatives"]]
    assert times == sorted(times)
    road = [a for a in answer["alternatives"] if a["transport"] == "road"]
    assert len(road) == len(context.region.sites.cath_labs)


def test_skeleton_answer_warns_network_approximate(context):
    answer = _answer(context, lat=45.1885, lon=5.7245, onset="2026-12-04T17:00+01:00")
    assert "network_approximate" in {w["code"] for w in answer["warnings"]}


def test_unknown_onset_warns(context):
    answer = _answer(context, lat=45.1885, lon=5.7245)
    assert "onset_unknown" in {w["code"] for w in answer["warnings"]}
    assert answer["patient"]["symptom_min_at_diagnosis"] is None


def test_naive_time_warns_assumed_local(context):
    answer = _answer(context, lat=45.1885, lon=5.7245, onset="2026-12-04T17:00", at="2026-12-04T18:00")
    codes = [w for w in answer["warnings"] if w["code"] == "time_assumed_local"]
    assert {w["field"] for w in codes} == {"onset", "at"}
    assert answer["patient"]["at"] == "2026-12-04T18:00:00+01:00"


def test_english_texts(context):
    answer = _answer(context, lat=45.1885, lon=5.7245, onset="2026-12-04T17:00+01:00", lang="en")
    assert answer["strategy_text"] == "Primary PCI"
    assert re.match(r"Symptoms for 2 h \d\d \(≤ 12 h\): reperfusion indicated", answer["rules"][0]["text"])
    assert "sans" not in " ".join(w["text"] for w in answer["warnings"])


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(46.2044, 6.1432), (45.7640, 4.8357), (48.8566, 2.3522)],
)
def test_point_outside_region_is_error(context, lat, lon):
    with pytest.raises(OutsideRegionError) as caught:
        _answer(context, lat=lat, lon=lon)
    assert caught.value.code == "outside_region"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"lat": "nan", "lon": 5.7}, "lat", "latitude_range"),
        ({"lat": 45.2, "lon": "inf"}, "lon", "longitude_range"),
        ({"lat": 95, "lon": 5.7}, "lat", "latitude_range"),
        ({"lat": 45.2, "lon": -181}, "lon", "longitude_range"),
        ({"lat": 45.2}, "lon", "field_missing"),
        ({}, "lat", "location_missing"),
        ({"commune": "Atlantis"}, "commune", "commune_unknown"),
        ({"lat": 45.19, "lon": 5.72, "onset": "2026-12-04T20:00+01:00", "at": "2026-12-04T19:00+01:00"}, "onset", "onset_after_call"),
        ({"lat": 45.19, "lon": 5.72, "age": 130}, "age", "age_range"),
        ({"lat": 45.19, "lon": 5.72, "contraindication": "maybe"}, "contraindication", "contraindication_invalid"),
    ],
)
def test_bad_input_names_field(context, fields, field, code):
    with pytest.raises(InputError) as caught:
        _answer(context, **fields)
    assert caught.value.field == field
    assert caught.value.code == code


def test_shock_goes_to_pci_whatever_the_delay(context):
    answer = _answer(context, commune="val disere", onset="2026-01-15T09:00+01:00", at="2026-01-15T10:00+01:00", shock=True)
    assert answer["strategy"] == "primary_pci"
    assert "cardiogenic_shock" in {r["id"] for r in answer["rules"]}


def test_elderly_lysis_is_half_dose(context):
    answer = _answer(context, road_only=True, commune="val disere", onset="2026-01-15T09:00+01:00", at="2026-01-15T10:00+01:00", age=80)
    assert answer["lysis_dose"] == "half_dose_tenecteplase"


def _codes(answer):
    return {w["code"] for w in answer["warnings"]}


def test_seasonal_smur_base_only_in_season(context):
    # The Alpe d'Huez antenna runs mid-December to early May and in July-August.
    winter = _answer(context, commune="Huez", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    autumn = _answer(context, commune="Huez", onset="2026-10-14T08:30+02:00", at="2026-10-14T10:00+02:00")
    assert winter["smur"]["id"] == "alpe-d-huez-altiport"
    assert autumn["smur"]["id"] != "alpe-d-huez-altiport"


def test_unverified_smur_is_flagged(context):
    answer = _answer(context, commune="Chamonix", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert answer["smur"]["id"] == "smur-chamonix-hpmb"
    assert "unverified_smur" in _codes(answer)


def test_cross_border_destination_is_flagged(context):
    answer = _answer(context, road_only=True, commune="Chamonix", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert answer["destination"]["id"] == "geneve-hug"
    assert answer["destination"]["finess"] is None
    assert "cross_border_destination" in _codes(answer)


def test_unconfirmed_cath_labs_are_listed(context):
    answer = _answer(context, commune="Grenoble", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    warning = next(w for w in answer["warnings"] if w["code"] == "cath_labs_unconfirmed")
    assert warning["count"] == 5
    assert "Groupe Hospitalier Mutualiste de Grenoble" in warning["text"]


def test_call_time_far_from_now_is_flagged(context):
    answer = _answer(context, commune="Grenoble", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert "call_time_far" in _codes(answer)


def test_commune_position_stated(context):
    answer = _answer(context, commune="Villaz", onset="2026-12-04T17:00+01:00")
    assert answer["patient"]["located_by"] == "commune"
    assert "located_by_commune" in _codes(answer)


def test_shock_beyond_48h_texts_agree(context):
    answer = _answer(context, commune="Grenoble", onset="2026-12-01T10:00+01:00", at="2026-12-04T10:00+01:00", shock=True)
    assert answer["strategy"] == "primary_pci"
    window = next(r for r in answer["rules"] if r["id"] == "beyond_late_window")
    assert "chez le patient stable" in window["text"]


def test_resort_name_locates_at_the_resort(context):
    answer = _answer(context, commune="Val Thorens", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert answer["patient"]["located_by"] == "place"
    assert answer["patient"]["place"] == "Val Thorens"
    assert answer["patient"]["commune"]["name"] == "Les Belleville"


def test_coordinates_name_their_commune(context):
    answer = _answer(context, lat=45.9237, lon=6.8694, onset="2026-12-04T17:00+01:00")
    assert answer["patient"]["located_by"] == "coordinates"
    assert answer["patient"]["commune"]["name"] == "Chamonix-Mont-Blanc"


def test_onset_as_clock_time_uses_last_occurrence(context):
    same_day = _answer(context, commune="Grenoble", onset="08:30", at="2026-02-14T10:00+01:00")
    previous_day = _answer(context, commune="Grenoble", onset="21h00", at="2026-02-14T10:00+01:00")
    assert same_day["patient"]["onset"] == "2026-02-14T08:30:00+01:00"
    assert previous_day["patient"]["onset"] == "2026-02-13T21:00:00+01:00"
    assert "onset_from_clock_time" in _codes(same_day)


def test_substring_name_is_not_a_commune(context):
    with pytest.raises(InputError) as caught:
        _answer(context, commune="Paris")
    assert caught.value.code == "commune_unknown_suggest"
    assert "Seyssinet-Pariset" in caught.value.params["suggestions"]


def test_winter_pass_commune_gets_open_road(context):
    answer = _answer(context, commune="Le Grand-Bornand", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert answer["alternatives"]
    assert answer["smur"] is not None


def test_nearest_smur_counts_its_access_leg(context):
    answer = _answer(context, commune="Villaz", onset="2026-02-14T08:30+01:00", at="2026-02-14T10:00+01:00")
    assert answer["smur"]["id"] in {"annecy-change", "annecy-meythet-base"}


def test_rule_sources_follow_language(context):
    french = _answer(context, commune="Grenoble", onset="08:30", at="2026-02-14T10:00+01:00")
    english = _answer(context, commune="Grenoble", onset="08:30", at="2026-02-14T10:00+01:00", lang="en")
    assert "classe I" in french["rules"][0]["source"]
    assert "class I" in english["rules"][0]["source"]


def test_foreign_destination_shows_domestic_plan(context):
    answer = _answer(context, road_only=True, commune="Châtel", onset="08:30", at="2026-02-14T10:00+01:00")
    assert answer["destination"]["id"] == "geneve-hug"
    assert answer["domestic_alternative"]["destination"]["id"] == "annecy-change"
    assert "foreign_refusal_changes_strategy" in _codes(answer)


def test_close_decision_is_flagged(context):
    answer = _answer(context, road_only=True, commune="Châtel", onset="08:30", at="2026-02-14T10:00+01:00")
    assert abs(answer["decisive_delay"]["value_min"] - 120) <= 5
    assert "close_to_threshold" in _codes(answer)


def test_legacy_profile_shows_its_own_delay(settings):
    from dispatch.service import load_context

    legacy = load_context(settings.model_copy(update={"profile": "fr-has2006"}))
    answer = _answer(legacy, commune="Moûtiers", onset="06:30", at="2026-02-14T10:00+01:00")
    assert answer["decisive_delay"]["name"] == "fmc_to_wire"
    assert answer["decisive_delay"]["threshold_min"] == 90


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"commune": "Beaufort"}, "commune_ambiguous"),
        ({"commune": "Val d'Isère", "onset": "10:05", "at": "2026-02-14T10:00+01:00"}, "onset_clock_after_call"),
        ({"commune": "Grenoble", "onset": "2026-02-14"}, "time_date_only"),
    ],
)
def test_guesses_are_rejected(context, fields, code):
    with pytest.raises(InputError) as caught:
        _answer(context, **fields)
    assert caught.value.code == code


def test_resort_prefix_finds_the_resort(context):
    answer = _answer(context, commune="Les Arcs", onset="08:30", at="2026-02-14T10:00+01:00")
    assert answer["patient"]["place"] == "Les Arcs 1800"


def test_point_in_border_margin_is_flagged(context):
    answer = _answer(context, lat=46.108, lon=5.825, onset="2026-12-04T17:00+01:00")
    assert answer["patient"]["commune"] is None
    assert "near_border" in _codes(answer)


def test_range_brackets_the_estimate(context):
    answer = _answer(context, commune="Grenoble", onset="08:30", at="2026-02-14T10:00+01:00")
    low, high = answer["diagnosis_to_wire_range_min"]
    assert low <= answer["diagnosis_to_wire_min"] <= high
    assert low < high


def test_range_spanning_threshold_is_flagged(context):
    answer = _answer(context, road_only=True, commune="Chamonix", onset="08:30", at="2026-02-14T10:00+01:00")
    low, high = answer["diagnosis_to_wire_range_min"]
    assert low <= 120 < high
    assert "threshold_within_range" in _codes(answer)

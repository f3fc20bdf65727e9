"""Air and road plans side by side, under live resource states, day and night."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.calls import parse_call
from dispatch.recommend import recommend
from dispatch.render import render_text
from dispatch.resources import ResourceKind, ResourceSnapshot, ResourceState

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
NOON = "2026-12-04T12:00+01:00"
EVENING = "2026-12-04T21:00+01:00"


def _answer(context, at, resources=None, **fields):
    fields.setdefault("commune", "Chamonix")
    fields.setdefault("onset", "11:00" if at == NOON else "20:00")
    call = parse_call(context.region, places=context.places, now=NOW, at=at, **fields)
    return recommend(context, call, resources=resources)


def _snapshot(at, *states):
    moment = datetime.fromisoformat(at)
    records = {}
    for kind, unit_id, state, *until in states:
        record = ResourceState(kind, unit_id, state, "desk-1", moment, until=datetime.fromisoformat(until[0]) if until else None)
        records[record.key] = record
    return ResourceSnapshot(states=records, taken_at=moment)


def _base(answer, base_id):
    return next(b for b in answer["air"]["bases"] if b["id"] == base_id)


def _codes(answer):
    return {w["code"] for w in answer["warnings"]}


def test_chamonix_at_noon_flies(context):
    answer = _answer(context, NOON)
    assert answer["transport"] == "helicopter"
    assert answer["air"]["chosen"] is True
    assert answer["air"]["reason_code"] == "air_faster"
    assert answer["helicopter"]["base_id"] == "chamonix-dz-des-bois"


def test_air_chain_sums_to_its_totals(context):
    answer = _answer(context, NOON)
    chain = answer["chain_min"]
    after_diagnosis = sum(v for k, v in chain.items() if k not in {"dispatch", "smur_to_patient", "fmc_to_diagnosis"})
    assert after_diagnosis == answer["diagnosis_to_wire_min"]
    assert set(chain) >= {"helicopter_wait", "on_scene", "flight", "landing_to_lab", "door_to_wire"}
    low, high = answer["diagnosis_to_wire_range_min"]
    assert low <= answer["diagnosis_to_wire_min"] <= high


def test_day_only_base_grounded_after_dusk(context):
    noon = _answer(context, NOON)
    evening = _answer(context, EVENING)
    assert _base(noon, "chamonix-dz-des-bois")["available"] is True
    assert _base(evening, "chamonix-dz-des-bois")["reason"] == "night_unknown"
    assert _base(evening, "annecy-meythet-base")["reason"] == "night_flight"
    assert evening["helicopter"]["night"] is True
    assert evening["helicopter"]["activation_min"] > noon["helicopter"]["activation_min"]


def test_mission_ending_after_dusk_is_refused(context):
    # Lift-off in daylight at 16:50, landing after civil dusk (about 17:22 at Chamonix).
    answer = _answer(context, "2026-12-04T16:50+01:00", onset="16:00")
    assert _base(answer, "chamonix-dz-des-bois")["reason"] == "dusk_before_landing"


def test_grounded_base_and_closed_lab(context):
    before = _answer(context, EVENING)
    assert before["destination"]["id"] == "annecy-change"
    assert before["helicopter"]["base_id"] == "annecy-meythet-base"

    resources = _snapshot(
        EVENING,
        (ResourceKind.HELICOPTER, "annecy-meythet-base", "grounded_weather"),
        (ResourceKind.CATH_LAB, "annecy-change", "closed", "2026-12-05T08:00+01:00"),
    )
    after = _answer(context, EVENING, resources)
    assert after["destination"]["id"] != "annecy-change"
    assert all(p["destination"]["id"] != "annecy-change" for p in after["alternatives"])
    assert _base(after, "annecy-meythet-base")["reason"] == "state_grounded_weather"
    assert after["resources"]["closed_cath_labs"][0]["id"] == "annecy-change"
    assert after["resources"]["closed_cath_labs"][0]["set_by"] == "desk-1"
    assert "cath_lab_unavailable" in _codes(after)
    text = render_text(after, "fr")
    assert "fermée, jusqu'à 08:00" in text
    assert "Voie aérienne" in text


def test_closed_cath_lab_reopens_after_its_until(context):
    resources = _snapshot(NOON, (ResourceKind.CATH_LAB, "annecy-change", "closed", "2026-12-04T11:00+01:00"))
    answer = _answer(context, NOON, resources)
    assert answer["resources"]["closed_cath_labs"] == []


def test_engaged_smur_passed_over(context):
    first = _answer(context, NOON)
    nearest = first["smur"]["id"]
    resources = _snapshot(NOON, (ResourceKind.SMUR, nearest, "engaged"))
    answer = _answer(context, NOON, resources)
    assert answer["smur"]["id"] != nearest
    assert answer["smur"]["passed_over"][0]["id"] == nearest
    assert answer["smur"]["passed_over"][0]["extra_min"] > 0
    assert "smur_passed_over" in _codes(answer)


def test_no_smur_available_is_said(context):
    resources = _snapshot(NOON, *((ResourceKind.SMUR, site.id, "off_duty") for site in context.region.sites.smur_bases))
    answer = _answer(context, NOON, resources)
    assert answer["smur"]["none_available"] is True
    assert "no_smur_available" in _codes(answer)


def test_stale_state_reads_unknown_never_available(context):
    old = _snapshot("2026-12-03T08:00+01:00", (ResourceKind.HELICOPTER, "chamonix-dz-des-bois", "available"))
    stale = ResourceSnapshot(states=old.states, taken_at=datetime.fromisoformat(NOON))
    answer = _answer(context, NOON, stale)
    assert _base(answer, "chamonix-dz-des-bois")["state"] == "unknown"
    assert "states_unconfirmed" in _codes(answer)


def test_unreachable_store_is_said(context):
    fresh = _snapshot(NOON, (ResourceKind.HELICOPTER, "chamonix-dz-des-bois", "available"))
    down = ResourceSnapshot(states=fresh.states, taken_at=fresh.taken_at, store="redis", reachable=False)
    answer = _answer(context, NOON, down)
    assert answer["resources"]["reachable"] is False
    assert "resources_unreachable" in _codes(answer)
    assert _base(answer, "chamonix-dz-des-bois")["state"] == "unknown"


def test_not_landable_adds_road_leg(context):
    landable = _answer(context, NOON)
    not_landable = _answer(context, NOON, landable=False)
    best_air = not_landable["air"]["best_air"]
    assert best_air["chain_min"]["landing_zone_transfer"] > 0
    assert best_air["helicopter"]["first_on_scene"] is False
    assert best_air["diagnosis_to_wire_min"] > landable["air"]["best_air"]["diagnosis_to_wire_min"]


def test_every_helicopter_grounded_gives_road_and_says_why(context):
    resources = _snapshot(NOON, *((ResourceKind.HELICOPTER, base.id, "grounded_weather") for base in context.heli_bases))
    answer = _answer(context, NOON, resources)
    assert answer["transport"] == "road"
    assert answer["air"]["reason_code"] == "no_base"
    assert answer["helicopter"] is None


def test_off_season_base_is_not_used(context):
    # Courchevel flies December to April and in July-August, not in October.
    answer = _answer(context, "2026-10-14T12:00+02:00", commune="Courchevel", onset="11:00")
    assert _base(answer, "courchevel-altiport")["reason"] == "off_season"


def test_lab_without_helipad_has_no_air_plan(context):
    answer = _answer(context, NOON, commune="Grenoble")
    air_labs = {p["destination"]["id"] for p in answer["alternatives"] if p["transport"] == "helicopter"}
    assert "grenoble-clinique-belledonne" not in air_labs
    assert "grenoble-clinique-belledonne" in answer["air"]["labs_without_helipad"]


def test_unverified_heli_base_is_flagged(context):
    answer = _answer(context, NOON)
    assert answer["helicopter"]["base_id"] == "chamonix-dz-des-bois"
    assert "unverified_heli_base" in _codes(answer)


def test_stale_closed_lab_stays_out(context):
    old = _snapshot("2026-12-03T08:00+01:00", (ResourceKind.CATH_LAB, "annecy-change", "closed"))
    stale = ResourceSnapshot(states=old.states, taken_at=datetime.fromisoformat(EVENING))
    answer = _answer(context, EVENING, stale)
    assert answer["destination"]["id"] != "annecy-change"
    assert answer["resources"]["closed_cath_labs"][0]["stale"] is True
    assert "cath_lab_unavailable_unconfirmed" in _codes(answer)


def test_unreachable_store_keeps_last_known_closed_lab_out(context):
    fresh = _snapshot(EVENING, (ResourceKind.CATH_LAB, "annecy-change", "closed"))
    down = ResourceSnapshot(states=fresh.states, taken_at=fresh.taken_at, store="redis", reachable=False)
    answer = _answer(context, EVENING, down)
    assert answer["destination"]["id"] != "annecy-change"
    assert "resources_unreachable" in _codes(answer)


def test_state_with_until_holds_past_the_staleness_limit(context):
    old = _snapshot("2026-12-03T08:00+01:00", (ResourceKind.CATH_LAB, "annecy-change", "closed", "2026-12-05T08:00+01:00"))
    later = ResourceSnapshot(states=old.states, taken_at=datetime.fromisoformat(EVENING))
    answer = _answer(context, EVENING, later)
    assert answer["resources"]["closed_cath_labs"][0]["stale"] is False
    assert "cath_lab_unavailable" in _codes(answer)


def test_grounded_base_is_named_in_the_text(context):
    resources = _snapshot(EVENING, (ResourceKind.HELICOPTER, "annecy-meythet-base", "grounded_weather"))
    answer = _answer(context, EVENING, resources)
    assert "Dragon 74" in answer["air"]["unavailable_text"]
    assert "Hélicoptères indisponibles" in render_text(answer, "fr")


def test_unknown_state_base_says_unconfirmed(context):
    answer = _answer(context, NOON)
    assert "état non confirmé" in _base(answer, "chamonix-dz-des-bois")["reason_text"]

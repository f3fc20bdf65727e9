"""The recommendation: plans for every cath lab, the profile's rules, and the explained answer.

The answer is a plain dict, identical for the command line and the HTTP API: JSON keys
in English, texts in the caller's language.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from geodata.errors import OutsideRegionError
from routing.scenario import RoadScenario
from routing.snap import Snap, Snapper
from protocols import DecisionInput, PciPlanTimes, Strategy, decide
from dispatch.calls import CallInput
from dispatch.i18n import translate
from dispatch.plans import (
    diagnosis_to_wire_range,
    whole_minutes,
    CALL_TO_DIAGNOSIS_STEPS,
    Plan,
    lysis_plan,
    nearest_smur,
    road_plans,
)
from dispatch.service import ServiceContext
from dispatch.timeparse import minutes_between

logger = logging.getLogger(__name__)

# A decisive delay this close to its threshold can flip with the network's approximation
# or the day's traffic, so the answer warns that the decision is close.
CLOSE_TO_THRESHOLD_MIN = 5

# A call time further than this from the clock is a simulation or a typing error, so the
# answer warns about it: live calls are answered in real time.
CALL_TIME_DRIFT = timedelta(hours=24)


def _decide(context: ServiceContext, call: CallInput, plan: Plan | None, symptom_at_diagnosis, symptom_at_fmc):
    """Apply the profile's rules with ``plan`` as the fastest PCI plan."""
    return decide(
        DecisionInput(
            symptom_min_at_diagnosis=symptom_at_diagnosis,
            symptom_min_at_fmc=symptom_at_fmc,
            patient=call.patient,
            fastest_pci=PciPlanTimes(
                plan_id=plan.destination.site.name,
                diagnosis_to_wire_min=plan.diagnosis_to_wire_min,
                fmc_to_wire_min=plan.diagnosis_to_wire_min + plan.chain_min["fmc_to_diagnosis"],
            )
            if plan
            else None,
        ),
        context.profile,
    )


def _decisive_delay(context: ServiceContext, plan: Plan | None) -> tuple[str, int | None, float | None]:
    """Return the delay the profile compares with its threshold: its name, value and threshold.

    ESC profiles compare diagnosis to wire crossing; the legacy French rule compares first
    medical contact to wire crossing.
    """
    thresholds = context.profile.thresholds
    if "fmc_to_wire_max_min" in thresholds:
        value = plan.diagnosis_to_wire_min + plan.chain_min["fmc_to_diagnosis"] if plan else None
        return "fmc_to_wire", value, thresholds["fmc_to_wire_max_min"].value
    threshold = thresholds["pci_delay_max_min"].value if "pci_delay_max_min" in thresholds else None
    return "diagnosis_to_wire", plan.diagnosis_to_wire_min if plan else None, threshold


def _warning(code: str, lang: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "text": translate(f"warning.{code}", lang, **params), **params}


def _static_warning(context: ServiceContext, code: str, lang: str, **params: Any) -> dict[str, Any]:
    """Return a warning whose text depends only on the loaded data, built once per language.

    The cache lives on the context, so a reloaded context builds its own. The answer gets
    a copy, so a caller that edits its answer cannot change the next one.
    """
    cache = context.__dict__.setdefault("_static_warnings", {})
    cached = cache.get((code, lang))
    if cached is None:
        cached = _warning(code, lang, **params)
        cache[(code, lang)] = cached
    return dict(cached)


def _site_json(plan: Plan) -> dict[str, Any]:
    site = plan.destination.site
    return {"id": site.id, "finess": site.finess, "name": site.name, "lat": site.lat, "lon": site.lon}


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "destination": _site_json(plan),
        "transport": plan.mode.value,
        "diagnosis_to_wire_min": plan.diagnosis_to_wire_min,
        "call_to_wire_min": plan.call_to_wire_min,
        "transport_min": plan.chain_min["transport"],
        "transport_km": round(plan.transport_km, 1),
        "door_to_wire_min": plan.chain_min["door_to_wire"],
        "chain_min": plan.chain_min,
    }


def locate(context: ServiceContext, call: CallInput, scenario: RoadScenario) -> Snap:
    """Snap the call's point to the roads open in ``scenario``; raise OutsideRegionError outside the region or coverage."""
    region = context.region
    x, y = region.project(call.lon, call.lat)
    if not region.contains_xy(x, y):
        raise OutsideRegionError(
            "outside_region",
            f"the point ({call.lat}, {call.lon}) is outside the region {region.id}",
            field="lat",
            lat=call.lat,
            lon=call.lon,
            region=region.name.get(call.lang, region.id),
        )
    snapper = context.router.snapper_for(scenario)
    if call.place_node is not None and call.place_node in snapper.candidate_set:
        return Snap(node=call.place_node, distance_m=0.0)
    if call.located_by == "commune" and call.commune is not None:
        snap = _snap_in_commune(context, call, snapper)
        if snap is not None:
            return snap

    # One projection serves the boundary test and the snap when both use the same CRS.
    if context.network.crs != region.crs:
        x, y = context.router.project(call.lon, call.lat)
    snap = snapper.snap(x, y)
    if snap.distance_m > context.max_snap_m:
        raise OutsideRegionError(
            "too_far_from_network",
            f"the point ({call.lat}, {call.lon}) is {snap.distance_m:.0f} m from the road network",
            field="lat",
            lat=call.lat,
            lon=call.lon,
            distance_km=round(snap.distance_m / 1000, 1),
            max_km=round(context.max_snap_m / 1000, 1),
        )
    return snap


def _snap_in_commune(context: ServiceContext, call: CallInput, snapper: Snapper) -> Snap | None:
    """Join a call located by commune name to the network inside that commune.

    The commune's point is only a representative point of its area (often on a slope
    above the town), so the nearest usable node inside the commune polygon stands for
    the patient and no off-road leg is charged. Returns None when the commune has no
    polygon, the network uses another CRS, or no usable node lies inside it.
    """
    network = context.network
    if network.crs != context.region.crs:
        return None
    polygon = context.region.commune_polygon(call.commune.insee)
    if polygon is None:
        return None
    candidates = snapper.candidates
    inside = candidates[shapely.contains_xy(polygon, network.node_x[candidates], network.node_y[candidates])]
    if inside.size == 0:
        return None
    x, y = context.region.project(call.lon, call.lat)
    distances = np.hypot(network.node_x[inside] - x, network.node_y[inside] - y)
    return Snap(node=int(inside[np.argmin(distances)]), distance_m=0.0)


def recommend(context: ServiceContext, call: CallInput) -> dict[str, Any]:
    """Compute the recommendation of one call."""
    lang = call.lang
    params = context.chain_parameters
    call_time = call.at.value
    call_day = call_time.astimezone(context.region.timezone).date()
    scenario = context.router.scenario_for(call_day)
    snap = locate(context, call, scenario)
    trees = context.router.tree_set(scenario)

    # Plans: the nearest SMUR base reaches the patient, then one road plan per cath lab.
    smur = nearest_smur(context.router, trees, snap, params, call_day)
    plans = road_plans(context.router, trees, snap, smur, params)
    fastest = plans[0] if plans else None

    # Symptom duration at the anticipated diagnosis and first medical contact.
    call_to_fmc = (fastest.chain_min["dispatch"] + fastest.chain_min["smur_to_patient"]) if fastest else 0
    call_to_diagnosis = sum(fastest.chain_min[k] for k in CALL_TO_DIAGNOSIS_STEPS) if fastest else 0
    symptom_at_diagnosis = symptom_at_fmc = None
    if call.onset is not None:
        onset_to_call = minutes_between(call.onset.value, call_time)
        symptom_at_diagnosis = round(onset_to_call + call_to_diagnosis)
        symptom_at_fmc = round(onset_to_call + call_to_fmc)

    decision = _decide(context, call, fastest, symptom_at_diagnosis, symptom_at_fmc)

    # A destination abroad may refuse the patient: the best domestic plan is shown too,
    # with the strategy it would lead to.
    domestic = None
    if fastest is not None and fastest.destination.site.country != context.region.country:
        home = next((p for p in plans if p.destination.site.country == context.region.country), None)
        if home is not None:
            home_decision = _decide(context, call, home, symptom_at_diagnosis, symptom_at_fmc)
            domestic = {
                "strategy": home_decision.strategy.value,
                "strategy_text": translate(f"strategy.{home_decision.strategy.value}", lang),
                "destination": _site_json(home),
                "diagnosis_to_wire_min": home.diagnosis_to_wire_min,
            }

    chosen = fastest
    is_lysis = fastest is not None and decision.strategy == Strategy.fibrinolysis_then_transfer
    if is_lysis:
        chosen = lysis_plan(fastest, params)

    bolus_within_min = round(params.lysis_bolus_max_min) if is_lysis else None
    timeline = _timeline(call_time, chosen, context, bolus_within_min) if chosen else {}
    decisive = _decisive_delay(context, fastest)
    wire_range = diagnosis_to_wire_range(fastest, context.profile) if fastest else None
    warnings = _warnings(context, call, snap, scenario.closed_count, smur, chosen, decision.warnings)
    if decisive[1] is not None and decisive[2] is not None and abs(decisive[1] - decisive[2]) <= CLOSE_TO_THRESHOLD_MIN:
        warnings.append(_warning("close_to_threshold", lang, value_min=decisive[1], threshold_min=round(decisive[2]), margin_min=CLOSE_TO_THRESHOLD_MIN))
    elif wire_range and decisive[0] == "diagnosis_to_wire" and decisive[2] is not None and wire_range[0] <= decisive[2] < wire_range[1]:
        # The estimate is on one side of the threshold, but the parameters' ranges reach the other.
        warnings.append(_warning("threshold_within_range", lang, low_min=wire_range[0], high_min=wire_range[1], threshold_min=round(decisive[2])))
    if domestic is not None and domestic["strategy"] != decision.strategy.value:
        warnings.append(
            _warning("foreign_refusal_changes_strategy", lang, strategy=domestic["strategy_text"], name=domestic["destination"]["name"], minutes=domestic["diagnosis_to_wire_min"])
        )
    answer: dict[str, Any] = {
        "strategy": decision.strategy.value,
        "strategy_text": translate(f"strategy.{decision.strategy.value}", lang),
        "destination": _site_json(chosen) if chosen else None,
        "transport": chosen.mode.value if chosen else None,
        "chain_min": chosen.chain_min if chosen else {},
        "diagnosis_to_wire_min": fastest.diagnosis_to_wire_min if fastest else None,
        "threshold_min": decisive[2],
        "decisive_delay": {"name": decisive[0], "value_min": decisive[1], "threshold_min": decisive[2]},
        "diagnosis_to_wire_range_min": list(wire_range) if wire_range else None,
        "domestic_alternative": domestic,
        "call_to_wire_min": fastest.call_to_wire_min if fastest else None,
        "lysis_dose": decision.lysis_dose.value if decision.lysis_dose else None,
        "call_to_arrival_min": sum(v for k, v in chosen.chain_min.items() if k != "door_to_wire") if chosen else None,
        "bolus_within_min": bolus_within_min,
        "timeline": timeline,
        "smur": {
            "id": smur.base.site.id,
            "name": smur.base.site.smur_base.name or smur.base.site.name,
            "drive_min": chosen.chain_min["smur_to_patient"] if chosen else None,
            "drive_km": round(smur.drive_m / 1000.0, 1),
        }
        if smur
        else None,
        "alternatives": [_plan_json(p) for p in plans],
        "rules": [
            {"id": r.rule_id, "text": r.text(lang), "values": dict(r.values), "source": r.source_text(lang)} for r in decision.rules
        ],
        "warnings": warnings,
        "patient": {
            "lat": call.lat,
            "lon": call.lon,
            "commune": {"insee": call.commune.insee, "name": call.commune.name} if call.commune else None,
            "snap_distance_m": round(snap.distance_m),
            "located_by": call.located_by,
            "place": call.place_name or None,
            "access_min": whole_minutes(params.off_road_s(snap.distance_m)),
            "onset": call.onset.value.isoformat() if call.onset else None,
            "at": call_time.isoformat(),
            "symptom_min_at_diagnosis": symptom_at_diagnosis,
            "age_years": call.patient.age_years,
            "cardiogenic_shock": call.patient.cardiogenic_shock,
            "resuscitated_arrest": call.patient.resuscitated_arrest,
            "contraindication": call.patient.contraindication.value,
        },
        "network": {**context.network_summary, "date": call_day.isoformat(), "closed_sections": scenario.closed_count},
        "profile": {"name": decision.profile, "version": decision.profile_version},
        "sites_version": context.region.sites.version,
        "lang": lang,
    }
    logger.info(
        "recommendation: %s to %s by %s, diagnosis to wire %s min",
        answer["strategy"], answer["destination"]["id"] if chosen else None, answer["transport"], answer["diagnosis_to_wire_min"],
    )
    return answer


def _timeline(call_time: datetime, plan: Plan, context: ServiceContext, bolus_within_min: int | None) -> dict[str, str]:
    """Return the estimated clock time of each step, in the region's timezone."""
    timezone = context.region.timezone
    chain = plan.chain_min
    moments = {"call": 0}
    elapsed = chain["dispatch"]
    moments["smur_departure"] = elapsed
    elapsed += chain["smur_to_patient"]
    moments["first_medical_contact"] = elapsed
    elapsed += chain["fmc_to_diagnosis"]
    moments["diagnosis"] = elapsed
    if bolus_within_min is not None:
        moments["bolus"] = elapsed + bolus_within_min
    elapsed += chain["on_scene"]
    moments["scene_departure"] = elapsed
    elapsed += chain["transport"]
    moments["arrival"] = elapsed
    if chain.get("door_to_wire"):
        moments["wire"] = elapsed + chain["door_to_wire"]
    start = call_time.astimezone(UTC)
    return {name: (start + timedelta(minutes=m)).astimezone(timezone).isoformat(timespec="minutes") for name, m in moments.items()}


def _warnings(context, call, snap, closed_count, smur, chosen, decision_warnings) -> list[dict[str, Any]]:
    """Return the warnings of an answer: data quality, assumptions, and the rules' own."""
    lang = call.lang
    warnings = []

    # The data the answer rests on.
    network = context.network
    if network.source.approximate:
        warnings.append(_static_warning(context, "network_approximate", lang))
    age_days = (datetime.now(UTC) - network.built_at).days
    if age_days > context.settings.network_max_age_days:
        warnings.append(_warning("network_old", lang, days=age_days, date=network.built_at.date().isoformat()))

    # Assumptions about the input.
    if call.onset is not None and call.onset.from_clock_time:
        warnings.append(_warning("onset_from_clock_time", lang, value=call.onset.value.isoformat(timespec="minutes")))
    for name, parsed in (("at", call.at), ("onset", call.onset)):
        if parsed is not None and parsed.assumed_local and not parsed.from_clock_time:
            warnings.append(
                _warning(
                    "time_assumed_local",
                    lang,
                    field=name,
                    field_label=translate(f"field.{name}", lang),
                    timezone=context.region.timezone.key,
                    value=parsed.value.isoformat(timespec="minutes"),
                )
            )
    if abs(datetime.now(UTC) - call.at.value) > CALL_TIME_DRIFT:
        warnings.append(_warning("call_time_far", lang, at=call.at.value.isoformat(timespec="minutes")))
    for code in decision_warnings:
        warnings.append(_warning(str(code), lang))

    # Where the patient is.
    if call.located_by == "coordinates" and call.commune is None and context.region.communes_polygons_path is not None:
        # Inside the boundary's margin but in no commune of the region: a neighbour's land.
        warnings.append(_warning("near_border", lang, margin_m=round(context.region.boundary_margin_m)))
    if call.located_by == "commune":
        warnings.append(_warning("located_by_commune", lang, commune=call.commune.name, insee=call.commune.insee))
    elif call.located_by == "place":
        warnings.append(_warning("located_by_place", lang, place=call.place_name))
    if snap.distance_m > context.warn_snap_m:
        access_min = whole_minutes(context.chain_parameters.off_road_s(snap.distance_m))
        warnings.append(_warning("snap_far", lang, distance_km=round(snap.distance_m / 1000, 1), access_min=access_min))

    # Resources and roads.
    if smur is None:
        warnings.append(_warning("no_smur_reachable", lang))
    elif not smur.base.site.smur_base.verified:
        warnings.append(_warning("unverified_smur", lang, name=smur.base.site.smur_base.name or smur.base.site.name))
    if closed_count:
        warnings.append(_warning("roads_closed", lang, count=closed_count))
    if chosen is not None:
        lab = chosen.destination.site.cath_lab
        unverified = [name for name, fact in (("pci_24_7", lab.pci_24_7), ("door_to_wire_min", lab.door_to_wire_min)) if not fact.verified]
        if unverified:
            facts = ", ".join(translate(f"fact.{name}", lang) for name in unverified)
            warnings.append(_warning("unverified_destination", lang, name=chosen.destination.site.name, facts=facts))
        if chosen.destination.site.country != context.region.country:
            warnings.append(_warning("cross_border_destination", lang, name=chosen.destination.site.name, country=chosen.destination.site.country))
    unconfirmed = context.region.sites.unconfirmed_cath_labs
    if unconfirmed:
        names = "; ".join(s.name for s in unconfirmed)
        warnings.append(_static_warning(context, "cath_labs_unconfirmed", lang, count=len(unconfirmed), names=names))
    warnings.append(_static_warning(context, "air_not_assessed", lang))
    return warnings


__all__ = ["recommend", "locate"]

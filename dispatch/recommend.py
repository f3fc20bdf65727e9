"""The recommendation: plans for every cath lab, the profile's rules, and the explained answer.

It runs in three stages, so that a planner's simulation reuses the first two exactly:

1. ``build_options``: what depends on the place, the time and the live resources, not
   on the patient: the SMUR team sent, one road plan per open cath lab, the best air plan
   per cath lab with a helipad, and every unit passed over with its reason.
2. ``conclude``: the profile's rules applied to the fastest plan for a given symptom
   duration and patient, giving the strategy and the chosen plan.
3. ``recommend``: the answer, a plain dict identical for the command line and the HTTP
   API: JSON keys in English, texts in the caller's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from geodata.errors import OutsideRegionError
from routing.scenario import RoadScenario
from routing.snap import Snap, Snapper
from protocols import Decision, DecisionInput, PatientFlags, PciPlanTimes, Strategy, decide
from dispatch.air_plans import AirAssessment, air_plans
from dispatch.calls import CallInput
from dispatch.i18n import translate
from dispatch.plans import (
    diagnosis_to_wire_range,
    whole_minutes,
    CALL_TO_DIAGNOSIS_STEPS,
    Plan,
    SmurChoice,
    TransportMode,
    choose_smur,
    lysis_plan,
    plan_order,
    road_plans,
    route_polyline,
)
from dispatch.resources import ResourceKind, ResourceSnapshot, Usability
from dispatch.service import ServiceContext
from dispatch.timeparse import minutes_between

logger = logging.getLogger(__name__)

# A decisive delay this close to its threshold can flip with the network's approximation
# or the day's traffic, so the answer warns that the decision is close.
CLOSE_TO_THRESHOLD_MIN = 5

# A call time further than this from the clock is a simulation or a typing error, so the
# answer warns about it: live calls are answered in real time.
CALL_TIME_DRIFT = timedelta(hours=24)


def _decide(context: ServiceContext, patient: PatientFlags, plan: Plan | None, symptom_at_diagnosis, symptom_at_fmc) -> Decision:
    """Apply the profile's rules with ``plan`` as the fastest PCI plan."""
    return decide(
        DecisionInput(
            symptom_min_at_diagnosis=symptom_at_diagnosis,
            symptom_min_at_fmc=symptom_at_fmc,
            patient=patient,
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


def _lookup(resources: ResourceSnapshot, kind: ResourceKind, at: datetime):
    """Return a function giving a unit's effective state and usability (True, False or None)."""

    def state_of(unit_id: str) -> tuple[str, bool | None]:
        usability = resources.usability(kind, unit_id, at)
        if usability is Usability.UNAVAILABLE:
            # The last known state, even unconfirmed, is what keeps the unit out.
            return resources.last_known(kind, unit_id, at).state, False
        return resources.effective(kind, unit_id, at), None if usability is Usability.UNKNOWN else True

    return state_of


@dataclass(frozen=True)
class CallOptions:
    """Stage 1 of a recommendation: what depends on place, time and resources only.

    ``plans`` holds every road and air plan to an open cath lab, fastest diagnosis to
    wire first. ``closed_labs`` lists the cath labs left out by their live state.
    """

    snap: Snap
    scenario: RoadScenario
    call_time: datetime
    call_day: date
    smur: SmurChoice
    plans: list[Plan]
    road: list[Plan]
    air: AirAssessment
    closed_labs: tuple[tuple[str, str], ...]
    resources: ResourceSnapshot


def build_options(
    context: ServiceContext,
    snap: Snap,
    scenario: RoadScenario,
    lat: float,
    lon: float,
    call_time: datetime,
    resources: ResourceSnapshot | None = None,
    landable: bool = True,
) -> CallOptions:
    """Build the plans of a call at a snapped point, for a time and a resource snapshot.

    Without a snapshot every unit's state is unknown: units are used as the sites file
    describes them, and the answer says their states are unconfirmed.
    """
    resources = resources if resources is not None else ResourceSnapshot(taken_at=call_time, store="none")
    params = context.chain_parameters
    call_day = call_time.astimezone(context.region.timezone).date()
    trees = context.router.tree_set(scenario)

    # The SMUR team: the nearest in season whose state is not unavailable.
    smur = choose_smur(context.router, trees, snap, params, call_day, _lookup(resources, ResourceKind.SMUR, call_time))

    # Cath labs closed or saturated now are left out of every plan.
    lab_state = _lookup(resources, ResourceKind.CATH_LAB, call_time)
    closed = tuple(
        (site_id, state) for site_id in context.router.destinations for state, usable in [lab_state(site_id)] if usable is False
    )
    closed_ids = {site_id for site_id, _ in closed}
    road = [p for p in road_plans(context.router, trees, snap, smur.sent, params) if p.destination.site.id not in closed_ids]
    open_labs = [lab for site_id, lab in context.router.destinations.items() if site_id not in closed_ids]
    air = air_plans(
        context.heli_bases,
        open_labs,
        lat,
        lon,
        smur.sent,
        params,
        call_time,
        context.region.timezone,
        state_of=_lookup(resources, ResourceKind.HELICOPTER, call_time),
        landable=landable,
    )
    plans = sorted(road + air.plans, key=plan_order)
    return CallOptions(
        snap=snap,
        scenario=scenario,
        call_time=call_time,
        call_day=call_day,
        smur=smur,
        plans=plans,
        road=road,
        air=air,
        closed_labs=closed,
        resources=resources,
    )


@dataclass(frozen=True)
class Conclusion:
    """Stage 2 of a recommendation: the rules applied to the fastest plan for one patient."""

    decision: Decision
    fastest: Plan | None
    chosen: Plan | None
    domestic: Plan | None
    domestic_decision: Decision | None
    symptom_at_diagnosis: int | None
    symptom_at_fmc: int | None

    @property
    def is_lysis(self) -> bool:
        return self.fastest is not None and self.decision.strategy == Strategy.fibrinolysis_then_transfer


def conclude(context: ServiceContext, options: CallOptions, patient: PatientFlags, onset_to_call_min: float | None) -> Conclusion:
    """Apply the profile's rules to the fastest plan, for a symptom duration at the call.

    A destination abroad may refuse the patient, so the best domestic plan is decided too.
    """
    plans = options.plans
    fastest = plans[0] if plans else None

    # Symptom duration at the anticipated first medical contact and diagnosis.
    symptom_at_diagnosis = symptom_at_fmc = None
    if onset_to_call_min is not None:
        call_to_fmc = fastest.chain_min["dispatch"] + fastest.chain_min["smur_to_patient"] if fastest else 0
        call_to_diagnosis = sum(fastest.chain_min[k] for k in CALL_TO_DIAGNOSIS_STEPS) if fastest else 0
        symptom_at_diagnosis = round(onset_to_call_min + call_to_diagnosis)
        symptom_at_fmc = round(onset_to_call_min + call_to_fmc)
    decision = _decide(context, patient, fastest, symptom_at_diagnosis, symptom_at_fmc)

    domestic = domestic_decision = None
    if fastest is not None and fastest.destination.site.country != context.region.country:
        domestic = next((p for p in plans if p.destination.site.country == context.region.country), None)
        if domestic is not None:
            domestic_decision = _decide(context, patient, domestic, symptom_at_diagnosis, symptom_at_fmc)

    chosen = fastest
    if fastest is not None and decision.strategy == Strategy.fibrinolysis_then_transfer:
        chosen = lysis_plan(fastest, context.chain_parameters)
    return Conclusion(decision, fastest, chosen, domestic, domestic_decision, symptom_at_diagnosis, symptom_at_fmc)


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


def _helicopter_json(plan: Plan) -> dict[str, Any]:
    """Return the helicopter part of an air plan: its base, delays and flight legs."""
    leg = plan.air
    return {
        "base_id": leg.base.id,
        "base_name": leg.base.name,
        "aircraft": leg.base.aircraft,
        "night": leg.night,
        "activation_min": leg.activation_min,
        "flight_to_scene_min": leg.flight_to_scene_min,
        "flight_to_scene_km": leg.flight_to_scene_km,
        "flight_to_lab_km": leg.flight_to_lab_km,
        "first_on_scene": leg.first_on_scene,
        "liftoff_after_call_min": leg.liftoff_min,
        "on_scene_after_call_min": leg.on_scene_at_min,
        "block_speed_kmh": leg.base.block_speed_kmh.value,
        "helipad_verified": bool(plan.destination.site.cath_lab.helipad.verified and plan.destination.site.cath_lab.helipad.value),
    }


def _plan_json(plan: Plan) -> dict[str, Any]:
    chain = plan.chain_min
    transport = chain.get("transport", 0) + chain.get("flight", 0) + chain.get("landing_to_lab", 0) + chain.get("landing_zone_transfer", 0)
    result = {
        "destination": _site_json(plan),
        "transport": plan.mode.value,
        "diagnosis_to_wire_min": plan.diagnosis_to_wire_min,
        "call_to_wire_min": plan.call_to_wire_min,
        "transport_min": transport,
        "transport_km": round(plan.transport_km, 1),
        "door_to_wire_min": chain.get("door_to_wire", 0),
        "chain_min": chain,
        "helicopter": None,
    }
    if plan.air is not None:
        result["helicopter"] = _helicopter_json(plan)
    return result


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


def recommend(context: ServiceContext, call: CallInput, resources: ResourceSnapshot | None = None) -> dict[str, Any]:
    """Compute the recommendation of one call with the live resources of ``resources``."""
    lang = call.lang
    params = context.chain_parameters
    call_time = call.at.value
    call_day = call_time.astimezone(context.region.timezone).date()
    scenario = context.router.scenario_for(call_day)
    snap = locate(context, call, scenario)

    options = build_options(context, snap, scenario, call.lat, call.lon, call_time, resources, landable=call.landable)
    onset_to_call = minutes_between(call.onset.value, call_time) if call.onset is not None else None
    result = conclude(context, options, call.patient, onset_to_call)
    decision, fastest, chosen = result.decision, result.fastest, result.chosen
    smur = options.smur.sent

    domestic = None
    if result.domestic is not None:
        home_strategy = result.domestic_decision.strategy.value
        domestic = {
            "strategy": home_strategy,
            "strategy_text": translate(f"strategy.{home_strategy}", lang),
            "destination": _site_json(result.domestic),
            "transport": result.domestic.mode.value,
            "diagnosis_to_wire_min": result.domestic.diagnosis_to_wire_min,
        }

    bolus_within_min = round(params.lysis_bolus_max_min) if result.is_lysis else None
    timeline = _timeline(call_time, chosen, context, bolus_within_min) if chosen else {}
    decisive = _decisive_delay(context, fastest)
    wire_range = diagnosis_to_wire_range(fastest, context.profile) if fastest else None
    warnings = _warnings(context, call, options, chosen, decision.warnings)
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
        "smur": _smur_json(options, chosen, lang),
        "helicopter": _helicopter_json(chosen) if chosen is not None and chosen.air is not None else None,
        "air": _air_json(context, options, fastest, lang),
        "alternatives": [_plan_json(p) for p in options.plans],
        "resources": _resources_json(context, options, lang),
        "geometry": _geometry(context, options, chosen, call),
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
            "symptom_min_at_diagnosis": result.symptom_at_diagnosis,
            "age_years": call.patient.age_years,
            "cardiogenic_shock": call.patient.cardiogenic_shock,
            "resuscitated_arrest": call.patient.resuscitated_arrest,
            "contraindication": call.patient.contraindication.value,
            "landable": call.landable,
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


def _state_text(options: CallOptions, kind: ResourceKind, unit_id: str, state: str, lang: str) -> str:
    """Return the state's text, marked when it is only the last known state, not confirmed."""
    text = translate(f"state.{state}", lang)
    if state != "unknown" and options.resources.is_stale(kind, unit_id):
        text = translate("state.last_known", lang, state=text)
    return text


def _smur_json(options: CallOptions, chosen: Plan | None, lang: str) -> dict[str, Any] | None:
    """Return the SMUR team sent, its state, and the nearer teams passed over with the minutes they would have saved."""
    choice = options.smur
    sent = choice.sent
    if sent is None:
        return None
    drive_min = whole_minutes(sent.drive_s)
    return {
        "id": sent.base.site.id,
        "name": sent.base.site.smur_base.name or sent.base.site.name,
        "state": sent.state,
        "state_text": _state_text(options, ResourceKind.SMUR, sent.base.site.id, sent.state, lang),
        "drive_min": drive_min,
        "drive_km": round(sent.drive_m / 1000.0, 1),
        "first_on_scene": not (chosen is not None and chosen.air is not None and chosen.air.first_on_scene),
        "none_available": choice.none_available,
        "passed_over": [
            {
                "id": leg.base.site.id,
                "name": leg.base.site.smur_base.name or leg.base.site.name,
                "state": leg.state,
                "state_text": _state_text(options, ResourceKind.SMUR, leg.base.site.id, leg.state, lang),
                "stale": options.resources.is_stale(ResourceKind.SMUR, leg.base.site.id),
                "drive_min": whole_minutes(leg.drive_s),
                "extra_min": drive_min - whole_minutes(leg.drive_s),
            }
            for leg in choice.passed_over
        ],
    }


def _air_json(context: ServiceContext, options: CallOptions, fastest: Plan | None, lang: str) -> dict[str, Any]:
    """Return why air was or was not chosen: the best air and road plans and every base's status."""
    air = options.air
    best_air = air.plans[0] if air.plans else None
    best_road = options.road[0] if options.road else None
    if best_air is None:
        flyable = [b for b in air.bases if b.available]
        code = "no_helipad" if flyable else "no_base"
        reason = translate(f"air.{code}", lang)
    elif fastest is not None and fastest.mode == TransportMode.HELICOPTER:
        code = "air_faster"
        saved = best_road.diagnosis_to_wire_min - best_air.diagnosis_to_wire_min if best_road else None
        reason = translate(
            "air.air_faster" if best_road else "air.air_only",
            lang,
            base=best_air.air.base.name,
            name=best_air.destination.site.name,
            minutes=best_air.diagnosis_to_wire_min,
            saved=saved,
        )
    else:
        code = "road_faster"
        reason = translate(
            "air.road_faster",
            lang,
            base=best_air.air.base.name,
            name=best_air.destination.site.name,
            minutes=best_air.diagnosis_to_wire_min,
            road_minutes=best_road.diagnosis_to_wire_min if best_road else None,
        )
    timezone = context.region.timezone
    return {
        "assessed": True,
        "chosen": fastest is not None and fastest.mode == TransportMode.HELICOPTER,
        "reason_code": code,
        "reason": reason,
        "landable": air.landable,
        "best_air": _plan_json(best_air) if best_air else None,
        "best_road": _plan_json(best_road) if best_road else None,
        "labs_without_helipad": list(air.labs_without_helipad),
        "unavailable_text": "; ".join(_unavailable_bases(options, lang)),
        "bases": [
            {
                "id": status.base.id,
                "name": status.base.name,
                "state": status.state,
                "available": status.available,
                "reason": status.reason,
                "reason_text": _base_reason_text(options, status, lang),
                "night_flight": status.base.night_flight,
                "flight_to_scene_km": round(status.flight_to_scene_km, 1),
                "dawn": _local_minutes(status.dawn, timezone),
                "dusk": _local_minutes(status.dusk, timezone),
            }
            for status in sorted(air.bases, key=lambda s: (not s.available, s.flight_to_scene_km))
        ],
    }


@lru_cache(maxsize=4096)
def _local_minutes(moment: datetime | None, timezone) -> str | None:
    """Return the ISO local time to the minute, cached because a base's dawn and dusk repeat all day."""
    return moment.astimezone(timezone).isoformat(timespec="minutes") if moment else None


def _base_reason_text(options: CallOptions, status, lang: str) -> str:
    """Return why a base can or cannot fly, marked when its state is unconfirmed."""
    text = translate(f"air_base.{status.reason}", lang)
    if status.available and status.state == "unknown":
        text = translate("air_base.unconfirmed", lang, reason=text)
    elif status.reason.startswith("state_") and options.resources.is_stale(ResourceKind.HELICOPTER, status.base.id):
        text = translate("state.last_known", lang, state=text)
    return text


def _unavailable_bases(options: CallOptions, lang: str, nearest: int = 3) -> list[str]:
    """Return the bases out by their live state, then the nearest bases out for another reason."""
    by_state = [s for s in options.air.bases if not s.available and s.reason.startswith("state_")]
    others = sorted((s for s in options.air.bases if not s.available and not s.reason.startswith("state_")), key=lambda s: s.flight_to_scene_km)
    return [f"{s.base.name} ({_base_reason_text(options, s, lang)})" for s in by_state + others[:nearest]]


def _resources_json(context: ServiceContext, options: CallOptions, lang: str) -> dict[str, Any]:
    """Return the store the states came from and the cath labs left out by their state."""
    snapshot = options.resources
    sites = context.region.sites
    closed = []
    for site_id, state in options.closed_labs:
        record = snapshot.state(ResourceKind.CATH_LAB, site_id)
        closed.append(
            {
                "id": site_id,
                "name": sites.by_id(site_id).name,
                "state": state,
                "state_text": _state_text(options, ResourceKind.CATH_LAB, site_id, state, lang),
                "stale": snapshot.is_stale(ResourceKind.CATH_LAB, site_id),
                "until": record.until.isoformat() if record and record.until else None,
                "set_by": record.set_by if record else None,
                "set_at": record.set_at.isoformat() if record else None,
            }
        )
    return {
        "store": snapshot.store,
        "reachable": snapshot.reachable,
        "taken_at": snapshot.taken_at.isoformat(),
        "closed_cath_labs": closed,
    }


def _geometry(context: ServiceContext, options: CallOptions, chosen: Plan | None, call: CallInput) -> dict[str, Any]:
    """Return the lines to draw: the road route of the chosen plan, or the helicopter's flight line."""
    road = None
    flight = None
    if chosen is not None and chosen.mode == TransportMode.ROAD:
        trees = context.router.tree_set(options.scenario)
        nodes = trees.to_destinations.path(chosen.destination.site.id, options.snap.node)
        road = [[round(lon, 5), round(lat, 5)] for lon, lat in route_polyline(context.network, nodes)] if nodes else None
    if chosen is not None and chosen.air is not None:
        base = chosen.air.base.site
        lab = chosen.destination.site
        flight = [[base.lon, base.lat], [call.lon, call.lat], [lab.lon, lab.lat]]
    return {"road": road, "flight": flight}


def _timeline(call_time: datetime, plan: Plan, context: ServiceContext, bolus_within_min: int | None) -> dict[str, str]:
    """Return the estimated clock time of each step, in the region's timezone."""
    timezone = context.region.timezone
    chain = plan.chain_min
    moments = {"call": 0}
    elapsed = chain["dispatch"]
    moments["smur_departure"] = elapsed
    if plan.air is not None:
        moments["helicopter_liftoff"] = plan.air.liftoff_min
        moments["helicopter_on_scene"] = plan.air.on_scene_at_min
    elapsed += chain["smur_to_patient"]
    moments["first_medical_contact"] = elapsed
    elapsed += chain["fmc_to_diagnosis"]
    moments["diagnosis"] = elapsed
    if bolus_within_min is not None:
        moments["bolus"] = elapsed + bolus_within_min
    elapsed += chain.get("helicopter_wait", 0) + chain["on_scene"]
    moments["scene_departure"] = elapsed
    elapsed += sum(chain.get(k, 0) for k in ("landing_zone_transfer", "transport", "flight", "landing_to_lab"))
    moments["arrival"] = elapsed
    if chain.get("door_to_wire"):
        moments["wire"] = elapsed + chain["door_to_wire"]
    start = call_time.astimezone(UTC)
    ordered = dict(sorted(moments.items(), key=lambda item: item[1]))
    return {name: (start + timedelta(minutes=m)).astimezone(timezone).isoformat(timespec="minutes") for name, m in ordered.items()}


def _warnings(context: ServiceContext, call: CallInput, options: CallOptions, chosen: Plan | None, decision_warnings) -> list[dict[str, Any]]:
    """Return the warnings of an answer: data quality, assumptions, resources and the rules' own."""
    lang = call.lang
    snap = options.snap
    smur = options.smur.sent
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

    # Live resources: what was passed over, what is unconfirmed.
    warnings.extend(_resource_warnings(context, options, chosen, lang))

    # Roads and sites.
    if options.scenario.closed_count:
        warnings.append(_warning("roads_closed", lang, count=options.scenario.closed_count))
    if smur is not None and not smur.base.site.smur_base.verified:
        warnings.append(_warning("unverified_smur", lang, name=smur.base.site.smur_base.name or smur.base.site.name))
    if chosen is not None and chosen.air is not None and not chosen.air.base.site.heli_base.verified:
        base = chosen.air.base
        warnings.append(_warning("unverified_heli_base", lang, name=base.name))
    if chosen is not None:
        lab = chosen.destination.site.cath_lab
        unverified = [name for name, fact in (("pci_24_7", lab.pci_24_7), ("door_to_wire_min", lab.door_to_wire_min)) if not fact.verified]
        if chosen.air is not None and not (lab.helipad.verified and lab.helipad.value):
            unverified.append("helipad")
        if unverified:
            facts = ", ".join(translate(f"fact.{name}", lang) for name in unverified)
            warnings.append(_warning("unverified_destination", lang, name=chosen.destination.site.name, facts=facts))
        if chosen.destination.site.country != context.region.country:
            warnings.append(_warning("cross_border_destination", lang, name=chosen.destination.site.name, country=chosen.destination.site.country))
    unconfirmed = context.region.sites.unconfirmed_cath_labs
    if unconfirmed:
        names = "; ".join(s.name for s in unconfirmed)
        warnings.append(_static_warning(context, "cath_labs_unconfirmed", lang, count=len(unconfirmed), names=names))
    return warnings


def _duration_text(duration: timedelta, lang: str) -> str:
    """Format a duration as a regulator reads it: 45 min, 12 h, 1 h 30."""
    minutes = round(duration.total_seconds() / 60)
    if minutes < 60:
        return translate("label.minutes", lang, value=minutes)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def _resource_warnings(context: ServiceContext, options: CallOptions, chosen: Plan | None, lang: str) -> list[dict[str, Any]]:
    """Return the warnings on the live state of the units the recommendation uses or passes over."""
    warnings = []
    snapshot = options.resources
    choice = options.smur
    if not snapshot.reachable:
        warnings.append(_warning("resources_unreachable", lang, store=snapshot.store))
    if choice.sent is None:
        warnings.append(_warning("no_smur_reachable", lang))
    elif choice.none_available:
        sent = choice.sent
        warnings.append(
            _warning(
                "no_smur_available",
                lang,
                name=sent.base.site.smur_base.name or sent.base.site.name,
                state=_state_text(options, ResourceKind.SMUR, sent.base.site.id, sent.state, lang),
            )
        )
    elif choice.passed_over:
        nearest = choice.passed_over[0]
        extra = whole_minutes(choice.sent.drive_s) - whole_minutes(nearest.drive_s)
        names = "; ".join(
            f"{leg.base.site.smur_base.name or leg.base.site.name} ({_state_text(options, ResourceKind.SMUR, leg.base.site.id, leg.state, lang)})"
            for leg in choice.passed_over
        )
        warnings.append(_warning("smur_passed_over", lang, names=names, sent=choice.sent.base.site.smur_base.name or choice.sent.base.site.name, extra_min=extra))
    for site_id, state in options.closed_labs:
        record = snapshot.state(ResourceKind.CATH_LAB, site_id)
        until = record.until.astimezone(context.region.timezone).strftime("%H:%M") if record and record.until else "?"
        name = context.region.sites.by_id(site_id).name
        if snapshot.is_stale(ResourceKind.CATH_LAB, site_id):
            set_at = record.set_at.astimezone(context.region.timezone).strftime("%d/%m %H:%M")
            warnings.append(_warning("cath_lab_unavailable_unconfirmed", lang, name=name, state=translate(f"state.{state}", lang), set_at=set_at, set_by=record.set_by))
        else:
            warnings.append(_warning("cath_lab_unavailable", lang, name=name, state=translate(f"state.{state}", lang), until=until))

    # Units the recommendation relies on whose state is not confirmed recently.
    unknown = []
    if choice.sent is not None and choice.sent.state == "unknown":
        unknown.append(choice.sent.base.site.smur_base.name or choice.sent.base.site.name)
    if chosen is not None:
        if snapshot.effective(ResourceKind.CATH_LAB, chosen.destination.site.id, options.call_time) == "unknown":
            unknown.append(chosen.destination.site.name)
        if chosen.air is not None and snapshot.effective(ResourceKind.HELICOPTER, chosen.air.base.id, options.call_time) == "unknown":
            unknown.append(chosen.air.base.name)
    if unknown and snapshot.reachable:
        warnings.append(_warning("states_unconfirmed", lang, names="; ".join(unknown), duration=_duration_text(snapshot.stale_after, lang)))
    return warnings


__all__ = ["CallOptions", "Conclusion", "build_options", "conclude", "locate", "recommend"]

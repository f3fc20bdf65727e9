"""Helicopter plans of a call: for each cath lab with a helipad, the best base that can fly.

The helicopter is engaged at the regulation decision, alongside the road SMUR. Its team
is the first medical contact when it lands before the road team; otherwise the road
team makes the diagnosis and the patient waits for the helicopter. From the diagnosis
(or the helicopter's arrival, whichever is later) the chain is: time on scene, the road
leg to a landing zone when the patient's point is not landable, the flight to the cath
lab's helipad, landing to cath-lab door, and door to wire.

Each base is checked in order: its live state, its season, then daylight over the whole
mission for a base that does not fly at night. The reason a base cannot fly is kept, so
the answer says why air was or was not chosen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from routing.air import HeliBase, activation_min, civil_twilight, great_circle_m, is_daylight
from routing.router import SnappedSite
from dispatch.plans import (
    DISPATCH,
    DOOR_TO_WIRE,
    FLIGHT,
    FMC_TO_DIAGNOSIS,
    HELICOPTER_WAIT,
    LANDING_TO_LAB,
    LANDING_ZONE_TRANSFER,
    ON_SCENE,
    SMUR_TO_PATIENT,
    ChainParameters,
    Plan,
    SmurLeg,
    TransportMode,
    plan_order,
    whole_minutes,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AirLeg:
    """The helicopter part of an air plan."""

    base: HeliBase
    night: bool
    activation_min: int
    flight_to_scene_min: int
    flight_to_scene_km: float
    flight_to_lab_km: float
    first_on_scene: bool
    liftoff_min: int
    on_scene_at_min: int


@dataclass(frozen=True)
class BaseStatus:
    """Why a base can or cannot fly this call."""

    base: HeliBase
    state: str
    available: bool
    reason: str
    flight_to_scene_km: float
    dawn: datetime | None = None
    dusk: datetime | None = None


@dataclass(frozen=True)
class AirAssessment:
    plans: list[Plan]
    bases: list[BaseStatus]
    labs_without_helipad: tuple[str, ...] = ()
    landable: bool = True


@lru_cache(maxsize=4096)
def _twilight(base_id: str, lat: float, lon: float, day: date, timezone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Civil dawn and dusk of a base on a day, cached: each costs tens of microseconds."""
    return civil_twilight(lat, lon, day, timezone)


def _in_daylight(base: HeliBase, moment: datetime, timezone: ZoneInfo) -> bool:
    dawn, dusk = _twilight(base.id, base.site.lat, base.site.lon, moment.astimezone(timezone).date(), timezone)
    if dawn is None or dusk is None:
        # The sun does not cross the twilight line that day, so read its elevation directly.
        return is_daylight(base.site.lat, base.site.lon, moment)
    return dawn <= moment <= dusk


def air_plans(
    bases: tuple[HeliBase, ...],
    labs: list[SnappedSite],
    patient_lat: float,
    patient_lon: float,
    smur: SmurLeg | None,
    params: ChainParameters,
    call_time: datetime,
    timezone: ZoneInfo,
    state_of=None,
    landable: bool = True,
) -> AirAssessment:
    """Return the best air plan per cath lab with a helipad, and the status of every base.

    ``state_of(base_id)`` gives a base's live state and whether it is usable (True),
    unavailable (False) or unknown (None). An unknown state does not stop a base, but the
    answer says it is unconfirmed.
    """
    dispatch = round(params.dispatch_delay_min)
    decision_at = call_time + timedelta(minutes=dispatch)
    day = decision_at.astimezone(timezone).date()
    smur_min = whole_minutes(smur.drive_s) if smur else None
    scene_km = great_circle_m(
        np.array([b.site.lat for b in bases]), np.array([b.site.lon for b in bases]), patient_lat, patient_lon
    ) / 1000.0 if bases else np.empty(0)

    # Each base's live state, season and activation; daylight is checked per mission below.
    statuses: list[BaseStatus] = []
    candidates: list[tuple[int, HeliBase, bool, int, int, float, datetime | None, datetime | None]] = []
    for index, base in enumerate(bases):
        state, usable = state_of(base.id) if state_of else ("unknown", None)
        km = float(scene_km[index])
        dawn, dusk = _twilight(base.id, base.site.lat, base.site.lon, day, timezone)
        if usable is False:
            statuses.append(BaseStatus(base, state, False, f"state_{state}", km, dawn, dusk))
            continue
        if not base.in_season(day):
            statuses.append(BaseStatus(base, state, False, "off_season", km, dawn, dusk))
            continue
        night = not _in_daylight(base, decision_at, timezone)
        if night and not base.night_flight:
            statuses.append(BaseStatus(base, state, False, "night" if base.night_flight_known else "night_unknown", km, dawn, dusk))
            continue
        activation = round(activation_min(base, night))
        flight = whole_minutes(base.flight_s(km * 1000.0))
        candidates.append((index, base, night, activation, flight, km, dawn, dusk))
        statuses.append(BaseStatus(base, state, True, "night_flight" if night else "daylight", km, dawn, dusk))

    # Earliest on scene first: for a given cath lab the earliest base that may fly wins.
    candidates.sort(key=lambda c: (c[3] + c[4], c[1].id))
    helipad_labs = [lab for lab in labs if lab.site.cath_lab.helipad.value is not False]
    without_helipad = tuple(lab.site.id for lab in labs if lab.site.cath_lab.helipad.value is False)
    if not candidates or not helipad_labs:
        return AirAssessment(plans=[], bases=statuses, labs_without_helipad=without_helipad, landable=landable)

    lab_km = great_circle_m(
        np.array([lab.site.lat for lab in helipad_labs]), np.array([lab.site.lon for lab in helipad_labs]), patient_lat, patient_lon
    ) / 1000.0
    transfer = (
        whole_minutes(params.heli_landing_zone_distance_km / params.heli_landing_zone_road_speed_kmh * 3600.0) if not landable else 0
    )

    plans: list[Plan] = []
    unflyable: dict[str, str] = {}
    for row, lab in enumerate(helipad_labs):
        for _, base, night, activation, flight_in, km, dawn, dusk in candidates:
            on_scene_at = dispatch + activation + flight_in
            # The helicopter team is the first medical contact when it lands first on a
            # landable point, or when no road team can reach the patient at all.
            if smur_min is None:
                first = True
                reach = on_scene_at - dispatch + transfer
            else:
                first = landable and on_scene_at - dispatch < smur_min
                reach = on_scene_at - dispatch if first else smur_min
            diagnosis_at = dispatch + reach + round(params.fmc_to_diagnosis_min)
            wait = max(0, on_scene_at - diagnosis_at)
            flight_out = whole_minutes(base.flight_s(float(lab_km[row]) * 1000.0))
            on_scene = round(params.heli_on_scene_min)
            landing = round(params.heli_landing_to_lab_min)
            end = diagnosis_at + wait + on_scene + transfer + flight_out + landing

            # A day-only base must fly the whole mission, lift-off to landing, in daylight.
            landed_at = call_time + timedelta(minutes=end)
            if dawn is not None and dusk is not None:
                in_daylight = dawn <= landed_at <= dusk
            else:
                in_daylight = _in_daylight(base, landed_at, timezone)
            if not base.night_flight and not in_daylight:
                unflyable.setdefault(base.id, "dusk_before_landing")
                continue
            chain = {
                DISPATCH: dispatch,
                SMUR_TO_PATIENT: reach,
                FMC_TO_DIAGNOSIS: round(params.fmc_to_diagnosis_min),
                HELICOPTER_WAIT: wait,
                ON_SCENE: on_scene,
            }
            if transfer:
                chain[LANDING_ZONE_TRANSFER] = transfer
            chain[FLIGHT] = flight_out
            chain[LANDING_TO_LAB] = landing
            chain[DOOR_TO_WIRE] = round(lab.site.cath_lab.door_to_wire_min.value)
            leg = AirLeg(
                base=base,
                night=night,
                activation_min=activation,
                flight_to_scene_min=flight_in,
                flight_to_scene_km=round(km, 1),
                flight_to_lab_km=round(float(lab_km[row]), 1),
                first_on_scene=first,
                liftoff_min=dispatch + activation,
                on_scene_at_min=on_scene_at,
            )
            plans.append(
                Plan(destination=lab, mode=TransportMode.HELICOPTER, chain_min=chain, transport_km=float(lab_km[row]), smur=smur, air=leg)
            )
            break

    # A base that can start but not finish before dusk is reported as such.
    if unflyable:
        statuses = [
            BaseStatus(s.base, s.state, False, unflyable[s.base.id], s.flight_to_scene_km, s.dawn, s.dusk)
            if s.base.id in unflyable and not any(p.air.base.id == s.base.id for p in plans)
            else s
            for s in statuses
        ]
    plans.sort(key=plan_order)
    return AirAssessment(plans=plans, bases=statuses, labs_without_helipad=without_helipad, landable=landable)


__all__ = ["AirAssessment", "AirLeg", "BaseStatus", "air_plans"]

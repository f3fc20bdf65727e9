"""Candidate plans of a call: for each cath lab and transport mode, the chain of intervals.

A plan's chain starts at the call: regulation decision to SMUR departure, SMUR drive to
the patient, first medical contact to diagnosis (the ECG read), then either on-scene
work-up, transport and door-to-wire for primary PCI, or the fibrinolytic bolus before the
transfer. Intervals are whole minutes; totals are sums of the displayed intervals so that
a physician can add them up and find the same figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np

from geodata.network import RoadNetwork
from protocols import Profile
from routing.router import RoadRouter, SnappedSite
from routing.snap import Snap
from routing.trees import TreeSet


class TransportMode(StrEnum):
    ROAD = "road"
    HELICOPTER = "helicopter"


# Interval names, in chain order. A road plan uses the first six; an air plan replaces
# the road transport with the helicopter's wait, flight and landing.
DISPATCH = "dispatch"
SMUR_TO_PATIENT = "smur_to_patient"
FMC_TO_DIAGNOSIS = "fmc_to_diagnosis"
HELICOPTER_WAIT = "helicopter_wait"
ON_SCENE = "on_scene"
LANDING_ZONE_TRANSFER = "landing_zone_transfer"
TRANSPORT = "transport"
FLIGHT = "flight"
LANDING_TO_LAB = "landing_to_lab"
DOOR_TO_WIRE = "door_to_wire"

CALL_TO_DIAGNOSIS_STEPS = (DISPATCH, SMUR_TO_PATIENT, FMC_TO_DIAGNOSIS)
DIAGNOSIS_TO_WIRE_STEPS = (HELICOPTER_WAIT, ON_SCENE, LANDING_ZONE_TRANSFER, TRANSPORT, FLIGHT, LANDING_TO_LAB, DOOR_TO_WIRE)
CHAIN_ORDER = CALL_TO_DIAGNOSIS_STEPS + DIAGNOSIS_TO_WIRE_STEPS


def whole_minutes(seconds: float) -> int:
    """Round seconds to the nearest whole minute, halves up."""
    return math.floor(float(seconds) / 60.0 + 0.5)


@dataclass(frozen=True)
class ChainParameters:
    """The profile's time-chain parameters, as plain numbers (minutes unless named)."""

    dispatch_delay_min: float
    fmc_to_diagnosis_min: float
    on_scene_pci_min: float
    on_scene_lysis_min: float
    lysis_bolus_max_min: float
    emergency_time_factor: float
    off_road_speed_kmh: float
    off_road_detour_factor: float
    heli_on_scene_min: float = 20.0
    heli_landing_to_lab_min: float = 8.0
    heli_landing_zone_distance_km: float = 3.0
    heli_landing_zone_road_speed_kmh: float = 40.0

    def off_road_s(self, distance_m: float | np.ndarray) -> float | np.ndarray:
        """Seconds to cover the gap between a point and its snapped road node."""
        return distance_m * self.off_road_detour_factor / (self.off_road_speed_kmh / 3.6)


@dataclass(frozen=True)
class SmurLeg:
    base: SnappedSite
    drive_s: float
    drive_m: float
    state: str = "unknown"


@dataclass(frozen=True)
class SmurChoice:
    """The SMUR team sent in the chain, and the nearer teams passed over because unavailable.

    ``sent`` is the nearest team not known to be unavailable; when every in-season team is
    unavailable it is the nearest one all the same, and ``none_available`` says so.
    """

    sent: SmurLeg | None
    passed_over: tuple[SmurLeg, ...] = ()
    none_available: bool = False


@dataclass(frozen=True)
class Plan:
    """One way to bring the patient to one cath lab.

    The totals are computed once from ``chain_min``; an interval absent from the chain
    (door-to-wire after fibrinolysis) counts as zero.
    """

    destination: SnappedSite
    mode: TransportMode
    chain_min: dict[str, int]
    transport_km: float
    smur: SmurLeg | None
    notes: tuple[str, ...] = field(default=())
    air: Any = None
    transport_car_s: float = 0.0
    transport_access_s: float = 0.0
    call_to_diagnosis_min: int = field(init=False)
    diagnosis_to_wire_min: int = field(init=False)
    call_to_wire_min: int = field(init=False)

    def __post_init__(self) -> None:
        chain = self.chain_min
        to_diagnosis = sum(chain.get(k, 0) for k in CALL_TO_DIAGNOSIS_STEPS)
        to_wire = sum(chain.get(k, 0) for k in DIAGNOSIS_TO_WIRE_STEPS)
        object.__setattr__(self, "call_to_diagnosis_min", to_diagnosis)
        object.__setattr__(self, "diagnosis_to_wire_min", to_wire)
        object.__setattr__(self, "call_to_wire_min", to_diagnosis + to_wire)


def choose_smur(
    router: RoadRouter,
    trees: TreeSet,
    patient: Snap,
    params: ChainParameters,
    day: date,
    state_of: Any = None,
) -> SmurChoice:
    """Return the SMUR team to send: the nearest in season whose state is not unavailable.

    ``state_of(base_id)`` gives a team's live state and whether it is usable (True),
    unavailable (False) or unknown (None); without it every team counts as unknown. The
    nearer teams passed over are returned with their drives, so the answer can show the
    delay that their absence costs.
    """
    forward = trees.from_bases
    road_s = forward.time_s[:, patient.node] * params.emergency_time_factor
    totals = np.where(router.bases_in_season(day), road_s + params.off_road_s(router.base_snap_m), np.inf)
    order = [int(i) for i in np.argsort(totals, kind="stable") if np.isfinite(totals[i])]
    if not order:
        return SmurChoice(sent=None)

    passed: list[SmurLeg] = []
    for row in order:
        base_id = forward.root_ids[row]
        state, usable = state_of(base_id) if state_of else ("unknown", None)
        leg = SmurLeg(
            base=router.bases[base_id],
            drive_s=float(totals[row] + params.off_road_s(patient.distance_m)),
            drive_m=float(forward.dist_m[row, patient.node]),
            state=state,
        )
        if usable is False:
            passed.append(leg)
            continue
        return SmurChoice(sent=leg, passed_over=tuple(passed))
    return SmurChoice(sent=passed[0], passed_over=tuple(passed[1:]), none_available=True)


def road_plans(
    router: RoadRouter, trees: TreeSet, patient: Snap, smur: SmurLeg | None, params: ChainParameters
) -> list[Plan]:
    """Return one road plan per reachable cath lab, fastest diagnosis-to-wire first."""
    reverse = trees.to_destinations
    times = reverse.time_s[:, patient.node].astype(np.float64)
    dists = reverse.dist_m[:, patient.node]
    labs = [router.destinations[site_id] for site_id in reverse.root_ids]

    # Whole minutes per lab, computed for all labs at once.
    lab_off_road_s = np.array([params.off_road_s(lab.snap.distance_m) for lab in labs])
    transport_s = times * params.emergency_time_factor + params.off_road_s(patient.distance_m) + lab_off_road_s
    transport_min = np.floor(transport_s / 60.0 + 0.5)

    fixed = {
        DISPATCH: round(params.dispatch_delay_min),
        SMUR_TO_PATIENT: whole_minutes(smur.drive_s) if smur else 0,
        FMC_TO_DIAGNOSIS: round(params.fmc_to_diagnosis_min),
        ON_SCENE: round(params.on_scene_pci_min),
    }
    plans = []
    for row, lab in enumerate(labs):
        if not np.isfinite(times[row]):
            continue
        chain = {**fixed, TRANSPORT: int(transport_min[row]), DOOR_TO_WIRE: round(lab.site.cath_lab.door_to_wire_min.value)}
        plans.append(
            Plan(
                destination=lab,
                mode=TransportMode.ROAD,
                chain_min=chain,
                transport_km=float(dists[row]) / 1000.0,
                smur=smur,
                transport_car_s=float(times[row]),
                transport_access_s=float(params.off_road_s(patient.distance_m) + lab_off_road_s[row]),
            )
        )
    plans.sort(key=plan_order)
    return plans


def plan_order(plan: Plan) -> tuple[int, int, int, str]:
    """Sort key of plans: diagnosis to wire, then call to wire, road before air, then site id."""
    return (plan.diagnosis_to_wire_min, plan.call_to_wire_min, 0 if plan.mode == TransportMode.ROAD else 1, plan.destination.site.id)


def diagnosis_to_wire_range(plan: Plan, profile: Profile) -> tuple[int, int]:
    """Return the low and high diagnosis-to-wire minutes of a PCI plan over the profile's ranges.

    Road plans: on-scene time and the emergency driving factor take their low and high
    values. Air plans: the helicopter's activation, block speed, time on scene and
    landing-to-lab time do. The door-to-wire time does too unless the centre's own
    figure is verified. Access legs and the landing-zone road leg keep their estimate.
    """
    chain = profile.chain
    lab = plan.destination.site.cath_lab
    door_key = "door_to_wire_direct_min" if lab.direct_admission.value else "door_to_wire_ed_min"
    bounds = []
    for end in ("low", "high"):
        door = lab.door_to_wire_min.value if lab.door_to_wire_min.verified else getattr(chain[door_key], end)
        if plan.air is None:
            on_scene = getattr(chain["on_scene_pci_min"], end)
            transport_s = plan.transport_car_s * getattr(chain["emergency_time_factor"], end) + plan.transport_access_s
            bounds.append(round(on_scene) + whole_minutes(transport_s) + round(door))
            continue

        # A slow block speed is the high end: the range bounds are swapped for speed.
        leg = plan.air
        speed = getattr(chain["heli_block_speed_kmh"], "high" if end == "low" else "low")
        activation_key = "heli_activation_night_min" if leg.night else "heli_activation_day_min"
        on_scene_at = plan.chain_min[DISPATCH] + getattr(chain[activation_key], end) + leg.flight_to_scene_km / speed * 60.0
        diagnosis_at = sum(plan.chain_min[k] for k in CALL_TO_DIAGNOSIS_STEPS)
        if leg.first_on_scene:
            diagnosis_at = on_scene_at + plan.chain_min[FMC_TO_DIAGNOSIS]
        wait = max(0.0, on_scene_at - diagnosis_at)
        flight = leg.flight_to_lab_km / speed * 60.0
        total = (
            wait
            + getattr(chain["heli_on_scene_min"], end)
            + plan.chain_min.get(LANDING_ZONE_TRANSFER, 0)
            + flight
            + getattr(chain["heli_landing_to_lab_min"], end)
            + door
        )
        bounds.append(int(np.floor(total + 0.5)))
    return bounds[0], bounds[1]


def lysis_plan(pci_plan: Plan, params: ChainParameters) -> Plan:
    """Return the fibrinolysis-then-transfer variant of a PCI plan to the same centre.

    The on-scene time grows to the lysis value, during which the bolus is given within
    the profile's limit after diagnosis, so the bolus is a moment of the timeline and
    not an interval of the chain. The transfer ends at the PCI centre's door: the
    angiography follows 2-24 h later, so no door-to-wire interval is counted.
    """
    chain = dict(pci_plan.chain_min)
    chain[ON_SCENE] = max(chain[ON_SCENE], round(params.on_scene_lysis_min))
    ordered = {k: chain[k] for k in CHAIN_ORDER if k in chain and k != DOOR_TO_WIRE}
    return Plan(
        destination=pci_plan.destination,
        mode=pci_plan.mode,
        chain_min=ordered,
        transport_km=pci_plan.transport_km,
        smur=pci_plan.smur,
        air=pci_plan.air,
    )


def route_polyline(network: RoadNetwork, nodes: list[int]) -> list[tuple[float, float]]:
    """Return the (lon, lat) polyline along a node path, using each edge's geometry."""
    if len(nodes) < 2:
        return [(float(network.node_lon[n]), float(network.node_lat[n])) for n in nodes]
    keys = network.edge_from.astype(np.int64) * network.node_count + network.edge_to
    path = np.asarray(nodes, dtype=np.int64)
    edge_index = np.searchsorted(keys, path[:-1] * network.node_count + path[1:])
    points: list[tuple[float, float]] = []
    for edge in edge_index.tolist():
        geometry = network.edge_geometry(edge)
        points.extend(geometry if not points else geometry[1:])
    return points

"""The recommendation of a simulated call, through the live call's plan and rule code.

Stage 1 builds the plans of a call from its network node, road scenario, time band and
unit availability; its result depends on nothing else, so it is cached under that key.
Stage 2 applies the profile's rules (``protocols.decide``, a pure function) to the
fastest PCI plan for the call's symptom duration and patient flags, and is cached under
its exact inputs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from dispatch.plans import CALL_TO_DIAGNOSIS_STEPS, Plan, TransportMode, lysis_plan, nearest_smur, road_plans
from dispatch.resources import ResourceKind, Usability
from planning.prepare import PreparedScenario
from protocols import Contraindication, DecisionInput, PatientFlags, PciPlanTimes, Strategy, decide
from routing.snap import Snap

logger = logging.getLogger(__name__)

STRATEGIES = tuple(Strategy)
TRANSPORTS = tuple(TransportMode)


@dataclass(frozen=True)
class CallPlans:
    """The stage-1 result of a key: the plans, fastest first, and the figures the rules read."""

    plans: tuple[Plan, ...]
    fastest: Plan | None
    fastest_road: Plan | None
    call_to_fmc_min: int
    call_to_diagnosis_min: int


def build_call_plans(prepared: PreparedScenario, node: int, snap_m: float, day: date, band: int, draw: int | None) -> CallPlans:
    """Build the plans of a call at ``node`` on ``day`` in time band ``band`` with availability draw ``draw``.

    TODO: replace the body with the recommendation's stage 1 (plans for a node, time and
    resource snapshot) once it exists: it reads the snapshot for SMUR and helicopter
    availability and adds the air plans. Here a closed cath lab is left out of the plans
    and every SMUR base in season is free.
    """
    road = prepared.road_for(day)
    router = prepared.router
    trees = router.tree_set(road)
    snap = Snap(node=node, distance_m=snap_m)
    snapshot = prepared.snapshot(day, band, draw)
    smur = nearest_smur(router, trees, snap, prepared.params, day)
    plans = [
        plan
        for plan in road_plans(router, trees, snap, smur, prepared.params)
        if snapshot.usability(ResourceKind.CATH_LAB, plan.destination.site.id) is not Usability.UNAVAILABLE
    ]
    fastest = plans[0] if plans else None
    fastest_road = next((p for p in plans if p.mode is TransportMode.ROAD), None)
    call_to_fmc = fastest.chain_min["dispatch"] + fastest.chain_min["smur_to_patient"] if fastest else 0
    call_to_diagnosis = sum(fastest.chain_min[k] for k in CALL_TO_DIAGNOSIS_STEPS) if fastest else 0
    return CallPlans(tuple(plans), fastest, fastest_road, call_to_fmc, call_to_diagnosis)


@lru_cache(maxsize=None)
def _patient(age_75: bool, shock: bool, arrest: bool, contraindicated: bool) -> PatientFlags:
    return PatientFlags(
        age_years=80 if age_75 else 60,
        cardiogenic_shock=shock,
        resuscitated_arrest=arrest,
        contraindication=Contraindication.absolute if contraindicated else Contraindication.none,
    )


class RuleCache:
    """``protocols.decide`` memoised on its exact inputs for one profile."""

    def __init__(self, prepared: PreparedScenario):
        self.profile = prepared.profile
        self._decisions: dict[tuple, Strategy] = {}

    def strategy(self, plans: CallPlans, onset_to_call_min: int | None, flags: tuple[bool, bool, bool, bool]) -> Strategy:
        """Return the strategy of a call; ``onset_to_call_min`` None means the onset is unknown.

        TODO: use the recommendation's stage 2 once it exists; the inputs below are the
        ones the live call builds for ``protocols.decide``.
        """
        fastest = plans.fastest
        symptom_at_diagnosis = symptom_at_fmc = None
        if onset_to_call_min is not None:
            symptom_at_diagnosis = onset_to_call_min + plans.call_to_diagnosis_min
            symptom_at_fmc = onset_to_call_min + plans.call_to_fmc_min
        # The plan's name only labels the rule texts, so the strategy depends on its minutes alone.
        pci_key = (fastest.diagnosis_to_wire_min, fastest.chain_min["fmc_to_diagnosis"]) if fastest else None
        key = (pci_key, symptom_at_diagnosis, symptom_at_fmc, flags)
        strategy = self._decisions.get(key)
        if strategy is None:
            pci = None
            if fastest is not None:
                pci = PciPlanTimes(
                    plan_id=fastest.destination.site.name,
                    diagnosis_to_wire_min=fastest.diagnosis_to_wire_min,
                    fmc_to_wire_min=fastest.diagnosis_to_wire_min + fastest.chain_min["fmc_to_diagnosis"],
                )
            decision = decide(
                DecisionInput(
                    symptom_min_at_diagnosis=symptom_at_diagnosis,
                    symptom_min_at_fmc=symptom_at_fmc,
                    patient=_patient(*flags),
                    fastest_pci=pci,
                ),
                self.profile,
            )
            strategy = decision.strategy
            self._decisions[key] = strategy
        return strategy


def chosen_plan(plans: CallPlans, strategy: Strategy, prepared: PreparedScenario) -> Plan | None:
    """Return the plan the answer proposes: the fastest, or its lysis variant."""
    if plans.fastest is None:
        return None
    if strategy is Strategy.fibrinolysis_then_transfer:
        return lysis_plan(plans.fastest, prepared.params)
    return plans.fastest

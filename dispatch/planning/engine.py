"""The recommendation of a simulated call, through the live call's stages 1 and 2.

Stage 1 (``dispatch.recommend.build_options``) builds the plans of a call from its
place, road scenario, time and resource snapshot. In a simulation its result depends on
the commune, season, time band and availability draw only, so calls that share these
share one build. Stage 2 (``dispatch.recommend.conclude``) applies the profile's rules for the
call's symptom duration and patient flags; its strategy is cached under the numbers the
rules read.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import lru_cache

from dispatch.plans import CALL_TO_DIAGNOSIS_STEPS, TransportMode
from dispatch.recommend import CallOptions, build_options, conclude
from dispatch.planning.prepare import PreparedScenario
from protocols import Contraindication, PatientFlags, Strategy

logger = logging.getLogger(__name__)

STRATEGIES = tuple(Strategy)
TRANSPORTS = tuple(TransportMode)

# Ages that stand for the two age groups the rules tell apart (the half-dose lysis limit is 75).
AGE_UNDER_75 = 60
AGE_75_OR_MORE = 80


def build_call_plans(prepared: PreparedScenario, commune: int, day: date, band: int, draw: int | None) -> CallOptions:
    """Build the plans of a call from ``commune`` on ``day`` in time band ``band`` with availability draw ``draw``.

    ``draw`` None means every unit free, as in the coverage tables.
    """
    return build_options(
        prepared.service,
        prepared.commune_snaps[commune],
        prepared.road_for(day),
        float(prepared.commune_lat[commune]),
        float(prepared.commune_lon[commune]),
        prepared.moment(day, prepared.bands[band]),
        prepared.snapshot(day, band, draw),
        landable=bool(prepared.commune_landable[commune]),
    )


def call_to_diagnosis_min(options: CallOptions) -> int:
    fastest = options.plans[0] if options.plans else None
    return sum(fastest.chain_min[k] for k in CALL_TO_DIAGNOSIS_STEPS) if fastest else 0


@lru_cache(maxsize=None)
def patient_flags(age_75: bool, shock: bool, arrest: bool, contraindicated: bool) -> PatientFlags:
    return PatientFlags(
        age_years=AGE_75_OR_MORE if age_75 else AGE_UNDER_75,
        cardiogenic_shock=shock,
        resuscitated_arrest=arrest,
        contraindication=Contraindication.absolute if contraindicated else Contraindication.none,
    )


class RuleCache:
    """Stage 2 memoised on the inputs its rules read, for one prepared scenario."""

    def __init__(self, prepared: PreparedScenario):
        self.service = prepared.service
        self._strategies: dict[tuple, Strategy] = {}

    def strategy(self, options: CallOptions, onset_to_call_min: int | None, flags: tuple[bool, bool, bool, bool]) -> Strategy:
        """Return the strategy of a call; ``onset_to_call_min`` None means the onset is unknown."""
        fastest = options.plans[0] if options.plans else None
        # Stage 2 reads the fastest plan's minutes to first medical contact, to diagnosis
        # and to the wire, never its destination's name, so calls with the same minutes,
        # onset and flags share one decision.
        minutes = None
        if fastest is not None:
            chain = fastest.chain_min
            minutes = (chain["dispatch"] + chain["smur_to_patient"], chain["fmc_to_diagnosis"], fastest.call_to_diagnosis_min, fastest.diagnosis_to_wire_min)
        key = (minutes, onset_to_call_min, flags)
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = conclude(self.service, options, patient_flags(*flags), onset_to_call_min).decision.strategy
            self._strategies[key] = strategy
        return strategy

"""Coverage per commune: strategy, destination, transport and diagnosis-to-wire minutes, day and night.

Each commune is located as a call naming it is. Its plans are built for a typical patient
(onset-to-call delay at the scenario's median, under 75, no shock or contraindication)
with every unit free and the scheduled cath lab closures applied. The
summary gives the share of residents and of the present population whose fastest
diagnosis-to-wire time, by road and by road or air, is within 60, 90 and 120 minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from dispatch.plans import TransportMode
from dispatch.planning.engine import RuleCache, build_call_plans, call_to_diagnosis_min
from dispatch.planning.prepare import PreparedScenario, _minute

logger = logging.getLogger(__name__)

LIMITS_MIN = (60, 90, 120)
MOMENTS = ("day", "night")
NO_VALUE = -1
TYPICAL_FLAGS = (False, False, False, False)


@dataclass
class Coverage:
    """Per-commune columns (arrays in the population's commune order) and the summary."""

    columns: dict[str, np.ndarray]
    summary: dict[str, Any]


def compute_coverage(prepared: PreparedScenario) -> Coverage:
    """Return the coverage table and summary of a prepared scenario."""
    communes = prepared.population.communes
    size = len(communes)
    day = prepared.days[0]
    typical_onset = round(prepared.model.calls.onset_to_call.median_min)
    rules = RuleCache(prepared)
    columns: dict[str, np.ndarray] = {}

    for moment in MOMENTS:
        clock = prepared.model.period.day_time if moment == "day" else prepared.model.period.night_time
        band = prepared.band_at(_minute(clock))
        strategy = np.full(size, "", dtype=object)
        destination = np.full(size, "", dtype=object)
        transport = np.full(size, "", dtype=object)
        road_min = np.full(size, NO_VALUE, dtype=np.int32)
        any_min = np.full(size, NO_VALUE, dtype=np.int32)
        to_diagnosis = np.full(size, NO_VALUE, dtype=np.int32)
        for index in range(size):
            if prepared.commune_nodes[index] < 0:
                continue
            options = build_call_plans(prepared, index, day, band, None)
            decided = rules.strategy(options, typical_onset, TYPICAL_FLAGS)
            strategy[index] = decided.value
            if options.plans:
                # The chosen plan is the fastest or its lysis variant: same destination and mode.
                fastest = options.plans[0]
                destination[index] = fastest.destination.site.id
                transport[index] = fastest.mode.value
                any_min[index] = fastest.diagnosis_to_wire_min
                to_diagnosis[index] = call_to_diagnosis_min(options)
            if options.road:
                road_min[index] = min(plan.diagnosis_to_wire_min for plan in options.road)
        columns[f"{moment}_strategy"] = strategy
        columns[f"{moment}_destination"] = destination
        columns[f"{moment}_transport"] = transport
        columns[f"{moment}_call_to_diagnosis_min"] = to_diagnosis
        columns[f"{moment}_diagnosis_to_wire_road_min"] = road_min
        columns[f"{moment}_diagnosis_to_wire_road_or_air_min"] = any_min

    population = prepared.population
    present = population.mean_present(list(prepared.days))
    columns["residents"] = population.residents
    columns["present_mean"] = present
    columns["tourist_beds"] = population.beds
    summary = {
        "communes": size,
        "communes_located": int((prepared.commune_nodes >= 0).sum()),
        "residents": float(population.residents.sum()),
        "present_mean": float(present.sum()),
        "reference_day": day.isoformat(),
        "typical_onset_to_call_min": typical_onset,
        "within": shares_within(columns, population.residents, present),
    }
    return Coverage(columns=columns, summary=summary)


def shares_within(columns: dict[str, np.ndarray], residents: np.ndarray, present: np.ndarray) -> dict[str, Any]:
    """Return, per moment and mode, the shares of residents and present population within each limit."""
    shares: dict[str, Any] = {}
    for moment in MOMENTS:
        for mode, column in (("road", "road"), ("road_or_air", "road_or_air")):
            minutes = columns[f"{moment}_diagnosis_to_wire_{column}_min"]
            reached = minutes >= 0
            entry = {}
            for limit in LIMITS_MIN:
                inside = reached & (minutes <= limit)
                entry[str(limit)] = {
                    "residents": round(float(residents[inside].sum() / residents.sum()), 4),
                    "present": round(float(present[inside].sum() / present.sum()), 4),
                }
            shares[f"{moment}_{mode}"] = entry
    return shares



"""The network's quality indicators, per year, département, season or destination.

Delays are medians with their interquartile range and the number of cases they rest on.
Quartiles use linear interpolation, numpy's default. Shares give their numerator and
denominator. Each indicator counts only the cases that hold the times or fields it needs.
Years, months and seasons are those of the call in the region's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from dispatch.registry.fields import POSITION_MEASURED, TIME_FIELDS
from dispatch.registry.models import CaseRecord, ExpectedCount, RecommendationRecord

# Guideline targets of ESC 2017 STEMI and ESC 2023 ACS. The lysis bolus is due within
# 10 min of the diagnosis. Wire crossing is due within 90 min of it, and 120 min at most.
LYSIS_BOLUS_TARGET_MIN = 10
WIRE_TARGETS_MIN = (90, 120)

# Meteorological seasons by month of the call.
SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
           6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
SEASON_ORDER = ("winter", "spring", "summer", "autumn")

GROUPINGS = ("year", "departement", "season", "destination")


@dataclass(frozen=True)
class Median:
    """A delay in minutes: median, first and third quartiles, and the number of cases."""

    median: float | None
    q1: float | None
    q3: float | None
    n: int

    def as_json(self) -> dict[str, Any]:
        return {"median": _round(self.median), "q1": _round(self.q1), "q3": _round(self.q3), "n": self.n}


@dataclass(frozen=True)
class Share:
    """A proportion: cases that meet the condition, cases that could, and the percentage."""

    count: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.count / self.total if self.total else None

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "total": self.total, "percent": _round(self.percent)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# Indicator ids in the order of the report, with their kind.
DELAY_INDICATORS = (
    "onset_to_call_min",
    "call_to_diagnosis_min",
    "fmc_to_lysis_min",
    "fmc_to_puncture_min",
    "gap_call_to_arrival_min",
    "gap_diagnosis_to_wire_min",
)
SHARE_INDICATORS = (
    "primary_pci_share",
    "helicopter_share",
    "direct_admission_share",
    "lysis_within_10_min_share",
    "wire_within_90_min_share",
    "wire_within_120_min_share",
    "recommendation_followed_share",
    "measured_position_share",
)
INDICATORS = ("cases", "completeness", *SHARE_INDICATORS[:3], *DELAY_INDICATORS, *SHARE_INDICATORS[3:])


def load_frame(engine: Engine, timezone: ZoneInfo) -> pd.DataFrame:
    """Read every case with its recommendation's figures into a frame, one row per case."""
    recommendation = RecommendationRecord
    query = select(
        CaseRecord,
        recommendation.strategy.label("recommended_strategy"),
        recommendation.destination.label("recommended_destination"),
        recommendation.transport.label("recommended_transport"),
        recommendation.predicted_call_to_arrival_min,
        recommendation.predicted_diagnosis_to_wire_min,
    ).outerjoin(recommendation, CaseRecord.recommendation_id == recommendation.id)
    with engine.connect() as connection:
        result = connection.execute(query)
        rows = [dict(row._mapping) for row in result]
    records = []
    for row in rows:
        case = row.pop("CaseRecord", None)
        if case is not None:
            row.update({column.name: getattr(case, column.key) for column in CaseRecord.__table__.columns})
        records.append(row)
    return cases_frame(records, timezone)


def cases_frame(records: list[dict[str, Any]], timezone: ZoneInfo) -> pd.DataFrame:
    """Build the indicators' frame from case dicts: UTC times, local year and season, intervals in minutes."""
    columns = [column.name for column in CaseRecord.__table__.columns] + [
        "recommended_strategy", "recommended_destination", "recommended_transport",
        "predicted_call_to_arrival_min", "predicted_diagnosis_to_wire_min",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for name in TIME_FIELDS:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    local_call = frame["call"].dt.tz_convert(timezone.key)
    frame["year"] = local_call.dt.year
    frame["season"] = local_call.dt.month.map(SEASONS)
    for name in ("predicted_call_to_arrival_min", "predicted_diagnosis_to_wire_min"):
        frame[name] = pd.to_numeric(frame[name])

    def minutes(start: str, end: str) -> pd.Series:
        return (frame[end] - frame[start]).dt.total_seconds() / 60.0

    frame["onset_to_call_min"] = minutes("onset", "call")
    frame["call_to_diagnosis_min"] = minutes("call", "diagnosis")
    frame["fmc_to_lysis_min"] = minutes("first_medical_contact", "lysis_bolus")
    frame["fmc_to_puncture_min"] = minutes("first_medical_contact", "arterial_puncture")
    frame["diagnosis_to_bolus_min"] = minutes("diagnosis", "lysis_bolus")
    frame["diagnosis_to_wire_min"] = minutes("diagnosis", "wire_crossing")
    frame["call_to_arrival_min"] = minutes("call", "arrival")
    return frame


def _median(values: pd.Series) -> Median:
    data = values.dropna().to_numpy(dtype=float)
    if data.size == 0:
        return Median(None, None, None, 0)
    q1, median, q3 = np.percentile(data, [25, 50, 75])
    return Median(float(median), float(q1), float(q3), int(data.size))


def _share(condition: pd.Series, eligible: pd.Series) -> Share:
    return Share(int((condition & eligible).sum()), int(eligible.sum()))


def compute(frame: pd.DataFrame, expected_cases: int | None = None) -> dict[str, Median | Share | int | None]:
    """Compute every indicator over the cases of ``frame``.

    ``expected_cases`` is the number of STEMI patients the population should have had;
    with it, completeness is the share of them the registry holds.
    """
    is_pci = frame["strategy"] == "primary_pci"
    is_lysis = frame["lysis_bolus"].notna()
    has_recommendation = frame["recommended_strategy"].notna()
    followed = (frame["strategy"] == frame["recommended_strategy"]) & (
        frame["recommended_destination"].isna() | (frame["destination"] == frame["recommended_destination"])
    )
    pci_with_wire = is_pci & frame["diagnosis_to_wire_min"].notna()

    values: dict[str, Median | Share | int | None] = {
        "cases": len(frame),
        "completeness": Share(len(frame), expected_cases) if expected_cases else None,
        "primary_pci_share": _share(is_pci, frame["strategy"].notna()),
        "helicopter_share": _share(frame["transport"] == "helicopter", frame["transport"].notna()),
        "direct_admission_share": _share(frame["admission"] == "direct", frame["admission"].notna()),
        "onset_to_call_min": _median(frame["onset_to_call_min"]),
        "call_to_diagnosis_min": _median(frame["call_to_diagnosis_min"]),
        "fmc_to_lysis_min": _median(frame["fmc_to_lysis_min"]),
        "fmc_to_puncture_min": _median(frame["fmc_to_puncture_min"].where(is_pci)),
        "gap_call_to_arrival_min": _median(frame["call_to_arrival_min"] - frame["predicted_call_to_arrival_min"]),
        "gap_diagnosis_to_wire_min": _median((frame["diagnosis_to_wire_min"] - frame["predicted_diagnosis_to_wire_min"]).where(is_pci)),
        "lysis_within_10_min_share": _share(
            frame["diagnosis_to_bolus_min"] <= LYSIS_BOLUS_TARGET_MIN, is_lysis & frame["diagnosis_to_bolus_min"].notna()
        ),
        "wire_within_90_min_share": _share(frame["diagnosis_to_wire_min"] <= WIRE_TARGETS_MIN[0], pci_with_wire),
        "wire_within_120_min_share": _share(frame["diagnosis_to_wire_min"] <= WIRE_TARGETS_MIN[1], pci_with_wire),
        "recommendation_followed_share": _share(followed, has_recommendation & frame["strategy"].notna()),
        # Among cases whose position's source is recorded: measured, not the commune's centre.
        "measured_position_share": _share(frame["position_source"] == POSITION_MEASURED, frame["position_source"].notna()),
    }
    return values


def compute_by(frame: pd.DataFrame, grouping: str, expected: dict[int, int] | None = None) -> dict[Any, dict[str, Any]]:
    """Compute the indicators for each value of ``grouping`` (one of GROUPINGS), in order."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}; choose among {', '.join(GROUPINGS)}")
    keys = frame[grouping].dropna().unique().tolist()
    if grouping == "season":
        keys = [season for season in SEASON_ORDER if season in keys]
    else:
        keys = sorted(keys)
    results = {}
    # NOTE: expected counts are per year only, so completeness is computed for years and
    # not for départements, seasons or destinations.
    for key in keys:
        expected_cases = (expected or {}).get(int(key)) if grouping == "year" else None
        results[key] = compute(frame[frame[grouping] == key], expected_cases)
    return results


def read_expected(engine: Engine) -> dict[int, int]:
    """Return the expected number of cases per year stored in the registry."""
    with engine.connect() as connection:
        return {row.year: row.expected_cases for row in connection.execute(select(ExpectedCount))}


def as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Return indicator values as plain JSON types."""
    return {key: (value.as_json() if hasattr(value, "as_json") else value) for key, value in values.items()}

"""Export of the registry to CSV (local times with their offset) or Parquet (UTC timestamps).

An export has the import's case columns, where the position came from
(``position_source``), the case's département, and the figures of its linked recommendation (``recommended_*``, ``predicted_*`` and ``recommendation_source``).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, select

from dispatch.registry.fields import CASE_FIELDS, RECOMMENDED_FIELDS, TIME_FIELDS
from dispatch.registry.models import CaseRecord, ExpectedCount, RecommendationRecord
from dispatch.registry.store import RegistryError, RegistryInputError

logger = logging.getLogger(__name__)

FORMATS = ("csv", "parquet")
# position_source follows lat and lon: "measured", "commune_centre", or empty for cases
# stored before it was recorded.
EXPORT_COLUMNS = (
    *CASE_FIELDS[: CASE_FIELDS.index("lon") + 1],
    "position_source",
    *CASE_FIELDS[CASE_FIELDS.index("lon") + 1 :],
    "departement",
    *RECOMMENDED_FIELDS,
    "recommendation_source",
)


def export_frame(engine: Engine) -> pd.DataFrame:
    """Return every case, ordered by call time, with its recommendation's figures; times in UTC."""
    recommendation = RecommendationRecord
    case_columns = [getattr(CaseRecord, name) for name in EXPORT_COLUMNS if name in CaseRecord.__table__.columns]
    query = (
        select(
            *case_columns,
            recommendation.strategy.label("recommended_strategy"),
            recommendation.destination.label("recommended_destination"),
            recommendation.transport.label("recommended_transport"),
            recommendation.predicted_call_to_arrival_min,
            recommendation.predicted_diagnosis_to_wire_min,
            recommendation.source.label("recommendation_source"),
        )
        .outerjoin(recommendation, CaseRecord.recommendation_id == recommendation.id)
        .order_by(CaseRecord.call, CaseRecord.case_id)
    )
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    frame = pd.DataFrame.from_records(rows, columns=list(EXPORT_COLUMNS))
    for name in TIME_FIELDS:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["age_years"] = frame["age_years"].astype("Int64")
    frame["in_hospital_death"] = frame["in_hospital_death"].astype("boolean")
    return frame


def export(engine: Engine, out: Path, file_format: str, timezone: ZoneInfo) -> int:
    """Write the registry to ``out`` in ``file_format``; return the number of cases written."""
    if file_format not in FORMATS:
        raise RegistryError("registry_format_unknown", f"unknown format {file_format!r}", field="format", value=file_format, choices=", ".join(FORMATS))
    frame = export_frame(engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "parquet":
        frame.to_parquet(out, index=False)
    else:
        text = frame.copy()
        for name in TIME_FIELDS:
            text[name] = text[name].map(lambda t: t.tz_convert(timezone.key).isoformat(timespec="minutes") if pd.notna(t) else "")
        text["in_hospital_death"] = text["in_hospital_death"].map(lambda v: "" if pd.isna(v) else ("1" if v else "0"))
        text.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    logger.info("registry export: %d cases to %s (%s)", len(frame), out, file_format)
    return len(frame)


def store_expected(engine: Engine, path: Path) -> dict[int, int]:
    """Replace the expected case counts with those of a CSV file of ``year,expected_cases``."""
    counts: dict[int, int] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if set(reader.fieldnames or []) != {"year", "expected_cases"}:
                raise RegistryInputError(
                    "registry_expected_columns", f"{path}: the columns must be year,expected_cases", field="columns", path=str(path)
                )
            for row_number, row in enumerate(reader, start=2):
                try:
                    year, count = int(row["year"]), int(row["expected_cases"])
                    if count <= 0:
                        raise ValueError(count)
                except ValueError as err:
                    raise RegistryInputError(
                        "registry_expected_invalid",
                        f"{path}, row {row_number}: {row} is not a year and a positive count",
                        field="expected_cases",
                        path=str(path),
                        row=row_number,
                    ) from err
                counts[year] = count
    except OSError as err:
        raise RegistryInputError("registry_file_unreadable", f"cannot read {path}: {err}", field="file", path=str(path), detail=str(err)) from err
    with engine.begin() as connection:
        connection.execute(ExpectedCount.__table__.delete().where(ExpectedCount.year.in_(list(counts))))
        if counts:
            connection.execute(ExpectedCount.__table__.insert(), [{"year": y, "expected_cases": c} for y, c in counts.items()])
    return counts

"""CSV import: check every row, store the valid ones in one transaction, report the rest.

The batch is all or nothing: the valid rows go in a single transaction, so a crash or a
database error mid-import leaves the registry as it was. Rejected rows are listed with
their row number (the header is row 1) and field; they do not stop the others.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from dispatch.registry.case_id import DEFAULT_CASE_ID_PATTERN
from dispatch.registry.fields import CSV_COLUMNS, IDENTITY_COLUMNS, REQUIRED_COLUMNS
from dispatch.registry.models import CaseRecord, RecommendationRecord
from dispatch.registry.store import RegistryError, RegistryInputError
from dispatch.registry.validate import CaseCheck, RowError, ValidCase, check_case
from geodata.region import Region

logger = logging.getLogger(__name__)

# Rows per INSERT statement inside the one transaction: large enough for speed, small
# enough to keep each statement's parameters well under the drivers' limits.
CHUNK_ROWS = 500


@dataclass
class ImportReport:
    """The outcome of an import: rows read, rows stored, rows rejected with their errors."""

    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})


def case_check(engine: Engine, region: Region, case_ids: list[str] | None = None, case_id_pattern: str = DEFAULT_CASE_ID_PATTERN) -> CaseCheck:
    """Return the checks of a case against the region and what the registry already holds.

    With ``case_ids``, only those ids are looked up among the stored cases (one case from
    the API); without, every stored id is read once (a file). ``case_id_pattern`` is the
    registry's case id format (RESURCOR_CASE_ID_PATTERN).
    """
    query = select(CaseRecord.case_id)
    if case_ids is not None:
        query = query.where(CaseRecord.case_id.in_(case_ids))
    with engine.connect() as connection:
        existing = set(connection.scalars(query))

    def recommendation_state(recommendation_id: str) -> tuple[bool, bool]:
        with engine.connect() as connection:
            recorded = connection.scalar(select(RecommendationRecord.id).where(RecommendationRecord.id == recommendation_id))
            linked = connection.scalar(select(CaseRecord.case_id).where(CaseRecord.recommendation_id == recommendation_id))
        return recorded is not None, linked is not None

    return CaseCheck(
        timezone=region.timezone,
        crs=region.crs,
        communes=region.communes,
        destinations=frozenset(site.id for site in region.sites.sites),
        existing_case_ids=existing,
        recommendation_state=recommendation_state,
        contains=region.contains,
        commune_distance_m=partial(commune_distance_m, region) if region.communes_polygons_path is not None else None,
        commune_at=region.commune_at,
        case_id_pattern=re.compile(case_id_pattern),
    )


def commune_distance_m(region: Region, insee: str, lon: float, lat: float) -> float | None:
    """Return how far the point lies outside the commune's polygon in metres (0 inside), or None without a polygon."""
    polygon = region.commune_polygon(insee)
    if polygon is None:
        return None
    shapely.prepare(polygon)
    x, y = region.project(lon, lat)
    if shapely.contains_xy(polygon, x, y):
        return 0.0
    return float(shapely.distance(polygon, shapely.Point(x, y)))


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Parse CSV text; return its columns and rows, or raise RegistryError on a bad header."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = columns
    identity = sorted(name for name in columns if name.lower() in IDENTITY_COLUMNS)
    if identity:
        raise RegistryInputError(
            "registry_identity_columns",
            f"the file has columns that identify a patient ({', '.join(identity)}): remove them, the registry is pseudonymous",
            field="columns",
            columns=", ".join(identity),
            count=len(identity),
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RegistryInputError(
            "registry_columns_missing", f"missing columns: {', '.join(missing)}", field="columns", columns=", ".join(missing), count=len(missing)
        )
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        raise RegistryInputError(
            "registry_columns_unknown",
            f"unknown columns {', '.join(unknown)}; allowed: {', '.join(CSV_COLUMNS)}",
            field="columns",
            columns=", ".join(unknown),
            allowed=", ".join(CSV_COLUMNS),
            count=len(unknown),
        )
    return columns, list(reader)


def import_csv(engine: Engine, path: Path, region: Region, *, case_id_pattern: str = DEFAULT_CASE_ID_PATTERN) -> ImportReport:
    """Import the cases of a CSV file; raise RegistryError when the file itself is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise RegistryInputError("registry_file_unreadable", f"cannot read {path}: {err}", field="file", path=str(path), detail=str(err)) from err
    except UnicodeDecodeError as err:
        raise RegistryInputError("registry_file_unreadable", f"{path} is not UTF-8: {err}", field="file", path=str(path), detail=str(err)) from err
    return import_text(engine, text, region, source=str(path), case_id_pattern=case_id_pattern)


def import_text(
    engine: Engine, text: str, region: Region, *, source: str = "<text>", case_id_pattern: str = DEFAULT_CASE_ID_PATTERN
) -> ImportReport:
    """Import the cases of CSV text; see import_csv."""
    started = time.perf_counter()
    _, rows = read_rows(text)
    check = case_check(engine, region, case_id_pattern=case_id_pattern)
    report = ImportReport(rows=len(rows))

    valid: list[ValidCase] = []
    for index, raw in enumerate(rows, start=2):
        case, errors = check_case(raw, index, check)
        if case is None:
            report.errors.extend(errors)
        else:
            valid.append(case)

    store_cases(engine, valid)
    report.imported = len(valid)
    report.seconds = time.perf_counter() - started
    logger.info(
        "registry import of %s: %d rows, %d imported, %d rejected, in %.2f s",
        source, report.rows, report.imported, len(report.rejected_rows), report.seconds,
    )
    return report


def store_cases(engine: Engine, cases: list[ValidCase]) -> None:
    """Insert checked cases and their described recommendations in one transaction."""
    if not cases:
        return
    now = datetime.now(UTC)
    recommendations = [{**case.recommendation, "recorded_at": now} for case in cases if case.recommendation is not None]
    rows = [{**case.values, "recorded_at": now} for case in cases]
    try:
        with engine.begin() as connection:
            for start in range(0, len(recommendations), CHUNK_ROWS):
                connection.execute(insert(RecommendationRecord), recommendations[start : start + CHUNK_ROWS])
            for start in range(0, len(rows), CHUNK_ROWS):
                connection.execute(insert(CaseRecord), rows[start : start + CHUNK_ROWS])
    except IntegrityError as err:
        # Another writer stored one of these case ids since the check: nothing was kept.
        raise RegistryError(
            "registry_import_conflict",
            f"the import conflicts with cases stored meanwhile; nothing was imported, run it again: {err.orig}",
            detail=str(err.orig).strip(),
        ) from err
    except OperationalError as err:
        raise RegistryError(
            "registry_import_failed", f"the database failed during the import; nothing was imported: {err.orig}", detail=str(err.orig).strip()
        ) from err


def case_values_json(values: dict[str, Any]) -> dict[str, Any]:
    """Return stored case values with times as ISO 8601 strings."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in values.items()}

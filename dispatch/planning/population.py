"""Present population per commune: residents plus tourists in their beds on a given day.

Present population = legal population + tourist beds × occupancy rate of the bed type's
period (``occupancy_profile``: winter resort, mountain village, lake town...). Both
tables are CSV files. The ones shipped for a region carry a source and a confidence per
row, and a planner may give a table of their own with the same columns.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from geodata.communes import Commune
from dispatch.planning.scenario import ScenarioError

logger = logging.getLogger(__name__)

BEDS_REQUIRED = ("insee", "tourist_beds_total")
OCCUPANCY_REQUIRED = ("occupancy_profile", "period", "start_mmdd", "end_mmdd", "occ_all_beds")

# The period of a profile that covers the days none of its dated periods covers.
REST_OF_YEAR = "rest_of_year"

# The profile of a planner's row that names none: second homes outside resorts.
DEFAULT_OCCUPANCY_PROFILE = "other_second_homes"


@dataclass(frozen=True)
class OccupancyPeriod:
    profile: str
    period: str
    start_mmdd: str
    end_mmdd: str
    rate: float
    confidence: str
    source: str

    def contains(self, day: date) -> bool:
        if not self.start_mmdd or not self.end_mmdd:
            return False
        key = f"{day.month:02d}-{day.day:02d}"
        if self.start_mmdd <= self.end_mmdd:
            return self.start_mmdd <= key <= self.end_mmdd
        return key >= self.start_mmdd or key <= self.end_mmdd


@dataclass(frozen=True)
class TouristBeds:
    """One commune's beds, with where the figure comes from."""

    insee: str
    beds: float
    occupancy_profile: str
    source: str
    confidence: str


def _rows(path: Path, required: tuple[str, ...], key: str) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [name for name in required if name not in columns]
            if missing:
                raise ScenarioError(
                    "population_columns", f"{path}: missing columns {missing}", field=key, path=str(path), columns=", ".join(missing)
                )
            return list(reader)
    except FileNotFoundError as err:
        raise ScenarioError("population_file_missing", f"{path} not found", field=key, path=str(path)) from err


def read_tourist_beds(path: Path, known_insee: set[str], key: str = "population.tourist_beds") -> dict[str, TouristBeds]:
    """Read a beds table; raise ScenarioError naming the row of an invalid value or unknown commune."""
    beds: dict[str, TouristBeds] = {}
    for line, row in enumerate(_rows(path, BEDS_REQUIRED, key), start=2):
        insee = (row.get("insee") or "").strip()
        if insee not in known_insee:
            raise ScenarioError("population_unknown_commune", f"{path}:{line}: commune {insee!r} is not in the region", field=key, path=str(path), line=line, insee=insee)
        try:
            count = float(row["tourist_beds_total"])
        except ValueError as err:
            raise ScenarioError("population_value", f"{path}:{line}: tourist_beds_total {row['tourist_beds_total']!r} is not a number", field=key, path=str(path), line=line, column="tourist_beds_total", value=row["tourist_beds_total"]) from err
        if not np.isfinite(count) or count < 0:
            raise ScenarioError("population_value", f"{path}:{line}: tourist_beds_total must be ≥ 0", field=key, path=str(path), line=line, column="tourist_beds_total", value=row["tourist_beds_total"])
        beds[insee] = TouristBeds(
            insee=insee,
            beds=count,
            occupancy_profile=(row.get("occupancy_profile") or DEFAULT_OCCUPANCY_PROFILE).strip(),
            source=(row.get("source") or "planner's table").strip(),
            confidence=(row.get("confidence") or "unknown").strip(),
        )
    return beds


def read_occupancy(path: Path, key: str = "population.occupancy") -> list[OccupancyPeriod]:
    periods = []
    for line, row in enumerate(_rows(path, OCCUPANCY_REQUIRED, key), start=2):
        try:
            rate = float(row["occ_all_beds"])
        except ValueError as err:
            raise ScenarioError("population_value", f"{path}:{line}: occ_all_beds {row['occ_all_beds']!r} is not a number", field=key, path=str(path), line=line, column="occ_all_beds", value=row["occ_all_beds"]) from err
        if not 0.0 <= rate <= 1.0:
            raise ScenarioError("population_value", f"{path}:{line}: occ_all_beds must be between 0 and 1", field=key, path=str(path), line=line, column="occ_all_beds", value=row["occ_all_beds"])
        periods.append(
            OccupancyPeriod(
                profile=row["occupancy_profile"].strip(),
                period=row["period"].strip(),
                start_mmdd=(row.get("start_mmdd") or "").strip(),
                end_mmdd=(row.get("end_mmdd") or "").strip(),
                rate=rate,
                confidence=(row.get("confidence") or "unknown").strip(),
                source=(row.get("source") or "").strip(),
            )
        )
    return periods


@dataclass(frozen=True)
class PopulationModel:
    """Residents and tourist beds of the region's communes, in the order of ``communes``."""

    communes: tuple[Commune, ...]
    residents: np.ndarray
    beds: np.ndarray
    occupancy_profiles: tuple[str, ...]
    bed_sources: tuple[str, ...]
    bed_confidences: tuple[str, ...]
    occupancy: tuple[OccupancyPeriod, ...]
    named_period: str | None = None
    rate_override: float | None = None

    def occupancy_rates(self, day: date) -> np.ndarray:
        """Return the occupancy rate of each commune's beds on ``day``.

        A named period (``february_peak_week``) applies whatever the day. A profile with
        no dated period covering the day uses its ``rest_of_year`` period, else 0.
        """
        if self.rate_override is not None:
            return np.full(len(self.communes), self.rate_override)
        by_profile: dict[str, float] = {}
        for profile in set(self.occupancy_profiles):
            rows = [p for p in self.occupancy if p.profile == profile]
            chosen = None
            if self.named_period is not None:
                chosen = next((p for p in rows if p.period == self.named_period), None)
            if chosen is None:
                chosen = next((p for p in rows if p.contains(day)), None)
            if chosen is None:
                chosen = next((p for p in rows if p.period == REST_OF_YEAR), None)
            by_profile[profile] = chosen.rate if chosen else 0.0
        return np.array([by_profile.get(profile, 0.0) for profile in self.occupancy_profiles])

    def present(self, day: date) -> np.ndarray:
        """Return the present population of each commune on ``day``."""
        return self.residents + self.beds * self.occupancy_rates(day)

    def mean_present(self, days: list[date]) -> np.ndarray:
        """Return each commune's present population averaged over ``days``."""
        return np.mean([self.present(day) for day in days], axis=0)


def build_population(
    communes: tuple[Commune, ...],
    beds_path: Path | None,
    occupancy_path: Path | None,
    *,
    named_period: str | None = None,
    rate_override: float | None = None,
) -> PopulationModel:
    """Return the population model of ``communes``; no beds table means residents only."""
    known = {c.insee for c in communes}
    table = read_tourist_beds(beds_path, known) if beds_path else {}
    occupancy = read_occupancy(occupancy_path) if occupancy_path else []
    profiles = {p.profile for p in occupancy}
    if table and not occupancy and rate_override is None:
        raise ScenarioError("population_no_occupancy", "a beds table needs an occupancy table or population.occupancy_rate", field="population.occupancy")
    unknown = sorted({row.occupancy_profile for row in table.values()} - profiles) if occupancy else []
    if unknown:
        raise ScenarioError("population_unknown_profile", f"occupancy profiles {unknown} are not in the occupancy table", field="population.tourist_beds", profiles=", ".join(unknown))
    if named_period is not None and occupancy and named_period not in {p.period for p in occupancy}:
        choices = ", ".join(sorted({p.period for p in occupancy}))
        raise ScenarioError("population_unknown_period", f"occupancy period {named_period!r} is not in the table", field="population.occupancy_period", value=named_period, choices=choices)

    empty = TouristBeds("", 0.0, DEFAULT_OCCUPANCY_PROFILE, "", "")
    rows = [table.get(c.insee, empty) for c in communes]
    logger.info("population: %d communes, %d with tourist beds (%.0f beds)", len(communes), len(table), sum(r.beds for r in rows))
    return PopulationModel(
        communes=communes,
        residents=np.array([c.population for c in communes], dtype=np.float64),
        beds=np.array([r.beds for r in rows], dtype=np.float64),
        occupancy_profiles=tuple(r.occupancy_profile for r in rows),
        bed_sources=tuple(r.source for r in rows),
        bed_confidences=tuple(r.confidence for r in rows),
        occupancy=tuple(occupancy),
        named_period=named_period,
        rate_override=rate_override,
    )

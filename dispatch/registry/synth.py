"""A seeded synthetic registry whose yearly trends follow the northern Alps' published figures.

The region's STEMI network reported these figures for 2002, then 2008. Primary PCI went
from 33 % to 53 % of patients. The median first medical contact to thrombolysis went
from 62 to 24 min, and to arterial puncture from 101 to 78 min. Helicopter transport went
from 3 % to 12 %. In 2008, 92 % were admitted directly to an interventional centre and the
registry was 84 % complete. The generator moves each figure linearly between its two years. Every case is fictitious: communes are
drawn by population, times are drawn around those medians, and nothing comes from a patient.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from dispatch.registry.fields import CSV_COLUMNS
from geodata.region import Region


@dataclass(frozen=True)
class Trend:
    """A figure at the first and the last year; the years between are interpolated linearly."""

    first: float
    last: float

    def at(self, year: int, first_year: int, last_year: int) -> float:
        if last_year == first_year:
            return self.last
        fraction = (year - first_year) / (last_year - first_year)
        return self.first + fraction * (self.last - self.first)


PRIMARY_PCI_SHARE = Trend(0.33, 0.53)
FMC_TO_LYSIS_MIN = Trend(62, 24)
FMC_TO_PUNCTURE_MIN = Trend(101, 78)
HELICOPTER_SHARE = Trend(0.03, 0.12)
# NOTE: only the 2008 figure (92 %) is published; 75 % in 2002 is an assumption.
DIRECT_ADMISSION_SHARE = Trend(0.75, 0.92)
COMPLETENESS = 0.84
# The share of patients whose strategy and destination followed the recommendation.
FOLLOWED_SHARE = Trend(0.80, 0.90)
# Spread of each delay around its median (standard deviation of its logarithm).
LOG_SPREAD = 0.3


def _lognormal(rng: np.random.Generator, median: float) -> float:
    return float(median * math.exp(rng.normal(0.0, LOG_SPREAD)))


def generate(region: Region, cases: int, seed: int, first_year: int = 2002, last_year: int = 2008) -> tuple[list[dict[str, str]], dict[int, int]]:
    """Return ``cases`` synthetic CSV rows over the years, and the expected case count per year."""
    rng = np.random.default_rng(seed)
    timezone: ZoneInfo = region.timezone
    communes = list(region.communes.communes)
    weights = np.array([max(c.population, 1) for c in communes], dtype=float)
    weights /= weights.sum()
    labs = list(region.sites.cath_labs)
    lab_points = np.array([[s.lat, s.lon] for s in labs])
    years = list(range(first_year, last_year + 1))

    # Shares are drawn exactly per year (a shuffled set of flags), so the yearly trends
    # follow the figures instead of wandering with the sampling noise of ~600 cases.
    per_year = {year: 0 for year in years}
    for index in range(cases):
        per_year[years[index * len(years) // cases]] += 1
    flags = {}
    for year in years:
        count = per_year[year]
        flags[year] = {
            name: _exact_flags(rng, count, trend.at(year, first_year, last_year))
            for name, trend in (
                ("primary_pci", PRIMARY_PCI_SHARE),
                ("helicopter", HELICOPTER_SHARE),
                ("direct", DIRECT_ADMISSION_SHARE),
                ("followed", FOLLOWED_SHARE),
            )
        }

    rows: list[dict[str, str]] = []
    for index in range(cases):
        year = years[index * len(years) // cases]
        position = index - sum(per_year[y] for y in years if y < year)
        drawn = {name: bool(values[position]) for name, values in flags[year].items()}
        commune = communes[int(rng.choice(len(communes), p=weights))]

        # A call at a random minute of the year, in local time, then the chain in UTC minutes.
        start = datetime(year, 1, 1, tzinfo=timezone)
        days = (datetime(year + 1, 1, 1, tzinfo=timezone) - start).days
        call_local = start + timedelta(days=int(rng.integers(days)), minutes=int(rng.integers(24 * 60)))
        call = call_local.astimezone(ZoneInfo("UTC"))
        onset = call - timedelta(minutes=_lognormal(rng, 70))
        smur_departure = call + timedelta(minutes=_lognormal(rng, 5))
        fmc = smur_departure + timedelta(minutes=_lognormal(rng, 18))
        ecg = fmc + timedelta(minutes=_lognormal(rng, 5))
        diagnosis = ecg + timedelta(minutes=_lognormal(rng, 2))

        primary_pci = drawn["primary_pci"]
        distances = np.hypot(lab_points[:, 0] - commune.lat, (lab_points[:, 1] - commune.lon) * math.cos(math.radians(commune.lat)))
        destination = labs[int(np.argmin(distances))]
        helicopter = drawn["helicopter"]
        direct = drawn["direct"]
        bolus = puncture = wire = None
        if primary_pci:
            puncture = fmc + timedelta(minutes=_lognormal(rng, FMC_TO_PUNCTURE_MIN.at(year, first_year, last_year)))
            scene_departure = diagnosis + timedelta(minutes=(puncture - diagnosis).total_seconds() / 60 * 0.2)
            arrival = puncture - timedelta(minutes=_lognormal(rng, 15 if direct else 35))
            arrival = max(arrival, scene_departure + timedelta(minutes=5))
            puncture = max(puncture, arrival + timedelta(minutes=3))
            wire = puncture + timedelta(minutes=_lognormal(rng, 12))
            strategy = "primary_pci"
        else:
            bolus = fmc + timedelta(minutes=_lognormal(rng, FMC_TO_LYSIS_MIN.at(year, first_year, last_year)))
            bolus = max(bolus, diagnosis + timedelta(minutes=1))
            scene_departure = bolus + timedelta(minutes=_lognormal(rng, 10))
            arrival = scene_departure + timedelta(minutes=_lognormal(rng, 40))
            strategy = "fibrinolysis_then_transfer"

        # The recommendation given: the strategy done unless the team departed from it.
        followed = drawn["followed"]
        other = "fibrinolysis_then_transfer" if strategy == "primary_pci" else "primary_pci"
        predicted_arrival = (arrival - call).total_seconds() / 60 - rng.normal(5, 8)
        predicted_wire = (wire - diagnosis).total_seconds() / 60 - rng.normal(8, 10) if wire else None

        # A point near the commune's, kept inside the region and the commune's polygon so
        # that the import accepts it.
        lat, lon = commune.lat + rng.normal(0, 0.005), commune.lon + rng.normal(0, 0.005)
        if not region.contains(lon, lat) or not _in_polygon(region, commune.insee, lat, lon):
            lat, lon = commune.lat, commune.lon

        row = {
            "case_id": f"SYN-{year}-{index:05d}",
            "age_years": str(int(np.clip(rng.normal(63, 13), 25, 99))),
            "sex": "M" if rng.random() < 0.75 else "F",
            "commune_insee": commune.insee,
            "lat": f"{lat:.5f}",
            "lon": f"{lon:.5f}",
            "onset": _iso(onset, timezone),
            "call": _iso(call, timezone),
            "smur_departure": _iso(smur_departure, timezone),
            "first_medical_contact": _iso(fmc, timezone),
            "ecg": _iso(ecg, timezone),
            "diagnosis": _iso(diagnosis, timezone),
            "lysis_bolus": _iso(bolus, timezone),
            "scene_departure": _iso(scene_departure, timezone),
            "arrival": _iso(arrival, timezone),
            "arterial_puncture": _iso(puncture, timezone),
            "wire_crossing": _iso(wire, timezone),
            "strategy": strategy,
            "transport": "helicopter" if helicopter else "road",
            "destination": destination.id,
            "admission": "direct" if direct else "ed",
            "in_hospital_death": "1" if rng.random() < 0.06 else "0",
            "recommendation_id": "",
            "recommended_strategy": strategy if followed else other,
            "recommended_destination": destination.id,
            "recommended_transport": "helicopter" if helicopter else "road",
            "predicted_call_to_arrival_min": f"{max(predicted_arrival, 1):.0f}",
            "predicted_diagnosis_to_wire_min": f"{max(predicted_wire, 1):.0f}" if predicted_wire is not None else "",
        }
        rows.append(row)
    expected = {year: round(count / COMPLETENESS) for year, count in per_year.items()}
    return rows, expected


def _in_polygon(region: Region, insee: str, lat: float, lon: float) -> bool:
    polygon = region.commune_polygon(insee)
    if polygon is None:
        return True
    return bool(shapely.contains_xy(polygon, *region.project(lon, lat)))


def _exact_flags(rng: np.random.Generator, count: int, share: float) -> np.ndarray:
    flags = np.zeros(count, dtype=bool)
    flags[: round(count * share)] = True
    return rng.permutation(flags)


def _iso(moment: datetime | None, timezone: ZoneInfo) -> str:
    """Local time with its UTC offset, to the minute: unambiguous on daylight-saving nights."""
    return moment.astimezone(timezone).isoformat(timespec="minutes") if moment is not None else ""


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def write_expected(expected: dict[int, int], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["year", "expected_cases"])
        for year, count in sorted(expected.items()):
            writer.writerow([year, count])

"""Indicators on a small hand-made registry whose expected values are worked out here.

Six cases, on SQLite and PostgreSQL. Two of them fall on daylight-saving nights in
Europe/Paris: 30 March 2008 (02:00 → 03:00) and 26 October 2008 (03:00 → 02:00), where
the wall clock misleads and only the UTC offsets give the true intervals.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.registry.fields import CSV_COLUMNS
from dispatch.registry.importer import import_text
from dispatch.registry.indicators import compute_by, load_frame
from registry_support import registry_engine, registry_url  # noqa: F401

PARIS = ZoneInfo("Europe/Paris")


def at(start: str, minutes: int | None) -> str:
    """The local time ``minutes`` after ``start`` (a time with its offset), with its offset."""
    if minutes is None:
        return ""
    moment = datetime.fromisoformat(start) + timedelta(minutes=minutes)
    return moment.astimezone(PARIS).isoformat(timespec="minutes")


def chain(call: str, **minutes: int) -> dict[str, str]:
    """Times given as minutes from the call (negative for the onset)."""
    return {name: at(call, value) for name, value in minutes.items()} | {"call": call}


# A, 2008, Grenoble (38), January: primary PCI by road, admitted directly; recommendation followed.
CASE_A = {
    "case_id": "IND-2008-1", "age_years": "61", "sex": "M", "commune_insee": "38185",
    **chain("2008-01-15T10:00+01:00", onset=-60, smur_departure=5, first_medical_contact=20, ecg=25, diagnosis=30,
            scene_departure=45, arrival=80, arterial_puncture=95, wire_crossing=110),
    "strategy": "primary_pci", "transport": "road", "destination": "grenoble-chu-nord", "admission": "direct",
    "in_hospital_death": "0",
    "recommended_strategy": "primary_pci", "recommended_destination": "grenoble-chu-nord", "recommended_transport": "road",
    "predicted_call_to_arrival_min": "70", "predicted_diagnosis_to_wire_min": "75",
}
# B, 2008, Chambéry (73), July: primary PCI by helicopter through the ED; lysis was recommended.
CASE_B = {
    "case_id": "IND-2008-2", "age_years": "70", "sex": "F", "commune_insee": "73065",
    **chain("2008-07-02T15:00+02:00", onset=-120, first_medical_contact=30, diagnosis=40, arrival=120,
            arterial_puncture=145, wire_crossing=160),
    "strategy": "primary_pci", "transport": "helicopter", "destination": "chambery-ch-metropole-savoie", "admission": "ed",
    "recommended_strategy": "fibrinolysis_then_transfer", "recommended_destination": "chambery-ch-metropole-savoie",
    "predicted_call_to_arrival_min": "100", "predicted_diagnosis_to_wire_min": "100",
}
# C, 2008, Annecy (74), the night clocks go back: the bolus at 02:03+01:00 comes 8 min
# after the diagnosis at 02:55+02:00, although the wall clock reads 52 min earlier.
CASE_C = {
    "case_id": "IND-2008-3", "age_years": "55", "sex": "M", "commune_insee": "74010",
    "onset": "2008-10-26T01:20+02:00",
    "call": "2008-10-26T01:50+02:00",
    "first_medical_contact": "2008-10-26T02:40+02:00",
    "diagnosis": "2008-10-26T02:55+02:00",
    "lysis_bolus": "2008-10-26T02:03+01:00",
    "scene_departure": "2008-10-26T02:20+01:00",
    "arrival": "2008-10-26T03:00+01:00",
    "strategy": "fibrinolysis_then_transfer", "transport": "road", "destination": "annecy-change", "admission": "direct",
    "recommended_strategy": "fibrinolysis_then_transfer", "recommended_destination": "annecy-change",
    "predicted_call_to_arrival_min": "120",
}
# D, 2008, Grenoble (38), the night clocks jump forward: first medical contact at
# 03:05+02:00 is 15 min after the call at 01:50+01:00, not 75. No recommendation.
CASE_D = {
    "case_id": "IND-2008-4", "commune_insee": "38185",
    "onset": "2008-03-30T01:30+01:00",
    "call": "2008-03-30T01:50+01:00",
    "first_medical_contact": "2008-03-30T03:05+02:00",
    "diagnosis": "2008-03-30T03:10+02:00",
    "lysis_bolus": "2008-03-30T03:25+02:00",
    "arrival": "2008-03-30T04:30+02:00",
    "strategy": "fibrinolysis_then_transfer", "transport": "road", "destination": "grenoble-chu-nord", "admission": "ed",
}
# E, 2007, Grenoble (38), May, times without offset (read as local summer time, +02:00).
CASE_E = {
    "case_id": "IND-2007-5", "commune_insee": "38185", "lat": "45.1885", "lon": "5.7245",
    "onset": "2007-05-10T12:30", "call": "2007-05-10T14:00", "first_medical_contact": "2007-05-10T14:15",
    "diagnosis": "2007-05-10T14:25", "arrival": "2007-05-10T15:00", "arterial_puncture": "2007-05-10T15:10",
    "wire_crossing": "2007-05-10T15:25",
    "strategy": "primary_pci", "transport": "road", "destination": "grenoble-chu-nord", "admission": "direct",
}
# F, 2007, Chambéry (73), December: lysis 7 min after the diagnosis; recommendation followed.
CASE_F = {
    "case_id": "IND-2007-6", "commune_insee": "73065",
    **chain("2007-12-20T21:00+01:00", onset=-240, first_medical_contact=25, diagnosis=35, lysis_bolus=42, arrival=150),
    "strategy": "fibrinolysis_then_transfer", "transport": "road", "destination": "chambery-ch-metropole-savoie", "admission": "ed",
    "recommended_strategy": "fibrinolysis_then_transfer", "recommended_destination": "chambery-ch-metropole-savoie",
    "predicted_call_to_arrival_min": "140",
}
CASES = [CASE_A, CASE_B, CASE_C, CASE_D, CASE_E, CASE_F]


def to_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in CSV_COLUMNS})
    return buffer.getvalue()


@pytest.fixture
def frame(registry_engine, region):
    report = import_text(registry_engine, to_csv(CASES), region)
    assert report.errors == []
    assert report.imported == 6
    return load_frame(registry_engine, region.timezone)


def median_of(value) -> tuple:
    return (value.median, value.q1, value.q3, value.n)


def share_of(value) -> tuple:
    return (value.count, value.total)


def test_year_2008_every_indicator(frame):
    results = compute_by(frame, "year", {2008: 5})
    year = results[2008]

    assert year["cases"] == 4
    # 4 of the 5 expected patients are in the registry.
    assert share_of(year["completeness"]) == (4, 5)
    assert year["completeness"].percent == 80.0
    # A and B had primary PCI; B flew; A and C were admitted directly.
    assert share_of(year["primary_pci_share"]) == (2, 4)
    assert share_of(year["helicopter_share"]) == (1, 4)
    assert share_of(year["direct_admission_share"]) == (2, 4)
    # Onset to call: A 60, B 120, C 30, D 20 → sorted 20 30 60 120; median 45,
    # quartiles at positions 0.75 and 2.25: 20 + 0.75×10 = 27.5 and 60 + 0.25×60 = 75.
    assert median_of(year["onset_to_call_min"]) == (45.0, 27.5, 75.0, 4)
    # Call to diagnosis: A 30, B 40, C 65 (23:50Z → 00:55Z), D 20 (00:50Z → 01:10Z) →
    # 20 30 40 65: median 35, q1 27.5, q3 40 + 0.25×25 = 46.25.
    assert median_of(year["call_to_diagnosis_min"]) == (35.0, 27.5, 46.25, 4)
    # FMC to lysis: C 23 (00:40Z → 01:03Z), D 20 (01:05Z → 01:25Z): median 21.5.
    assert median_of(year["fmc_to_lysis_min"]) == (21.5, 20.75, 22.25, 2)
    # FMC to puncture, primary PCI: A 75, B 115.
    assert median_of(year["fmc_to_puncture_min"]) == (95.0, 85.0, 105.0, 2)
    # Observed minus predicted call to arrival: A 80−70, B 120−100, C 130−120 (D has none).
    assert median_of(year["gap_call_to_arrival_min"]) == (10.0, 10.0, 15.0, 3)
    # Observed minus predicted diagnosis to wire, primary PCI: A 80−75, B 120−100.
    assert median_of(year["gap_diagnosis_to_wire_min"]) == (12.5, 8.75, 16.25, 2)
    # Bolus within 10 min of diagnosis: C (8 min) yes, D (15 min) no.
    assert share_of(year["lysis_within_10_min_share"]) == (1, 2)
    # Diagnosis to wire: A 80, B 120 (the 120 min limit is inclusive).
    assert share_of(year["wire_within_90_min_share"]) == (1, 2)
    assert share_of(year["wire_within_120_min_share"]) == (2, 2)
    # Followed: A and C; B got primary PCI where lysis was recommended; D has no recommendation.
    assert share_of(year["recommendation_followed_share"]) == (2, 3)


def test_year_2007_every_indicator(frame):
    year = compute_by(frame, "year", {2008: 5})[2007]

    assert year["cases"] == 2
    assert year["completeness"] is None
    assert share_of(year["primary_pci_share"]) == (1, 2)
    assert share_of(year["helicopter_share"]) == (0, 2)
    assert share_of(year["direct_admission_share"]) == (1, 2)
    # E 90, F 240.
    assert median_of(year["onset_to_call_min"]) == (165.0, 127.5, 202.5, 2)
    # E 25 (local times without offset), F 35.
    assert median_of(year["call_to_diagnosis_min"]) == (30.0, 27.5, 32.5, 2)
    assert median_of(year["fmc_to_lysis_min"]) == (17.0, 17.0, 17.0, 1)
    assert median_of(year["fmc_to_puncture_min"]) == (55.0, 55.0, 55.0, 1)
    assert median_of(year["gap_call_to_arrival_min"]) == (10.0, 10.0, 10.0, 1)
    assert median_of(year["gap_diagnosis_to_wire_min"]) == (None, None, None, 0)
    assert share_of(year["lysis_within_10_min_share"]) == (1, 1)
    assert share_of(year["wire_within_90_min_share"]) == (1, 1)
    assert share_of(year["recommendation_followed_share"]) == (1, 1)


def test_by_departement(frame):
    results = compute_by(frame[frame["year"] == 2008], "departement")

    assert list(results) == ["38", "73", "74"]
    assert results["38"]["cases"] == 2
    # A 60 and D 20.
    assert median_of(results["38"]["onset_to_call_min"]) == (40.0, 30.0, 50.0, 2)
    assert share_of(results["38"]["primary_pci_share"]) == (1, 2)
    assert share_of(results["73"]["helicopter_share"]) == (1, 1)
    assert share_of(results["74"]["lysis_within_10_min_share"]) == (1, 1)


def test_by_season_uses_local_month(frame):
    results = compute_by(frame[frame["year"] == 2008], "season")

    assert list(results) == ["winter", "spring", "summer", "autumn"]
    # D (30 March) is spring, C (26 October) autumn.
    assert median_of(results["spring"]["fmc_to_lysis_min"]) == (20.0, 20.0, 20.0, 1)
    assert median_of(results["autumn"]["fmc_to_lysis_min"]) == (23.0, 23.0, 23.0, 1)
    assert median_of(results["summer"]["fmc_to_puncture_min"]) == (115.0, 115.0, 115.0, 1)


def test_by_destination(frame):
    results = compute_by(frame[frame["year"] == 2008], "destination")

    assert list(results) == ["annecy-change", "chambery-ch-metropole-savoie", "grenoble-chu-nord"]
    assert results["grenoble-chu-nord"]["cases"] == 2
    assert share_of(results["grenoble-chu-nord"]["direct_admission_share"]) == (1, 2)
    assert share_of(results["chambery-ch-metropole-savoie"]["recommendation_followed_share"]) == (0, 1)


def test_times_stored_in_utc(frame):
    case_c = frame.set_index("case_id").loc["IND-2008-3"]

    assert case_c["lysis_bolus"].isoformat() == "2008-10-26T01:03:00+00:00"
    assert case_c["diagnosis"].isoformat() == "2008-10-26T00:55:00+00:00"
    # E was written without offset: read as Paris summer time.
    assert frame.set_index("case_id").loc["IND-2007-5"]["call"].isoformat() == "2007-05-10T12:00:00+00:00"


def test_positions_rounded_to_100_m(frame, region):
    case_e = frame.set_index("case_id").loc["IND-2007-5"]
    x, y = region.project(case_e["lon"], case_e["lat"])

    # The stored point is a node of the 100 m grid in the region's projection, give or
    # take the metre that 5 decimal places of a degree leave.
    assert abs(x - round(x / 100) * 100) < 1.0
    assert abs(y - round(y / 100) * 100) < 1.0
    original_x, original_y = region.project(5.7245, 45.1885)
    assert abs(x - original_x) <= 51.0
    assert abs(y - original_y) <= 51.0

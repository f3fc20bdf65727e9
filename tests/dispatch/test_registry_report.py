"""The report marks years without cases in its yearly table and plots."""

from __future__ import annotations

import re
from datetime import datetime

from dispatch.registry.importer import import_text
from dispatch.registry.indicators import Median, compute_by, load_frame
from dispatch.registry.report import _axis_positions, _cell, registry_report, trend_plots, year_gaps
from registry_support import registry_engine, registry_url  # noqa: F401
from test_registry_indicators import CASES, chain, to_csv

# A case in 2026, long after the 2007–2008 cases of the indicator tests.
CASE_2026 = {
    "case_id": "REP-2026-1", "commune_insee": "38185",
    **chain("2026-03-10T10:00+01:00", first_medical_contact=20, diagnosis=30, arrival=80, arterial_puncture=95, wire_crossing=110),
    "strategy": "primary_pci", "transport": "road", "destination": "grenoble-chu-nord", "admission": "direct",
}


def test_year_gaps_found():
    assert year_gaps([2007, 2008, 2026]) == [(2009, 2025)]
    assert year_gaps([2004, 2006, 2007]) == [(2005, 2005)]
    assert year_gaps([2007, 2008]) == []


def test_axis_breaks_between_runs():
    positions, breaks = _axis_positions([2007, 2008, 2026])

    assert positions == {2007: 0.0, 2008: 1.0, 2026: 3.0}
    assert breaks == [2.0]


def test_report_table_marks_gap(registry_engine, region):
    import_text(registry_engine, to_csv([*CASES, CASE_2026]), region)
    page, year = registry_report(registry_engine, region, 2026, "fr")
    english, _ = registry_report(registry_engine, region, 2026, "en")

    assert year == 2026
    header = re.search(r"<thead><tr><th>Année</th>(.*?)</tr></thead>", page).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", header) == ["2007", "2008", "…", "2026"]
    assert 'title="aucun cas de 2009 à 2025"' in header
    assert "années absentes du registre (aucun cas de 2009 à 2025)" in page
    assert "years missing from the registry (no cases from 2009 to 2025)" in english


def test_report_without_gap_has_no_mark(registry_engine, region):
    import_text(registry_engine, to_csv(CASES), region)
    page, _ = registry_report(registry_engine, region, 2008, "en")

    assert 'class="gap"' not in page
    assert "years missing" not in page


def test_trend_plots_with_gap_drawn(registry_engine, region):
    import_text(registry_engine, to_csv([*CASES, CASE_2026]), region)
    by_year = compute_by(load_frame(registry_engine, region.timezone), "year")

    plots = trend_plots(by_year, "en")

    assert len(plots) >= 5
    assert all(data for _, data in plots)


def test_negative_quartile_has_minus_sign():
    cell = _cell(Median(4.0, -1.0, 9.0, 12), "fr")

    assert cell == "4 [−1 – 9] n=12"
    assert _cell(Median(-2.5, -7.0, 3.0, 5), "en") == "−2.5 [−7 – 3] n=5"
    assert _cell(Median(-2.5, -7.0, 3.0, 5), "fr") == "−2,5 [−7 – 3] n=5"


def test_generated_in_local_time(registry_engine, region):
    import_text(registry_engine, to_csv(CASES), region)
    before = datetime.now(region.timezone)
    page, _ = registry_report(registry_engine, region, 2008, "fr")
    english, _ = registry_report(registry_engine, region, 2008, "en")
    after = datetime.now(region.timezone)

    offsets = {f"UTC+{int(moment.utcoffset().total_seconds() // 3600):02d}:00" for moment in (before, after)}
    stamps = {f"{moment:%d/%m/%Y à %H:%M}" for moment in (before, after)}
    assert any(f"Généré le {stamp} (Europe/Paris, {offset}) à partir de 6 cas." in page for stamp in stamps for offset in offsets)
    assert "(UTC)" not in page
    assert any(f"Generated {moment:%Y-%m-%d at %H:%M} (Europe/Paris," in english for moment in (before, after))

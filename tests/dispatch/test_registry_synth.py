"""The synthetic registry: reproducible, and its yearly trends follow the published figures."""

from __future__ import annotations

from dispatch.registry.indicators import cases_frame, compute_by
from dispatch.registry.synth import generate
from dispatch.registry.validate import CaseCheck, check_case


def _frame(region, rows):
    check = CaseCheck(
        timezone=region.timezone, crs=region.crs, communes=region.communes,
        destinations=frozenset(site.id for site in region.sites.sites),
    )
    records = []
    for index, row in enumerate(rows, start=2):
        case, errors = check_case(row, index, check)
        assert errors == []
        values = dict(case.values)
        recommendation = case.recommendation or {}
        for name in ("strategy", "destination", "transport"):
            values[f"recommended_{name}"] = recommendation.get(name)
        for name in ("predicted_call_to_arrival_min", "predicted_diagnosis_to_wire_min"):
            values[name] = recommendation.get(name)
        records.append(values)
    return cases_frame(records, region.timezone)


def test_same_seed_same_rows(region):
    first, _ = generate(region, 50, seed=7)
    second, _ = generate(region, 50, seed=7)

    assert first == second
    assert generate(region, 50, seed=8)[0] != first


def test_trends_follow_published_figures(region):
    rows, expected = generate(region, 4000, seed=1)
    by_year = compute_by(_frame(region, rows), "year", expected)

    assert list(by_year) == list(range(2002, 2009))
    assert sum(values["cases"] for values in by_year.values()) == 4000
    first, last = by_year[2002], by_year[2008]
    # Shares are drawn exactly per year; medians within sampling noise.
    assert round(first["primary_pci_share"].percent) == 33
    assert round(last["primary_pci_share"].percent) == 53
    assert round(first["helicopter_share"].percent) == 3
    assert round(last["helicopter_share"].percent) == 12
    assert round(last["direct_admission_share"].percent) == 92
    assert abs(first["fmc_to_lysis_min"].median - 62) <= 5
    assert abs(last["fmc_to_lysis_min"].median - 24) <= 3
    assert abs(first["fmc_to_puncture_min"].median - 101) <= 6
    assert abs(last["fmc_to_puncture_min"].median - 78) <= 6
    for values in by_year.values():
        assert round(values["completeness"].percent) == 84

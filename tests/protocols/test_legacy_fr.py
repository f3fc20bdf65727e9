"""HAS 2006 legacy rules: the 180-min onset and 90-min FMC → wire boundaries, and overrides."""

from __future__ import annotations

import pytest

from protocols import Contraindication, DecisionWarning, LysisDose, Strategy, decide

LYSIS = Strategy.fibrinolysis_then_transfer
PPCI = Strategy.primary_pci
CENTRE = Strategy.pci_centre_no_lysis
NO_EMERGENCY = Strategy.no_emergency_reperfusion


def legacy_input(make_input, onset_at_fmc_min, fmc_to_wire_min, **flags):
    """Build an input from the symptom duration at FMC and the FMC → wire time (diagnosis 10 min after FMC)."""
    onset_min = None if onset_at_fmc_min is None else onset_at_fmc_min + 10
    diagnosis_to_wire_min = None if fmc_to_wire_min is None else fmc_to_wire_min - 10
    return make_input(
        onset_min=onset_min,
        diagnosis_to_wire_min=diagnosis_to_wire_min,
        fmc_to_wire_min=fmc_to_wire_min,
        fmc_to_diagnosis_min=10,
        **flags,
    )


@pytest.mark.parametrize(
    ("onset_at_fmc_min", "expected_strategy", "expected_onset_rule"),
    [
        (179, LYSIS, "fmc_onset_within_threshold"),
        (180, LYSIS, "fmc_onset_within_threshold"),  # 3 h exactly is not "more than 3 h"
        (181, PPCI, "fmc_onset_over_threshold"),
    ],
)
def test_onset_at_fmc_boundary(legacy_profile, make_input, onset_at_fmc_min, expected_strategy, expected_onset_rule):
    decision = decide(legacy_input(make_input, onset_at_fmc_min, 80), legacy_profile)

    assert decision.strategy is expected_strategy
    onset = next(rule for rule in decision.rules if rule.rule_id == expected_onset_rule)
    assert onset.values == {"symptom_min_at_fmc": onset_at_fmc_min, "threshold_min": 180}
    assert "fmc_to_wire_within_delay" in decision.rule_ids


@pytest.mark.parametrize(
    ("fmc_to_wire_min", "expected_strategy", "expected_delay_rule"),
    [
        (89, PPCI, "fmc_to_wire_within_delay"),
        (90, PPCI, "fmc_to_wire_within_delay"),
        (91, LYSIS, "fmc_to_wire_delay_exceeded"),
    ],
)
def test_fmc_to_wire_boundary(legacy_profile, make_input, fmc_to_wire_min, expected_strategy, expected_delay_rule):
    decision = decide(legacy_input(make_input, 200, fmc_to_wire_min), legacy_profile)

    assert decision.strategy is expected_strategy
    delay = next(rule for rule in decision.rules if rule.rule_id == expected_delay_rule)
    assert delay.values == {"plan_id": "chu-grenoble/road", "fmc_to_wire_min": fmc_to_wire_min, "threshold_min": 90}


def test_legacy_differs_from_esc(esc_profile, legacy_profile, make_input):
    # Early presenter 100 min from wire crossing: ESC sends to PCI, HAS 2006 lyses.
    inp = legacy_input(make_input, 60, 100)

    assert decide(inp, esc_profile).strategy is PPCI
    assert decide(inp, legacy_profile).strategy is LYSIS


def test_legacy_lysis_follow_up(legacy_profile, make_input):
    decision = decide(legacy_input(make_input, 60, 80, age_years=75), legacy_profile)

    assert decision.strategy is LYSIS
    assert decision.lysis_dose is LysisDose.half_dose_tenecteplase
    assert decision.rule_ids == (
        "reperfusion_window",
        "fmc_onset_within_threshold",
        "fmc_to_wire_within_delay",
        "fibrinolysis",
        "transfer_after_lysis",
        "rescue_pci",
        "tenecteplase_half_dose",
    )
    assert decision.profile == "fr-has2006"


@pytest.mark.parametrize(
    ("onset_at_fmc_min", "expected_strategy", "expected_window_rule"),
    [
        (710, LYSIS, "reperfusion_window"),  # 720 min at diagnosis
        (711, CENTRE, "late_presenter"),
        (2870, CENTRE, "late_presenter"),  # 2880 min at diagnosis
        (2871, NO_EMERGENCY, "beyond_late_window"),
    ],
)
def test_legacy_onset_windows(legacy_profile, make_input, onset_at_fmc_min, expected_strategy, expected_window_rule):
    decision = decide(legacy_input(make_input, onset_at_fmc_min, 120), legacy_profile)

    assert decision.strategy is expected_strategy
    assert decision.rule_ids[0] == expected_window_rule


@pytest.mark.parametrize(("fmc_to_wire_min", "expected_strategy"), [(90, PPCI), (91, CENTRE), (None, CENTRE)])
def test_legacy_onset_unknown(legacy_profile, make_input, fmc_to_wire_min, expected_strategy):
    decision = decide(legacy_input(make_input, None, fmc_to_wire_min), legacy_profile)

    assert decision.strategy is expected_strategy
    assert DecisionWarning.onset_unknown in decision.warnings
    assert "fibrinolysis" not in decision.rule_ids


@pytest.mark.parametrize(
    ("flags", "expected_rule"),
    [
        ({"shock": True}, "cardiogenic_shock"),
        ({"arrest": True}, "resuscitated_arrest"),
        ({"contraindication": Contraindication.absolute}, "absolute_contraindication"),
    ],
)
def test_legacy_overrides(legacy_profile, make_input, flags, expected_rule):
    # Onset within 3 h, so lysis without the override.
    decision = decide(legacy_input(make_input, 60, 200, **flags), legacy_profile)

    assert decision.strategy is PPCI
    assert expected_rule in decision.rule_ids
    assert decision.lysis_dose is None


def test_legacy_relative_contraindication(legacy_profile, make_input):
    decision = decide(legacy_input(make_input, 60, 200, contraindication=Contraindication.relative), legacy_profile)

    assert decision.strategy is LYSIS
    assert DecisionWarning.relative_contraindication in decision.warnings


def test_legacy_no_cath_lab(legacy_profile, make_input):
    lysed = decide(legacy_input(make_input, 200, None), legacy_profile)
    contraindicated = decide(
        legacy_input(make_input, 200, None, contraindication=Contraindication.absolute), legacy_profile
    )

    assert lysed.strategy is LYSIS
    assert DecisionWarning.no_cath_lab_reachable in lysed.warnings
    assert contraindicated.strategy is CENTRE

"""ESC 2023 rules: boundary tables for the delay, the onset windows, age and overrides."""

from __future__ import annotations

import pytest

from protocols import Contraindication, DecisionWarning, LysisDose, Strategy, decide

LYSIS = Strategy.fibrinolysis_then_transfer
PPCI = Strategy.primary_pci
CENTRE = Strategy.pci_centre_no_lysis
NO_EMERGENCY = Strategy.no_emergency_reperfusion


def firing(decision, rule_id):
    """Return the firing of ``rule_id`` in ``decision``, failing the test when absent."""
    matches = [rule for rule in decision.rules if rule.rule_id == rule_id]
    assert matches, f"rule {rule_id} did not fire. Fired: {decision.rule_ids}"
    return matches[0]


@pytest.mark.parametrize(
    ("diagnosis_to_wire_min", "expected_strategy", "expected_rule"),
    [
        (119, PPCI, "primary_pci_within_delay"),
        (120, PPCI, "primary_pci_within_delay"),
        (120.4, LYSIS, "pci_delay_exceeded"),
        (121, LYSIS, "pci_delay_exceeded"),
    ],
)
def test_pci_delay_boundary(esc_profile, make_input, diagnosis_to_wire_min, expected_strategy, expected_rule):
    decision = decide(make_input(onset_min=100, diagnosis_to_wire_min=diagnosis_to_wire_min), esc_profile)

    assert decision.strategy is expected_strategy
    delay = firing(decision, expected_rule)
    assert delay.values["diagnosis_to_wire_min"] == diagnosis_to_wire_min
    assert delay.values["threshold_min"] == 120
    assert delay.values["plan_id"] == "chu-grenoble/road"


@pytest.mark.parametrize(
    ("onset_min", "expected_strategy", "expected_window_rule"),
    [
        (719, LYSIS, "reperfusion_window"),  # 11 h 59
        (720, LYSIS, "reperfusion_window"),  # 12 h: still inside the window
        (721, CENTRE, "late_presenter"),  # 12 h 01
        (2879, CENTRE, "late_presenter"),  # 47 h 59
        (2880, CENTRE, "late_presenter"),  # 48 h: still a late presenter
        (2881, NO_EMERGENCY, "beyond_late_window"),  # 48 h 01
    ],
)
def test_onset_window_boundary(esc_profile, make_input, onset_min, expected_strategy, expected_window_rule):
    # A 150-min delay means lysis wherever lysis is allowed.
    decision = decide(make_input(onset_min=onset_min, diagnosis_to_wire_min=150), esc_profile)

    assert decision.strategy is expected_strategy
    assert decision.rule_ids[0] == expected_window_rule
    assert decision.rules[0].values["symptom_min"] == onset_min


def test_window_values_name_thresholds(esc_profile, make_input):
    within = decide(make_input(onset_min=300), esc_profile)
    late = decide(make_input(onset_min=1000), esc_profile)
    beyond = decide(make_input(onset_min=3000), esc_profile)

    assert dict(within.rules[0].values) == {"symptom_min": 300, "window_min": 720}
    assert dict(late.rules[0].values) == {"symptom_min": 1000, "window_min": 720, "late_max_min": 2880}
    assert dict(beyond.rules[0].values) == {"symptom_min": 3000, "late_max_min": 2880}


def test_late_presenter_ignores_delay(esc_profile, make_input):
    # Beyond 12 h the 120-min fork does not decide, even for a close cath lab.
    decision = decide(make_input(onset_min=800, diagnosis_to_wire_min=40), esc_profile)

    assert decision.strategy is CENTRE
    assert "primary_pci_within_delay" not in decision.rule_ids
    assert decision.lysis_dose is None


def test_beyond_48h_no_emergency_reperfusion(esc_profile, make_input):
    decision = decide(make_input(onset_min=4000, diagnosis_to_wire_min=40), esc_profile)

    assert decision.strategy is NO_EMERGENCY
    assert decision.rule_ids == ("beyond_late_window",)
    assert decision.warnings == ()


@pytest.mark.parametrize(
    ("age_years", "expected_dose", "expected_rule"),
    [
        (74, LysisDose.full_dose_tenecteplase, "tenecteplase_full_dose"),
        (75, LysisDose.half_dose_tenecteplase, "tenecteplase_half_dose"),
        (90, LysisDose.half_dose_tenecteplase, "tenecteplase_half_dose"),
    ],
)
def test_lysis_dose_by_age(esc_profile, make_input, age_years, expected_dose, expected_rule):
    decision = decide(make_input(diagnosis_to_wire_min=150, age_years=age_years), esc_profile)

    assert decision.strategy is LYSIS
    assert decision.lysis_dose is expected_dose
    dose = firing(decision, expected_rule)
    assert dose.values == {"age_years": age_years, "age_threshold_years": 75}


def test_lysis_dose_age_unknown(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=150, age_years=None), esc_profile)

    assert decision.strategy is LYSIS
    assert decision.lysis_dose is None
    assert DecisionWarning.age_unknown in decision.warnings
    assert firing(decision, "tenecteplase_dose_age_unknown").values == {"age_threshold_years": 75}


def test_no_dose_without_lysis(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=60, age_years=80), esc_profile)

    assert decision.strategy is PPCI
    assert decision.lysis_dose is None
    assert not any(rule_id.startswith("tenecteplase") for rule_id in decision.rule_ids)


def test_lysis_lists_follow_up_rules(esc_profile, make_input):
    decision = decide(make_input(onset_min=200, diagnosis_to_wire_min=150), esc_profile)

    assert decision.rule_ids == (
        "reperfusion_window",
        "pci_delay_exceeded",
        "fibrinolysis",
        "transfer_after_lysis",
        "rescue_pci",
        "tenecteplase_full_dose",
    )
    assert firing(decision, "fibrinolysis").values == {"bolus_max_min": 10}
    assert firing(decision, "transfer_after_lysis").values == {"angiography_earliest_h": 2, "angiography_latest_h": 24}
    assert firing(decision, "rescue_pci").values == {
        "st_resolution_percent": 50,
        "check_earliest_min": 60,
        "check_latest_min": 90,
    }
    assert decision.warnings == ()


@pytest.mark.parametrize(
    ("diagnosis_to_wire_min", "expected_strategy", "expected_delay_rule"),
    [
        (100, PPCI, "primary_pci_within_delay"),
        (120, PPCI, "primary_pci_within_delay"),
        (121, CENTRE, "pci_delay_exceeded"),
        (None, CENTRE, None),
    ],
)
def test_onset_unknown(esc_profile, make_input, diagnosis_to_wire_min, expected_strategy, expected_delay_rule):
    decision = decide(make_input(onset_min=None, diagnosis_to_wire_min=diagnosis_to_wire_min), esc_profile)

    assert decision.strategy is expected_strategy
    assert decision.rule_ids[0] == "onset_unknown"
    assert DecisionWarning.onset_unknown in decision.warnings
    assert decision.lysis_dose is None
    assert "fibrinolysis" not in decision.rule_ids
    if expected_delay_rule is not None:
        assert expected_delay_rule in decision.rule_ids
    else:
        assert DecisionWarning.no_cath_lab_reachable in decision.warnings


@pytest.mark.parametrize("flag", ["shock", "arrest"])
@pytest.mark.parametrize(
    ("onset_min", "diagnosis_to_wire_min"),
    [
        (100, 300),  # within 12 h, far beyond the PCI delay
        (100, 60),
        (1000, 300),  # late presenter
        (4000, 300),  # beyond 48 h
        (None, 300),  # unknown onset
    ],
)
def test_unstable_patient_primary_pci(esc_profile, make_input, flag, onset_min, diagnosis_to_wire_min):
    decision = decide(
        make_input(onset_min=onset_min, diagnosis_to_wire_min=diagnosis_to_wire_min, **{flag: True}), esc_profile
    )

    assert decision.strategy is PPCI
    expected_rule = "cardiogenic_shock" if flag == "shock" else "resuscitated_arrest"
    assert expected_rule in decision.rule_ids
    assert decision.lysis_dose is None


def test_shock_and_arrest_both_fire(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=200, shock=True, arrest=True), esc_profile)

    assert decision.strategy is PPCI
    assert decision.rule_ids == ("reperfusion_window", "pci_delay_exceeded", "cardiogenic_shock", "resuscitated_arrest")


def test_shock_without_cath_lab(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=None, shock=True), esc_profile)

    assert decision.strategy is CENTRE
    assert DecisionWarning.no_cath_lab_reachable in decision.warnings
    assert "cardiogenic_shock" in decision.rule_ids


@pytest.mark.parametrize(
    ("diagnosis_to_wire_min", "expected_strategy", "override_fires"),
    [
        (60, PPCI, False),  # primary PCI anyway: the contraindication does not decide
        (121, PPCI, True),
        (400, PPCI, True),
        (None, CENTRE, True),
    ],
)
def test_absolute_contraindication(esc_profile, make_input, diagnosis_to_wire_min, expected_strategy, override_fires):
    decision = decide(
        make_input(diagnosis_to_wire_min=diagnosis_to_wire_min, contraindication=Contraindication.absolute),
        esc_profile,
    )

    assert decision.strategy is expected_strategy
    assert ("absolute_contraindication" in decision.rule_ids) is override_fires
    assert decision.lysis_dose is None
    assert "fibrinolysis" not in decision.rule_ids


def test_relative_contraindication_keeps_lysis(esc_profile, make_input):
    decision = decide(
        make_input(diagnosis_to_wire_min=150, age_years=80, contraindication=Contraindication.relative), esc_profile
    )

    assert decision.strategy is LYSIS
    assert decision.lysis_dose is LysisDose.half_dose_tenecteplase
    assert "relative_contraindication" in decision.rule_ids
    assert decision.warnings == (DecisionWarning.relative_contraindication,)


def test_relative_contraindication_silent_with_pci(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=90, contraindication=Contraindication.relative), esc_profile)

    assert decision.strategy is PPCI
    assert "relative_contraindication" not in decision.rule_ids
    assert decision.warnings == ()


@pytest.mark.parametrize(
    ("onset_min", "contraindication", "expected_strategy"),
    [
        (100, Contraindication.none, LYSIS),
        (720, Contraindication.relative, LYSIS),
        (100, Contraindication.absolute, CENTRE),
        (721, Contraindication.none, CENTRE),
        (3000, Contraindication.none, NO_EMERGENCY),
    ],
)
def test_no_cath_lab_reachable(esc_profile, make_input, onset_min, contraindication, expected_strategy):
    decision = decide(
        make_input(onset_min=onset_min, diagnosis_to_wire_min=None, contraindication=contraindication), esc_profile
    )

    assert decision.strategy is expected_strategy
    assert DecisionWarning.no_cath_lab_reachable in decision.warnings
    assert "no_cath_lab_reachable" in decision.rule_ids
    assert not any("delay" in rule_id for rule_id in decision.rule_ids)


def test_decision_names_profile(esc_profile, make_input):
    decision = decide(make_input(), esc_profile)

    assert decision.profile == "esc2023"
    assert decision.profile_version == esc_profile.version


def test_texts_render_numbers(esc_profile, make_input):
    decision = decide(make_input(diagnosis_to_wire_min=130.44), esc_profile)
    delay = firing(decision, "pci_delay_exceeded")

    assert "130,4 min > 120 min" in delay.text("fr")
    assert "130.4 min > 120 min" in delay.text("en")
    assert delay.text_fr == delay.text("fr")
    assert delay.source.startswith("ESC")


def test_decide_is_deterministic(esc_profile, make_input):
    inp = make_input(onset_min=300, diagnosis_to_wire_min=150, age_years=80)

    assert decide(inp, esc_profile) == decide(inp, esc_profile)

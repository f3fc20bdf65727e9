"""Input checks of the decision dataclasses: each bad value raises InputError naming its field."""

from __future__ import annotations

import math

import pytest

from geodata.errors import InputError
from protocols import Contraindication, DecisionInput, PatientFlags, PciPlanTimes, RuleFiring

STABLE = PatientFlags(60, False, False, Contraindication.none)


@pytest.mark.parametrize(
    ("at_diagnosis", "at_fmc"),
    [
        (-1, -11),  # onset one minute after the diagnosis
        (5, -5),  # onset after first medical contact
        (-0.5, -0.5),
    ],
)
def test_onset_after_call(at_diagnosis, at_fmc):
    with pytest.raises(InputError) as caught:
        DecisionInput(at_diagnosis, at_fmc, STABLE, None)

    assert caught.value.code == "onset_after_call"
    assert caught.value.field == "onset"
    assert "after the call" in str(caught.value)


@pytest.mark.parametrize(
    ("at_diagnosis", "at_fmc", "expected_code"),
    [
        (100, None, "onset_inconsistent"),
        (None, 90, "onset_inconsistent"),
        (90, 100, "onset_inconsistent"),  # diagnosis before FMC
        (math.nan, 90, "onset_invalid"),
        (math.inf, 90, "onset_invalid"),
        (100, -math.inf, "onset_invalid"),
        ("100", 90, "onset_invalid"),
        (True, 0, "onset_invalid"),
    ],
)
def test_onset_invalid(at_diagnosis, at_fmc, expected_code):
    with pytest.raises(InputError) as caught:
        DecisionInput(at_diagnosis, at_fmc, STABLE, None)

    assert caught.value.code == expected_code
    assert caught.value.field == "onset"


def test_onset_zero_and_unknown_accepted():
    assert DecisionInput(0, 0, STABLE, None).symptom_min_at_diagnosis == 0
    assert DecisionInput(None, None, STABLE, None).symptom_min_at_fmc is None


@pytest.mark.parametrize(
    ("diagnosis_to_wire_min", "fmc_to_wire_min"),
    [(-1, 10), (math.nan, 10), (10, math.inf), (100, 90), ("60", 70)],
)
def test_plan_times_invalid(diagnosis_to_wire_min, fmc_to_wire_min):
    with pytest.raises(InputError) as caught:
        PciPlanTimes("chu-grenoble/road", diagnosis_to_wire_min, fmc_to_wire_min)

    assert caught.value.code == "plan_times_invalid"
    assert caught.value.field == "fastest_pci"


@pytest.mark.parametrize("age_years", [-1, 131, 75.5, True, "75"])
def test_age_invalid(age_years):
    with pytest.raises(InputError) as caught:
        PatientFlags(age_years, False, False, Contraindication.none)

    assert caught.value.code == "age_invalid"
    assert caught.value.field == "age_years"


def test_contraindication_must_be_enum():
    with pytest.raises(InputError) as caught:
        PatientFlags(60, False, False, "absolute")

    assert caught.value.field == "contraindication"


def test_rule_firing_text_by_language():
    values = {"symptom_min": 100}
    rule = RuleFiring("reperfusion_window", values, "ESC 2023", "texte", "text")
    values["symptom_min"] = 999  # the firing keeps its own copy

    assert rule.text("fr") == "texte"
    assert rule.text("en") == "text"
    assert rule.values["symptom_min"] == 100
    with pytest.raises(InputError) as caught:
        rule.text("de")
    assert caught.value.field == "lang"


def test_rule_firing_source_by_language():
    rule = RuleFiring("reperfusion_window", {}, "ESC 2023 ACS", "texte", "text", source_fr="ESC 2023 (SCA)")

    assert rule.source_text("fr") == "ESC 2023 (SCA)"
    assert rule.source_text("en") == "ESC 2023 ACS"
    assert rule.source == "ESC 2023 ACS"
    with pytest.raises(InputError) as caught:
        rule.source_text("de")
    assert caught.value.field == "lang"


def test_rule_firing_without_french_source():
    rule = RuleFiring("reperfusion_window", {}, "ESC 2023 ACS", "texte", "text")

    assert rule.source_fr is None
    assert rule.source_text("fr") == "ESC 2023 ACS"

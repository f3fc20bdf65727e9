"""Fixtures for the protocol rules: both shipped profiles and a DecisionInput factory."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from protocols import Contraindication, DecisionInput, PatientFlags, PciPlanTimes, Profile, load_profile


@pytest.fixture(scope="session")
def esc_profile() -> Profile:
    return load_profile("esc2023")


@pytest.fixture(scope="session")
def legacy_profile() -> Profile:
    return load_profile("fr-has2006")


@pytest.fixture
def make_input() -> Callable[..., DecisionInput]:
    """Build a DecisionInput from a few numbers, defaulting to a stable 60-year-old.

    ``onset_min`` is the symptom duration at diagnosis, and FMC is
    ``fmc_to_diagnosis_min`` earlier. ``diagnosis_to_wire_min=None`` means no cath lab is reachable, and
    ``fmc_to_wire_min`` defaults to the diagnosis time plus ``fmc_to_diagnosis_min``.
    """

    def build(
        onset_min: float | None = 100,
        diagnosis_to_wire_min: float | None = 60,
        *,
        fmc_to_wire_min: float | None = None,
        fmc_to_diagnosis_min: float = 10,
        age_years: int | None = 60,
        shock: bool = False,
        arrest: bool = False,
        contraindication: Contraindication = Contraindication.none,
    ) -> DecisionInput:
        plan = None
        if diagnosis_to_wire_min is not None:
            if fmc_to_wire_min is None:
                fmc_to_wire_min = diagnosis_to_wire_min + fmc_to_diagnosis_min
            plan = PciPlanTimes("chu-grenoble/road", diagnosis_to_wire_min, fmc_to_wire_min)
        at_fmc = None if onset_min is None else onset_min - fmc_to_diagnosis_min
        return DecisionInput(
            symptom_min_at_diagnosis=onset_min,
            symptom_min_at_fmc=at_fmc,
            patient=PatientFlags(age_years, shock, arrest, contraindication),
            fastest_pci=plan,
        )

    return build

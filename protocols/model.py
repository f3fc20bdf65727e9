"""Inputs and outputs of the reperfusion rules: frozen dataclasses and string enums.

Times are durations in minutes, computed by the caller from its own clock, so the rules
never read one. The constructors check what the rules rely on and raise
``geodata.errors.InputError`` naming the field to correct.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from geodata.errors import InputError

LANGUAGES: tuple[str, ...] = ("fr", "en")


class Strategy(StrEnum):
    """Recommended reperfusion strategy."""

    primary_pci = "primary_pci"
    fibrinolysis_then_transfer = "fibrinolysis_then_transfer"
    pci_centre_no_lysis = "pci_centre_no_lysis"
    no_emergency_reperfusion = "no_emergency_reperfusion"


class Contraindication(StrEnum):
    """Worst contraindication to fibrinolysis found by the team (ESC 2017 STEMI Table 6)."""

    none = "none"
    relative = "relative"
    absolute = "absolute"


class LysisDose(StrEnum):
    """Tenecteplase dose that goes with a fibrinolysis strategy."""

    full_dose_tenecteplase = "full_dose_tenecteplase"
    half_dose_tenecteplase = "half_dose_tenecteplase"


class DecisionWarning(StrEnum):
    """Code of a warning attached to a decision, for the caller's message catalogue."""

    onset_unknown = "onset_unknown"
    relative_contraindication = "relative_contraindication"
    no_cath_lab_reachable = "no_cath_lab_reachable"
    age_unknown = "age_unknown"


def _require_duration(value: float, *, code: str, field_name: str, label: str) -> None:
    """Raise InputError unless ``value`` is a finite, non-negative number of minutes."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(code, f"{label} must be a number of minutes, got {value!r}", field=field_name, value=value)
    if not math.isfinite(value) or value < 0:
        raise InputError(
            code, f"{label} must be a finite number of minutes ≥ 0, got {value!r}", field=field_name, value=value
        )


@dataclass(frozen=True)
class PatientFlags:
    """Patient facts that change the strategy or the lysis dose."""

    age_years: int | None
    cardiogenic_shock: bool
    resuscitated_arrest: bool
    contraindication: Contraindication

    def __post_init__(self) -> None:
        age = self.age_years
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130):
            raise InputError(
                "age_invalid",
                f"age_years must be a whole number of years between 0 and 130, or None when unknown, got {age!r}",
                field="age_years",
                value=age,
            )
        if not isinstance(self.contraindication, Contraindication):
            raise InputError(
                "contraindication_invalid",
                f"contraindication must be one of {[c.value for c in Contraindication]}, got {self.contraindication!r}",
                field="contraindication",
                value=self.contraindication,
            )


@dataclass(frozen=True)
class PciPlanTimes:
    """Anticipated times of the fastest primary-PCI plan, computed by the caller.

    ``diagnosis_to_wire_min`` runs from the STEMI diagnosis (ECG read) to wire crossing,
    ``fmc_to_wire_min`` from first medical contact to wire crossing. FMC comes before the
    diagnosis, so the second is never shorter than the first.
    """

    plan_id: str
    diagnosis_to_wire_min: float
    fmc_to_wire_min: float

    def __post_init__(self) -> None:
        for name in ("diagnosis_to_wire_min", "fmc_to_wire_min"):
            _require_duration(getattr(self, name), code="plan_times_invalid", field_name="fastest_pci", label=name)
        if self.fmc_to_wire_min < self.diagnosis_to_wire_min:
            raise InputError(
                "plan_times_invalid",
                f"plan {self.plan_id!r}: fmc_to_wire_min ({self.fmc_to_wire_min}) is shorter than "
                f"diagnosis_to_wire_min ({self.diagnosis_to_wire_min}), but first medical contact "
                "comes before the diagnosis",
                field="fastest_pci",
                plan_id=self.plan_id,
            )


@dataclass(frozen=True)
class DecisionInput:
    """Everything the rules read for one call.

    ``symptom_min_at_diagnosis`` and ``symptom_min_at_fmc`` are the minutes from symptom
    onset to the STEMI diagnosis and to first medical contact. Both are None when the
    onset is unknown. ``fastest_pci`` is None when no cath lab can be reached.
    """

    symptom_min_at_diagnosis: float | None
    symptom_min_at_fmc: float | None
    patient: PatientFlags
    fastest_pci: PciPlanTimes | None

    def __post_init__(self) -> None:
        at_diagnosis = self.symptom_min_at_diagnosis
        at_fmc = self.symptom_min_at_fmc
        if (at_diagnosis is None) != (at_fmc is None):
            raise InputError(
                "onset_inconsistent",
                "symptom_min_at_diagnosis and symptom_min_at_fmc must both be given, or both be None "
                f"when the onset is unknown. Got {at_diagnosis!r} and {at_fmc!r}.",
                field="onset",
            )
        if at_diagnosis is None or at_fmc is None:
            return

        for name, value in (("symptom_min_at_diagnosis", at_diagnosis), ("symptom_min_at_fmc", at_fmc)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(
                    "onset_invalid", f"{name} must be a finite number of minutes, got {value!r}", field="onset"
                )
            if value < 0:
                raise InputError(
                    "onset_after_call",
                    f"{name} is {value} min: the symptom onset is after the call. Correct the onset time.",
                    field="onset",
                    value=value,
                )
        if at_diagnosis < at_fmc:
            raise InputError(
                "onset_inconsistent",
                f"symptom_min_at_diagnosis ({at_diagnosis}) is shorter than symptom_min_at_fmc ({at_fmc}), "
                "but the diagnosis comes after first medical contact",
                field="onset",
            )


def _unsupported_language(lang: str) -> InputError:
    return InputError(
        "language_unsupported", f"language {lang!r} is not supported. Use one of {list(LANGUAGES)}.", field="lang"
    )


@dataclass(frozen=True)
class RuleFiring:
    """One rule that fired, with the values that decided and its text and source in each language.

    ``source`` is the English source. ``source_fr`` is None only for a firing built without
    a French source, and ``source_text("fr")`` then returns the English one. Rules rendered
    from a profile that ``load_profile`` read always carry it.
    """

    rule_id: str
    values: Mapping[str, int | float | str | bool]
    source: str
    text_fr: str
    text_en: str
    source_fr: str | None = None

    def __post_init__(self) -> None:
        # A read-only copy, so that a frozen firing cannot change through the caller's dict.
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def text(self, lang: str) -> str:
        """Return the rendered text in ``lang`` ("fr" or "en")."""
        if lang == "fr":
            return self.text_fr
        if lang == "en":
            return self.text_en
        raise _unsupported_language(lang)

    def source_text(self, lang: str) -> str:
        """Return the source in ``lang`` ("fr" or "en")."""
        if lang == "fr":
            return self.source if self.source_fr is None else self.source_fr
        if lang == "en":
            return self.source
        raise _unsupported_language(lang)


@dataclass(frozen=True)
class Decision:
    """The recommended strategy, every rule that fired in order, and the profile used.

    ``lysis_dose`` is set only for a fibrinolysis strategy, and stays None there too when
    the patient's age is unknown (warning ``age_unknown``).
    """

    strategy: Strategy
    rules: tuple[RuleFiring, ...]
    lysis_dose: LysisDose | None
    warnings: tuple[str, ...]
    profile: str
    profile_version: str
    rule_ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_ids", tuple(firing.rule_id for firing in self.rules))

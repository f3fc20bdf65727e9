"""Reperfusion rules of the ESC 2023 ACS guideline, with the ESC 2017 STEMI thresholds.

Sources: ESC 2023 guidelines for the management of acute coronary syndromes (Byrne R.A.
et al., Eur Heart J 2023;44:3720) and ESC 2017 guidelines for STEMI (Ibanez B. et al.,
Eur Heart J 2018;39:119). Guideline time zero is the STEMI diagnosis (ECG read), not
first medical contact.

Each rule is a pure function of its inputs and the profile, which contains every
threshold and text. ``decide_esc2023`` composes them into a decision. The fibrinolysis, override
and onset-window rules are shared with the legacy French engine.

NOTE: the class/level marks and most thresholds were written from memory of the
guideline texts, not re-read in them (confidence ``from_memory`` in the profile).
Check them against the PDFs before clinical use.
"""

from __future__ import annotations

from enum import StrEnum

from protocols.model import (
    Contraindication,
    Decision,
    DecisionInput,
    DecisionWarning,
    LysisDose,
    PatientFlags,
    PciPlanTimes,
    RuleFiring,
    Strategy,
)
from protocols.profile import Profile


class OnsetWindow(StrEnum):
    """Time from symptom onset to the STEMI diagnosis, in the guideline's windows."""

    within_reperfusion_window = "within_reperfusion_window"  # ≤ 12 h
    late_presenter = "late_presenter"  # > 12 h and ≤ 48 h
    beyond_late_window = "beyond_late_window"  # > 48 h
    unknown = "unknown"


# --- Onset windows ---


def onset_window_rule(symptom_min: float | None, profile: Profile) -> tuple[OnsetWindow, RuleFiring]:
    """Classify the symptom duration at diagnosis into a reperfusion window.

    - ≤ ``reperfusion_window_min`` (12 h): reperfusion is indicated in every patient with
      a working diagnosis of STEMI (ESC 2023 and ESC 2017, class I, level A). The bound
      belongs to the window: 720 min is inside.
    - up to ``late_presenter_max_min`` (48 h), bound included: late presenter. Fibrinolysis
      is not recommended beyond 12 h. Primary PCI if symptoms, haemodynamic instability or
      life-threatening arrhythmias persist (ESC 2023 I C), and a routine primary-PCI
      strategy should be considered when asymptomatic (ESC 2023 IIa B).
    - beyond 48 h: routine PCI of an occluded infarct-related artery is not recommended
      in a stable patient (ESC 2023 III A).
    - unknown onset: treated as beyond 12 h for fibrinolysis, with a warning.
    """
    window_min = profile.threshold("reperfusion_window_min")
    late_max_min = profile.threshold("late_presenter_max_min")

    if symptom_min is None:
        return OnsetWindow.unknown, profile.render_rule("onset_unknown", {"window_min": window_min})
    if symptom_min <= window_min:
        firing = profile.render_rule("reperfusion_window", {"symptom_min": symptom_min, "window_min": window_min})
        return OnsetWindow.within_reperfusion_window, firing
    if symptom_min <= late_max_min:
        firing = profile.render_rule(
            "late_presenter", {"symptom_min": symptom_min, "window_min": window_min, "late_max_min": late_max_min}
        )
        return OnsetWindow.late_presenter, firing
    firing = profile.render_rule("beyond_late_window", {"symptom_min": symptom_min, "late_max_min": late_max_min})
    return OnsetWindow.beyond_late_window, firing


# --- Cath-lab delay ---


def no_cath_lab_rule(profile: Profile) -> RuleFiring:
    """State that no cath lab can be reached, so no primary-PCI plan exists.

    Fibrinolysis is then the reperfusion strategy when the patient is eligible (ESC 2017
    and ESC 2023: fibrinolysis within 12 h when primary PCI cannot be done in time, I A).
    """
    return profile.render_rule("no_cath_lab_reachable", {})


def pci_delay_rule(plan: PciPlanTimes, profile: Profile) -> tuple[bool, RuleFiring]:
    """Compare the anticipated STEMI diagnosis → wire crossing time with the PCI delay.

    Primary PCI is preferred when that time is within ``pci_delay_max_min`` (120 min).
    Otherwise fibrinolysis is given within 12 h of onset (ESC 2017 STEMI and ESC 2023 ACS,
    I A). Returns True when primary PCI is within the delay.

    NOTE: the guideline writes "< 120 min" for primary PCI and "cannot be performed within
    120 min" for lysis. This rule counts exactly 120 min as within the delay.
    """
    threshold_min = profile.threshold("pci_delay_max_min")
    within_delay = plan.diagnosis_to_wire_min <= threshold_min
    rule_id = "primary_pci_within_delay" if within_delay else "pci_delay_exceeded"
    firing = profile.render_rule(
        rule_id,
        {"plan_id": plan.plan_id, "diagnosis_to_wire_min": plan.diagnosis_to_wire_min, "threshold_min": threshold_min},
    )
    return within_delay, firing


# --- Overrides ---


def cardiogenic_shock_rule(patient: PatientFlags, profile: Profile) -> RuleFiring | None:
    """Send a patient in cardiogenic shock for primary PCI whatever the delay.

    ESC 2023: emergency angiography and PCI of the infarct-related artery in cardiogenic
    shock (I B). Returns None when the patient is not in shock.

    NOTE: ESC 2023 also allows fibrinolysis in shock when primary PCI is impossible within
    120 min and mechanical complications are excluded (IIa C). This rule does not offer it.
    """
    if not patient.cardiogenic_shock:
        return None
    return profile.render_rule("cardiogenic_shock", {})


def resuscitated_arrest_rule(patient: PatientFlags, profile: Profile) -> RuleFiring | None:
    """Send a patient resuscitated from cardiac arrest for primary PCI whatever the delay.

    ESC 2023: primary-PCI strategy after resuscitated cardiac arrest with persistent ST
    elevation (I B). Returns None when there was no arrest.
    """
    if not patient.resuscitated_arrest:
        return None
    return profile.render_rule("resuscitated_arrest", {})


def absolute_contraindication_rule(profile: Profile) -> RuleFiring:
    """Replace fibrinolysis by transfer for primary PCI whatever the delay.

    An absolute contraindication (ESC 2017 STEMI Table 6, repeated in the ESC 2023
    supplementary data) rules out fibrinolysis, so primary PCI is the only reperfusion
    left, even when the diagnosis → wire time exceeds 120 min.
    """
    return profile.render_rule("absolute_contraindication", {})


def relative_contraindication_rule(profile: Profile) -> RuleFiring:
    """Keep fibrinolysis despite a relative contraindication, flagging the bleeding risk.

    Relative contraindications are those of ESC 2017 STEMI Table 6: the benefit of
    reperfusion is weighed against the bleeding risk at the bedside.
    """
    return profile.render_rule("relative_contraindication", {})


# --- Fibrinolysis and what follows it ---


def fibrinolysis_rule(profile: Profile) -> RuleFiring:
    """Give the fibrinolytic bolus within ``lysis_bolus_max_min`` of the STEMI diagnosis.

    ESC 2017 STEMI Table 4: diagnosis → bolus ≤ 10 min. Fibrinolysis within 12 h of onset
    when primary PCI cannot be done within 120 min and there is no contraindication (I A).
    """
    return profile.render_rule("fibrinolysis", {"bolus_max_min": profile.threshold("lysis_bolus_max_min")})


def transfer_after_lysis_rule(profile: Profile) -> RuleFiring:
    """Transfer every lysed patient to a PCI centre for angiography 2–24 h after lysis.

    ESC 2017 and ESC 2023: transfer to a PCI centre immediately after fibrinolysis in all
    patients (I A). Routine angiography and PCI of the infarct-related artery 2–24 h
    after successful fibrinolysis (I A).
    """
    return profile.render_rule(
        "transfer_after_lysis",
        {
            "angiography_earliest_h": profile.threshold("angiography_after_lysis_earliest_h"),
            "angiography_latest_h": profile.threshold("angiography_after_lysis_latest_h"),
        },
    )


def rescue_pci_rule(profile: Profile) -> RuleFiring:
    """Plan rescue PCI when fibrinolysis fails.

    ESC 2017 and ESC 2023: rescue PCI when ST-segment resolution is < 50 % at 60–90 min
    after the start of lysis, or with haemodynamic or electrical instability, worsening
    ischaemia or persistent chest pain (I A).
    """
    return profile.render_rule(
        "rescue_pci",
        {
            "st_resolution_percent": profile.threshold("rescue_pci_st_resolution_percent"),
            "check_earliest_min": profile.threshold("rescue_pci_check_earliest_min"),
            "check_latest_min": profile.threshold("rescue_pci_check_latest_min"),
        },
    )


def tenecteplase_dose_rule(age_years: int | None, profile: Profile) -> tuple[LysisDose | None, RuleFiring]:
    """Choose the tenecteplase dose by age: half dose from ``half_dose_age_years`` (75).

    ESC 2017 STEMI (fibrinolytic doses table) and ESC 2023 ACS: halve the tenecteplase
    dose in patients aged ≥ 75 years, otherwise the full weight-based dose. Returns no
    dose when the age is unknown, and the text gives the rule to apply on scene.
    """
    age_threshold_years = profile.threshold("half_dose_age_years")
    if age_years is None:
        return None, profile.render_rule("tenecteplase_dose_age_unknown", {"age_threshold_years": age_threshold_years})

    values = {"age_years": age_years, "age_threshold_years": age_threshold_years}
    if age_years >= age_threshold_years:
        return LysisDose.half_dose_tenecteplase, profile.render_rule("tenecteplase_half_dose", values)
    return LysisDose.full_dose_tenecteplase, profile.render_rule("tenecteplase_full_dose", values)


def fibrinolysis_rules(
    patient: PatientFlags, profile: Profile
) -> tuple[LysisDose | None, tuple[RuleFiring, ...], tuple[DecisionWarning, ...]]:
    """Apply every rule that goes with a fibrinolysis strategy.

    Returns the dose, the firings (bolus, transfer, rescue PCI, relative contraindication
    when present, dose) and the warnings.
    """
    firings = [fibrinolysis_rule(profile), transfer_after_lysis_rule(profile), rescue_pci_rule(profile)]
    warnings: list[DecisionWarning] = []

    if patient.contraindication is Contraindication.relative:
        firings.append(relative_contraindication_rule(profile))
        warnings.append(DecisionWarning.relative_contraindication)

    dose, dose_firing = tenecteplase_dose_rule(patient.age_years, profile)
    firings.append(dose_firing)
    if dose is None:
        warnings.append(DecisionWarning.age_unknown)
    return dose, tuple(firings), tuple(warnings)


def unstable_patient_rules(patient: PatientFlags, profile: Profile) -> tuple[RuleFiring, ...]:
    """Return the shock and resuscitated-arrest firings that apply to the patient."""
    firings = (cardiogenic_shock_rule(patient, profile), resuscitated_arrest_rule(patient, profile))
    return tuple(firing for firing in firings if firing is not None)


# --- Decision ---


def open_decision(inp: DecisionInput, profile: Profile) -> tuple[OnsetWindow, list[RuleFiring], list[DecisionWarning]]:
    """Apply the rules every engine starts with: the onset window and whether a cath lab is reachable.

    Returns the window and the firings and warnings so far, which the engine extends.
    """
    firings: list[RuleFiring] = []
    warnings: list[DecisionWarning] = []

    window, window_firing = onset_window_rule(inp.symptom_min_at_diagnosis, profile)
    firings.append(window_firing)
    if window is OnsetWindow.unknown:
        warnings.append(DecisionWarning.onset_unknown)

    if inp.fastest_pci is None:
        firings.append(no_cath_lab_rule(profile))
        warnings.append(DecisionWarning.no_cath_lab_reachable)
    return window, firings, warnings


def conclude(
    window: OnsetWindow,
    plan: PciPlanTimes | None,
    pci_within_delay: bool,
    pci_preferred: bool,
    patient: PatientFlags,
    profile: Profile,
    firings: list[RuleFiring],
    warnings: list[DecisionWarning],
    unstable: bool,
) -> Decision:
    """Turn the onset window, the delay comparison and the overrides into a decision.

    Every engine ends here; they differ only in ``pci_preferred``, their condition for
    primary PCI within the reperfusion window. Shock, resuscitated arrest and an absolute
    contraindication lead to the PCI centre whatever the delay.
    """
    pci_or_centre = Strategy.primary_pci if plan is not None else Strategy.pci_centre_no_lysis
    lysis_dose: LysisDose | None = None

    if unstable:
        strategy = pci_or_centre
    elif window is OnsetWindow.beyond_late_window:
        strategy = Strategy.no_emergency_reperfusion
    elif window is OnsetWindow.late_presenter:
        strategy = Strategy.pci_centre_no_lysis
    elif window is OnsetWindow.unknown:
        strategy = Strategy.primary_pci if pci_within_delay else Strategy.pci_centre_no_lysis
    elif pci_preferred:
        strategy = Strategy.primary_pci
    elif patient.contraindication is Contraindication.absolute:
        firings.append(absolute_contraindication_rule(profile))
        strategy = pci_or_centre
    else:
        strategy = Strategy.fibrinolysis_then_transfer
        lysis_dose, lysis_firings, lysis_warnings = fibrinolysis_rules(patient, profile)
        firings.extend(lysis_firings)
        warnings.extend(lysis_warnings)

    return Decision(
        strategy=strategy,
        rules=tuple(firings),
        lysis_dose=lysis_dose,
        warnings=tuple(warnings),
        profile=profile.name,
        profile_version=profile.version,
    )


def decide_esc2023(inp: DecisionInput, profile: Profile) -> Decision:
    """Recommend a reperfusion strategy by the ESC 2023 rules and list every rule that fired.

    Order of precedence:
    1. Shock or resuscitated arrest: primary PCI in any onset window.
    2. Stable beyond 48 h: no emergency reperfusion.
    3. Late presenter (12–48 h): PCI centre, no lysis.
    4. Unknown onset: primary PCI if within the delay, else PCI centre without lysis.
    5. Within 12 h: primary PCI if within the delay, else lysis unless an absolute
       contraindication sends the patient for primary PCI.
    Without a reachable cath lab no plan can deliver primary PCI, so the cases that would
    choose it get ``pci_centre_no_lysis`` with the warning ``no_cath_lab_reachable``.
    """
    patient = inp.patient
    plan = inp.fastest_pci
    window, firings, warnings = open_decision(inp, profile)

    # The delay decides only where primary PCI competes with lysis or the onset is unknown.
    pci_within_delay = False
    if plan is not None and window in (OnsetWindow.within_reperfusion_window, OnsetWindow.unknown):
        pci_within_delay, delay_firing = pci_delay_rule(plan, profile)
        firings.append(delay_firing)

    unstable_firings = unstable_patient_rules(patient, profile)
    firings.extend(unstable_firings)

    return conclude(window, plan, pci_within_delay, pci_within_delay, patient, profile, firings, warnings, bool(unstable_firings))

"""Legacy French reperfusion rule, kept as a comparison profile.

Source: HAS/SFMU consensus conference of 23 November 2006, "Prise en charge de
l'infarctus du myocarde à la phase aiguë en dehors des services de cardiologie", as
summarised by Lapostolle et al. (SFAR 2013, "Parcours de soins du patient avec un SCA
ST+"). Primary angioplasty is preferred when the pain started more than 3 h before and
angioplasty can be done within 90 min of first medical contact. Fibrinolysis is the
choice in every other case. Unlike ESC 2017/2023, the fork depends on the time since
onset and counts from first medical contact.

The onset windows, the shock, arrest and contraindication overrides and the rules that
follow fibrinolysis are those of the ESC engine, so that the two profiles differ only in
the PCI-or-lysis fork.

NOTE: the rule comes from that secondary summary, not from the 2006 text. The text may
also contain a 45-min criterion for patients seen within 3 h of onset, which this engine
does not apply.
"""

from __future__ import annotations

from protocols.model import (
    Decision,
    DecisionInput,
    PciPlanTimes,
    RuleFiring,
)
from protocols.profile import Profile
from protocols.reperfusion import (
    OnsetWindow,
    conclude,
    open_decision,
    unstable_patient_rules,
)


def onset_at_fmc_rule(symptom_min_at_fmc: float, profile: Profile) -> tuple[bool, RuleFiring]:
    """Check whether the pain started more than ``pci_preferred_onset_min`` (3 h) before FMC.

    HAS/SFMU 2006 consensus, as summarised by Lapostolle et al. 2013: primary angioplasty
    is preferred only beyond 3 h of pain, fibrinolysis before. Exactly 180 min is not
    beyond. Returns True when the onset is beyond the threshold.
    """
    threshold_min = profile.threshold("pci_preferred_onset_min")
    over_threshold = symptom_min_at_fmc > threshold_min
    rule_id = "fmc_onset_over_threshold" if over_threshold else "fmc_onset_within_threshold"
    firing = profile.render_rule(rule_id, {"symptom_min_at_fmc": symptom_min_at_fmc, "threshold_min": threshold_min})
    return over_threshold, firing


def fmc_to_wire_rule(plan: PciPlanTimes, profile: Profile) -> tuple[bool, RuleFiring]:
    """Compare the anticipated FMC → wire crossing time with ``fmc_to_wire_max_min`` (90 min).

    HAS/SFMU 2006 consensus, as summarised by Lapostolle et al. 2013: angioplasty must
    be possible within 90 min of first medical contact. Exactly 90 min is within.
    Returns True when the plan is within the delay.
    """
    threshold_min = profile.threshold("fmc_to_wire_max_min")
    within_delay = plan.fmc_to_wire_min <= threshold_min
    rule_id = "fmc_to_wire_within_delay" if within_delay else "fmc_to_wire_delay_exceeded"
    firing = profile.render_rule(
        rule_id, {"plan_id": plan.plan_id, "fmc_to_wire_min": plan.fmc_to_wire_min, "threshold_min": threshold_min}
    )
    return within_delay, firing


def decide_has2006(inp: DecisionInput, profile: Profile) -> Decision:
    """Recommend a reperfusion strategy by the HAS 2006 rule and list every rule that fired.

    Within 12 h: primary PCI when the pain started more than 3 h before FMC and the
    fastest plan reaches wire crossing within 90 min of FMC, otherwise fibrinolysis
    unless an absolute contraindication sends the patient for primary PCI. The other
    cases (shock, arrest, late, beyond 48 h, unknown onset, no reachable cath lab) follow
    the ESC engine, with the 90-min FMC delay in place of the 120-min diagnosis delay.
    """
    patient = inp.patient
    plan = inp.fastest_pci
    window, firings, warnings = open_decision(inp, profile)

    onset_over_threshold = False
    if window is OnsetWindow.within_reperfusion_window and inp.symptom_min_at_fmc is not None:
        onset_over_threshold, onset_firing = onset_at_fmc_rule(inp.symptom_min_at_fmc, profile)
        firings.append(onset_firing)

    pci_within_delay = False
    if plan is not None and window in (OnsetWindow.within_reperfusion_window, OnsetWindow.unknown):
        pci_within_delay, delay_firing = fmc_to_wire_rule(plan, profile)
        firings.append(delay_firing)

    unstable_firings = unstable_patient_rules(patient, profile)
    firings.extend(unstable_firings)

    return conclude(
        window, plan, pci_within_delay, onset_over_threshold and pci_within_delay, patient, profile, firings, warnings, bool(unstable_firings)
    )

"""Keys that each rules engine needs in a profile file: thresholds, rule texts and values.

``load_profile`` checks a profile against these sets, so a missing or misspelt key is
reported when the file is loaded, not in the middle of a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Time-chain parameters that the routing layer reads from every profile, whatever its
# engine, to build the interval chain of each plan (call → FMC → diagnosis → wire).
CHAIN_PARAMETERS: tuple[str, ...] = (
    "dispatch_delay_min",
    "fmc_to_diagnosis_min",
    "on_scene_pci_min",
    "on_scene_lysis_min",
    "door_to_wire_direct_min",
    "door_to_wire_ed_min",
    "emergency_time_factor",
    "off_road_speed_kmh",
    "off_road_detour_factor",
    "heli_activation_day_min",
    "heli_activation_night_min",
    "heli_block_speed_kmh",
    "heli_on_scene_min",
    "heli_landing_to_lab_min",
    "heli_landing_zone_road_speed_kmh",
    "heli_landing_zone_distance_km",
)

# Every rule id and the names of the values its firing carries. A text template may use
# any of these names as a placeholder, and no other.
RULE_VALUES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # Onset windows.
        "reperfusion_window": frozenset({"symptom_min", "window_min"}),
        "late_presenter": frozenset({"symptom_min", "window_min", "late_max_min"}),
        "beyond_late_window": frozenset({"symptom_min", "late_max_min"}),
        "onset_unknown": frozenset({"window_min"}),
        # Reachability and delay comparisons.
        "no_cath_lab_reachable": frozenset(),
        "primary_pci_within_delay": frozenset({"plan_id", "diagnosis_to_wire_min", "threshold_min"}),
        "pci_delay_exceeded": frozenset({"plan_id", "diagnosis_to_wire_min", "threshold_min"}),
        "fmc_onset_over_threshold": frozenset({"symptom_min_at_fmc", "threshold_min"}),
        "fmc_onset_within_threshold": frozenset({"symptom_min_at_fmc", "threshold_min"}),
        "fmc_to_wire_within_delay": frozenset({"plan_id", "fmc_to_wire_min", "threshold_min"}),
        "fmc_to_wire_delay_exceeded": frozenset({"plan_id", "fmc_to_wire_min", "threshold_min"}),
        # Overrides and contraindications.
        "cardiogenic_shock": frozenset(),
        "resuscitated_arrest": frozenset(),
        "absolute_contraindication": frozenset(),
        "relative_contraindication": frozenset(),
        # Fibrinolysis and what follows it.
        "fibrinolysis": frozenset({"bolus_max_min"}),
        "transfer_after_lysis": frozenset({"angiography_earliest_h", "angiography_latest_h"}),
        "rescue_pci": frozenset({"st_resolution_percent", "check_earliest_min", "check_latest_min"}),
        "tenecteplase_half_dose": frozenset({"age_years", "age_threshold_years"}),
        "tenecteplase_full_dose": frozenset({"age_years", "age_threshold_years"}),
        "tenecteplase_dose_age_unknown": frozenset({"age_threshold_years"}),
    }
)

_SHARED_THRESHOLDS = frozenset(
    {
        "reperfusion_window_min",
        "late_presenter_max_min",
        "lysis_bolus_max_min",
        "angiography_after_lysis_earliest_h",
        "angiography_after_lysis_latest_h",
        "rescue_pci_st_resolution_percent",
        "rescue_pci_check_earliest_min",
        "rescue_pci_check_latest_min",
        "half_dose_age_years",
    }
)

_SHARED_RULES = frozenset(
    {
        "reperfusion_window",
        "late_presenter",
        "beyond_late_window",
        "onset_unknown",
        "no_cath_lab_reachable",
        "cardiogenic_shock",
        "resuscitated_arrest",
        "absolute_contraindication",
        "relative_contraindication",
        "fibrinolysis",
        "transfer_after_lysis",
        "rescue_pci",
        "tenecteplase_half_dose",
        "tenecteplase_full_dose",
        "tenecteplase_dose_age_unknown",
    }
)

# Engine name (the profile's ``engine`` key) → thresholds its rules read.
ENGINE_THRESHOLDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "esc2023": _SHARED_THRESHOLDS | {"pci_delay_max_min"},
        "fr_has2006": _SHARED_THRESHOLDS | {"pci_preferred_onset_min", "fmc_to_wire_max_min"},
    }
)

# Engine name → every rule id its ``decide`` function can emit.
ENGINE_RULES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "esc2023": _SHARED_RULES | {"primary_pci_within_delay", "pci_delay_exceeded"},
        "fr_has2006": _SHARED_RULES
        | {
            "fmc_onset_over_threshold",
            "fmc_onset_within_threshold",
            "fmc_to_wire_within_delay",
            "fmc_to_wire_delay_exceeded",
        },
    }
)

"""STEMI reperfusion rules: ESC 2023 by default, the HAS 2006 French rule for comparison.

Pure functions over frozen dataclasses. The thresholds, time-chain parameters and rule
texts live in YAML profiles under ``protocols/profiles/``. ``load_profile`` reads one and
``decide`` applies it.
"""

from protocols._requirements import CHAIN_PARAMETERS
from protocols.engines import ENGINES, decide
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
from protocols.profile import (
    DEFAULT_PROFILE,
    PROFILES_DIR,
    Confidence,
    Parameter,
    Profile,
    RuleText,
    Threshold,
    available_profiles,
    load_profile,
)
from protocols.reperfusion import OnsetWindow

__all__ = [
    "CHAIN_PARAMETERS",
    "DEFAULT_PROFILE",
    "ENGINES",
    "PROFILES_DIR",
    "Confidence",
    "Contraindication",
    "Decision",
    "DecisionInput",
    "DecisionWarning",
    "LysisDose",
    "OnsetWindow",
    "Parameter",
    "PatientFlags",
    "PciPlanTimes",
    "Profile",
    "RuleFiring",
    "RuleText",
    "Strategy",
    "Threshold",
    "available_profiles",
    "decide",
    "load_profile",
]

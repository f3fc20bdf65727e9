"""Dispatch a decision to the rules engine that a profile names in its ``engine`` key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from geodata.errors import DataError
from protocols.legacy_fr import decide_has2006
from protocols.model import Decision, DecisionInput
from protocols.profile import Profile
from protocols.reperfusion import decide_esc2023

ENGINES: Mapping[str, Callable[[DecisionInput, Profile], Decision]] = MappingProxyType(
    {
        "esc2023": decide_esc2023,
        "fr_has2006": decide_has2006,
    }
)


def decide(inp: DecisionInput, profile: Profile) -> Decision:
    """Recommend a reperfusion strategy for ``inp`` with the rules engine of ``profile``.

    Pure: reads no clock, file or network. Raises ``DataError`` when the profile names
    an engine that does not exist, which ``load_profile`` already rejects.
    """
    try:
        engine = ENGINES[profile.engine]
    except KeyError:
        raise DataError(
            "profile_invalid",
            f"Profile {profile.name!r} ({profile.path}) names unknown engine {profile.engine!r}. "
            f"Use one of {sorted(ENGINES)}.",
            field="engine",
            path=str(profile.path),
        ) from None
    return engine(inp, profile)

"""Live resources: the state of SMUR teams, helicopters and cath labs, shared by every desk."""

from dispatch.resources.model import (
    CATH_LAB_STATES,
    HELICOPTER_STATES,
    SMUR_STATES,
    UNKNOWN,
    ResourceKind,
    ResourceSnapshot,
    ResourceState,
    Usability,
)

__all__ = [
    "CATH_LAB_STATES",
    "HELICOPTER_STATES",
    "SMUR_STATES",
    "UNKNOWN",
    "ResourceKind",
    "ResourceSnapshot",
    "ResourceState",
    "Usability",
]

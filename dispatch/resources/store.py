"""The interface every resource store offers: read a snapshot, set a state, claim and release."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from geodata.errors import ResurcorError
from dispatch.resources.model import ResourceKind, ResourceSnapshot, ResourceState


class ClaimConflict(ResurcorError):
    """The unit is already claimed for another call, or its state does not allow a claim (HTTP 409)."""


class StoreUnavailable(ResurcorError):
    """The shared store cannot be reached, so a change cannot be recorded (HTTP 503)."""


class ResourceStore(Protocol):
    """What the service needs from a store; the in-memory and Redis stores both provide it."""

    name: str

    def snapshot(self) -> ResourceSnapshot:
        """Return every unit's state; never raises: an unreachable store gives its last known
        states with ``reachable`` False."""

    def set_state(self, state: ResourceState) -> ResourceState:
        """Record ``state`` (its version is assigned by the store) and notify subscribers."""

    def claim(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        """Engage the unit for ``call_id`` atomically; raise ClaimConflict if another call has it."""

    def release(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        """Return the unit claimed for ``call_id`` to available."""

    def health(self) -> dict[str, Any]:
        """Return the store's name, whether it is reachable, and since when it is not."""

    def events(self) -> AsyncIterator[ResourceState]:
        """Yield every state change from now on, from any desk."""

    def close(self) -> None: ...

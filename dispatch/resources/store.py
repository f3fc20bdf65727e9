"""The interface every resource store offers: read a snapshot, set a state, claim and release.

The claim and release rules are pure functions of the unit's current state, so the
in-memory and Redis stores decide the same way. Each store only makes the
read-decide-write step atomic: a lock in memory, WATCH/MULTI in Redis.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from geodata.errors import InputError, ResurcorError
from dispatch.resources.events import Subscription
from dispatch.resources.model import STATES, ResourceKind, ResourceSnapshot, ResourceState
from dispatch.resources.units import UnitCatalogue

# Only units that travel to a patient are claimed for a call; a cath lab is opened,
# saturated or closed, never given to one call.
CLAIMABLE_KINDS = frozenset({ResourceKind.SMUR, ResourceKind.HELICOPTER})
ENGAGED = "engaged"

# A call id is the call-taking software's reference (for example "2026-12-04-0412"),
# never a name, birth date or phone number: the store keeps it and the log shows it.
# NOTE: the pattern rejects spaces, so "Jean Dupont" fails, but "DupontJean" passes: the
# check cannot tell a name from a reference, and the rule relies on the desks.
_CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


class ClaimConflict(ResurcorError, RuntimeError):
    """The unit is already claimed for another call, or its state does not allow a claim (HTTP 409)."""


class StoreUnavailable(ResurcorError, RuntimeError):
    """The shared store cannot be reached, so a change cannot be recorded (HTTP 503)."""


def check_call_id(call_id: str, field: str = "call_id") -> str:
    """Return ``call_id`` when it is an opaque call reference; raise InputError otherwise."""
    if not isinstance(call_id, str) or not _CALL_ID.match(call_id):
        raise InputError(
            "call_id_invalid",
            f"{field}: {call_id!r} is not a call reference (1 to 64 letters, digits or . _ : / -, no spaces)",
            field=field,
            value=str(call_id)[:64],
        )
    return call_id


def check_claimable(kind: ResourceKind) -> None:
    if kind not in CLAIMABLE_KINDS:
        kinds = ", ".join(sorted(k.value for k in CLAIMABLE_KINDS))
        raise InputError("claim_kind_invalid", f"a {kind.value} cannot be claimed for a call; only {kinds} units can", field="kind", kind=kind.value, kinds=kinds)


def local_time_text(moment: datetime, now: datetime, timezone: tzinfo | None) -> str:
    """Return ``moment`` as a desk reads it: "HH:MM" in ``timezone`` (UTC without one), with "YYYY-MM-DD " before it when it is not today there."""
    zone = timezone or UTC
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def check_unit(kind: ResourceKind, unit_id: str, units: UnitCatalogue | None) -> None:
    """Raise UnitUnknown when ``units`` is given and has no such unit."""
    if units is not None:
        units.check(kind, unit_id)


def check_state(state: ResourceState, units: UnitCatalogue | None) -> None:
    """Raise InputError when ``state`` names a unit, a return base or a call id the store must not record."""
    if units is not None:
        units.check(state.kind, state.unit_id)
        if state.returns_to is not None:
            units.check(ResourceKind.SMUR, state.returns_to, field="returns_to")
    if state.call_id is not None:
        check_call_id(state.call_id)


def _is_current(state: ResourceState, now: datetime, stale_after: timedelta) -> bool:
    """True when ``state`` still holds at ``now``: neither stale nor past its ``until``."""
    if now - state.set_at > stale_after:
        return False
    return state.until is None or now < state.until


def next_claim(
    current: ResourceState | None,
    kind: ResourceKind,
    unit_id: str,
    call_id: str,
    by: str,
    now: datetime,
    stale_after: timedelta,
    timezone: tzinfo | None = None,
) -> ResourceState | None:
    """Return the state that claims the unit for ``call_id``, or None when the call already holds it.

    A claim held by a call stays until it is released or overwritten by an operator,
    however old, so a claim is never lost to staleness. Any other state blocks a claim
    only while it holds: an engaged, off-duty or grounded unit can be claimed once its
    state is stale or past its ``until``, because its real state is then unknown.
    Raises ClaimConflict naming the holder, with the claim's time in ``timezone``.
    """
    check_claimable(kind)
    check_call_id(call_id)
    if current is not None and current.call_id is not None and current.state == ENGAGED:
        if current.call_id == call_id:
            return None
        raise ClaimConflict(
            "unit_claimed",
            f"{kind.value} {unit_id} is already claimed for call {current.call_id} by {current.set_by} at {current.set_at.isoformat()}",
            field="unit_id",
            unit=unit_id,
            call_id=current.call_id,
            holder=current.set_by,
            since=local_time_text(current.set_at, now, timezone),
            since_iso=current.set_at.astimezone(timezone or UTC).isoformat(timespec="minutes"),
        )
    usable = STATES[kind][0]
    if current is not None and current.state != usable and _is_current(current, now, stale_after):
        raise ClaimConflict(
            "unit_unavailable",
            f"{kind.value} {unit_id} is {current.state} (set by {current.set_by}); set it {usable} before claiming it",
            field="unit_id",
            unit=unit_id,
            state=current.state,
            holder=current.set_by,
            usable=usable,
        )
    returns_to = current.returns_to if current is not None else None
    version = current.version if current is not None else 0
    return ResourceState(kind, unit_id, ENGAGED, set_by=by, set_at=now, returns_to=returns_to, call_id=call_id, version=version + 1)


def next_release(current: ResourceState | None, kind: ResourceKind, unit_id: str, call_id: str, by: str, now: datetime) -> ResourceState:
    """Return the state that gives the unit claimed for ``call_id`` back as available.

    Raises ClaimConflict when the unit is not claimed for that call.
    """
    check_claimable(kind)
    check_call_id(call_id)
    if current is None or current.call_id != call_id or current.state != ENGAGED:
        holder = current.call_id if current is not None and current.call_id else None
        raise ClaimConflict(
            "unit_not_claimed",
            f"{kind.value} {unit_id} is not claimed for call {call_id}" + (f" but for call {holder}" if holder else ""),
            field="call_id",
            unit=unit_id,
            call_id=call_id,
            holder_call=holder or "-",
        )
    return ResourceState(kind, unit_id, STATES[kind][0], set_by=by, set_at=now, returns_to=current.returns_to, version=current.version + 1)


class ResourceStore(Protocol):
    """Interface of a resource store, provided by the in-memory and the Redis stores."""

    name: str
    stale_after: timedelta
    units: UnitCatalogue | None

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

    def subscribe(self) -> Subscription:
        """Return a subscription to every state change from now on, from any desk."""

    def events(self) -> AsyncIterator[ResourceState]:
        """Yield every state change from now on, from any desk."""

    def close(self) -> None: ...


__all__ = [
    "CLAIMABLE_KINDS",
    "ClaimConflict",
    "ResourceStore",
    "StoreUnavailable",
    "check_call_id",
    "check_claimable",
    "check_state",
    "check_unit",
    "local_time_text",
    "next_claim",
    "next_release",
]

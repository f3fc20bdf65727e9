"""The state of a unit and a snapshot of every unit's state, as a recommendation reads them.

A unit is a SMUR team, a helicopter or a cath lab, named by its site id in the region's
sites file. Its state carries who set it and when; past the store's staleness limit, or
past its own ``until``, the state reads as unknown. Unknown is never read as available:
the recommendation may still use such a unit, but says that its state is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any

from geodata.errors import InputError


class ResourceKind(StrEnum):
    SMUR = "smur"
    HELICOPTER = "helicopter"
    CATH_LAB = "cath_lab"


UNKNOWN = "unknown"

# The states an operator may set, per kind; the first of each is the usable one.
SMUR_STATES = ("available", "engaged", "off_duty")
HELICOPTER_STATES = ("available", "engaged", "grounded_weather", "off_season")
CATH_LAB_STATES = ("open", "saturated", "closed")
STATES: dict[ResourceKind, tuple[str, ...]] = {
    ResourceKind.SMUR: SMUR_STATES,
    ResourceKind.HELICOPTER: HELICOPTER_STATES,
    ResourceKind.CATH_LAB: CATH_LAB_STATES,
}


class Usability(Enum):
    """The use a recommendation may make of a unit."""

    USABLE = "usable"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResourceState:
    """One unit's state as last set.

    ``until`` bounds the state (a cath lab closed until 08:00); after it the state reads as
    unknown. ``returns_to`` is the base an engaged SMUR team goes back to, ``call_id`` the
    call that claimed the unit. ``version`` grows by one at each change of the unit.
    """

    kind: ResourceKind
    unit_id: str
    state: str
    set_by: str
    set_at: datetime
    until: datetime | None = None
    returns_to: str | None = None
    call_id: str | None = None
    version: int = 0

    def __post_init__(self) -> None:
        allowed = STATES[self.kind]
        if self.state not in allowed:
            raise InputError(
                "resource_state_invalid",
                f"{self.state!r} is not a state of a {self.kind.value}; choose among {', '.join(allowed)}",
                field="state",
                value=self.state,
                kind=self.kind.value,
                choices=", ".join(allowed),
            )
        for name in ("set_at", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise InputError("time_not_aware", f"{name} must carry a UTC offset", field=name, value=moment.isoformat())

    @property
    def key(self) -> tuple[ResourceKind, str]:
        return (self.kind, self.unit_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "unit_id": self.unit_id,
            "state": self.state,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "returns_to": self.returns_to,
            "call_id": self.call_id,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceState:
        return cls(
            kind=ResourceKind(data["kind"]),
            unit_id=str(data["unit_id"]),
            state=str(data["state"]),
            set_by=str(data["set_by"]),
            set_at=datetime.fromisoformat(data["set_at"]),
            until=datetime.fromisoformat(data["until"]) if data.get("until") else None,
            returns_to=data.get("returns_to"),
            call_id=data.get("call_id"),
            version=int(data.get("version", 0)),
        )

    def with_changes(self, **changes: Any) -> ResourceState:
        return replace(self, **changes)


@dataclass(frozen=True)
class ResourceSnapshot:
    """Every unit's last known state, read at ``taken_at`` from a store.

    ``reachable`` is False when the shared store could not be read and these are the last
    states seen before it failed: every state then reads as unknown and the answer says so.
    """

    states: Mapping[tuple[ResourceKind, str], ResourceState] = field(default_factory=dict)
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stale_after: timedelta = timedelta(hours=12)
    store: str = "memory"
    reachable: bool = True

    def state(self, kind: ResourceKind, unit_id: str) -> ResourceState | None:
        return self.states.get((kind, unit_id))

    def last_known(self, kind: ResourceKind, unit_id: str, at: datetime | None = None) -> ResourceState | None:
        """Return the unit's last state still in force at ``at``, stale or not; None when never set or past its ``until``."""
        record = self.states.get((kind, unit_id))
        if record is None:
            return None
        if record.until is not None and (at or self.taken_at) >= record.until:
            return None
        return record

    def is_stale(self, kind: ResourceKind, unit_id: str) -> bool:
        """True when the unit's state is not confirmed: the store is unreachable, or the state is
        older than the staleness limit. A state with an ``until`` holds until then: the
        operator set how long it lasts."""
        record = self.states.get((kind, unit_id))
        if record is None:
            return False
        if not self.reachable:
            return True
        if record.until is not None:
            return False
        return self.taken_at - record.set_at > self.stale_after

    def effective(self, kind: ResourceKind, unit_id: str, at: datetime | None = None) -> str:
        """Return the unit's state at ``at`` (default: the snapshot's time) as shown, or ``unknown``.

        A state shows as unknown when never set, past its ``until`` at ``at``, older than
        the staleness limit, or read from an unreachable store: a stale state is never
        shown as available.
        """
        record = self.last_known(kind, unit_id, at)
        if record is None or self.is_stale(kind, unit_id):
            return UNKNOWN
        return record.state

    def usability(self, kind: ResourceKind, unit_id: str, at: datetime | None = None) -> Usability:
        """Return how a recommendation may use the unit.

        A usable state counts only while confirmed: stale or unreachable, it is unknown.
        A last known unavailable state (closed, engaged, grounded) keeps the unit out even
        when stale, since sending a patient to a cath lab last known closed is the worse
        error; the answer names it as a last known state to confirm.
        """
        record = self.last_known(kind, unit_id, at)
        if record is None:
            return Usability.UNKNOWN
        if record.state != STATES[kind][0]:
            return Usability.UNAVAILABLE
        return Usability.UNKNOWN if self.is_stale(kind, unit_id) else Usability.USABLE


__all__ = ["ResourceKind", "ResourceSnapshot", "ResourceState", "Usability", "STATES", "UNKNOWN"]

"""The in-memory store: the single-desk default, with no set-up.

It lives in one process: every thread of the service shares it, but a second process
(another worker, or a ``resurcor resources`` command) has its own empty copy. Desks that
share states need the Redis store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.resources.events import Subscribers, Subscription, iterate
from dispatch.resources.model import ResourceKind, ResourceSnapshot, ResourceState
from dispatch.resources.store import check_state, check_unit, next_claim, next_release
from dispatch.resources.units import UnitCatalogue

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    """Unit states in a dict guarded by a lock; every change is pushed to this process's subscribers."""

    name = "memory"

    def __init__(self, *, stale_after: timedelta, units: UnitCatalogue | None = None, clock: Callable[[], datetime] = utc_now):
        self.stale_after = stale_after
        self.units = units
        self._timezone = units.timezone if units is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[tuple[ResourceKind, str], ResourceState] = {}
        self._subscribers = Subscribers()

    def snapshot(self) -> ResourceSnapshot:
        with self._lock:
            states = dict(self._states)
        return ResourceSnapshot(states=states, taken_at=self._clock(), stale_after=self.stale_after, store=self.name, reachable=True)

    def set_state(self, state: ResourceState) -> ResourceState:
        check_state(state, self.units)
        with self._lock:
            current = self._states.get(state.key)
            recorded = state.with_changes(version=(current.version if current else 0) + 1)
            self._states[state.key] = recorded
        self._announce(recorded)
        return recorded

    def claim(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        check_unit(kind, unit_id, self.units)
        with self._lock:
            current = self._states.get((kind, unit_id))
            claimed = next_claim(current, kind, unit_id, call_id, by, self._clock(), self.stale_after, self._timezone)
            if claimed is None:
                return current
            self._states[claimed.key] = claimed
        logger.info("%s %s claimed for call %s by %s", kind.value, unit_id, call_id, by)
        self._announce(claimed)
        return claimed

    def release(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        check_unit(kind, unit_id, self.units)
        with self._lock:
            released = next_release(self._states.get((kind, unit_id)), kind, unit_id, call_id, by, self._clock())
            self._states[released.key] = released
        logger.info("%s %s released from call %s by %s", kind.value, unit_id, call_id, by)
        self._announce(released)
        return released

    def health(self) -> dict[str, Any]:
        return {"name": self.name, "reachable": True, "shared": False, "units_set": len(self._states)}

    def subscribe(self) -> Subscription:
        return self._subscribers.add()

    def events(self) -> AsyncIterator[ResourceState]:
        return iterate(self.subscribe())

    def close(self) -> None:
        self._subscribers.close_all()


    def _announce(self, state: ResourceState) -> None:
        self._subscribers.publish(state)


__all__ = ["MemoryStore", "utc_now"]

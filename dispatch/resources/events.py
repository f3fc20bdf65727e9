"""Fan-out of state changes to the desks connected to this process.

A store calls ``Subscribers.publish`` from any thread (a request's worker thread, or the
Redis listener thread); each subscriber reads the changes on its own event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# A desk that stops reading (a stuck connection) must not grow memory without bound: past
# this many unread changes its subscription ends, and the desk reconnects and reloads.
MAX_PENDING = 256

_END = object()


@dataclass(frozen=True)
class ReachabilityChange:
    """Sent to subscribers when the shared store becomes unreachable, or reachable again."""

    reachable: bool


class Subscription:
    """The state changes one subscriber has not read yet."""

    def __init__(self, owner: Subscribers, loop: asyncio.AbstractEventLoop):
        self._owner = owner
        self._loop = loop
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=MAX_PENDING + 1)
        self.closed = False

    def _offer(self, item: Any) -> None:
        # Runs on the subscriber's loop.
        if self.closed:
            return
        if item is _END or self._queue.qsize() >= MAX_PENDING:
            if item is not _END:
                logger.warning("a subscriber fell %d changes behind; its stream ends so it reloads", MAX_PENDING)
            self.closed = True
            self._queue.put_nowait(_END)
            return
        self._queue.put_nowait(item)

    async def get(self, timeout_s: float | None = None) -> Any:
        """Return the next change; None after ``timeout_s`` without one; raise StopAsyncIteration once closed."""
        if self.closed and self._queue.empty():
            raise StopAsyncIteration
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None
        if item is _END:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        self._owner.remove(self)
        self.closed = True

    def end(self) -> None:
        """End the subscription from any thread: its reader gets StopAsyncIteration after the pending changes."""
        self._owner.remove(self)
        try:
            self._loop.call_soon_threadsafe(self._offer, _END)
        except RuntimeError:
            self.closed = True

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        item = None
        while item is None:
            item = await self.get()
        return item


class Subscribers:
    """Every open subscription of a store; safe to publish to from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def add(self) -> Subscription:
        """Open a subscription read on the running event loop."""
        subscription = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def publish(self, item: Any) -> None:
        self._send(item)

    def close_all(self) -> None:
        """End every subscription, so the streams reading them finish (on shutdown)."""
        self._send(_END)
        with self._lock:
            self._subscriptions.clear()

    def _send(self, item: Any) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                subscription._loop.call_soon_threadsafe(subscription._offer, item)
            except RuntimeError:
                # The subscriber's loop has closed (its server stopped): drop it.
                self.remove(subscription)


async def iterate(subscription: Subscription) -> AsyncIterator[Any]:
    """Yield the state changes of ``subscription`` until it ends, then close it; reachability changes are skipped."""
    try:
        async for item in subscription:
            if not isinstance(item, ReachabilityChange):
                yield item
    finally:
        subscription.close()


__all__ = ["MAX_PENDING", "ReachabilityChange", "Subscribers", "Subscription", "iterate"]

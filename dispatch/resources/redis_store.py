"""The Redis store, shared by every desk and API worker (``RESURCOR_REDIS_URL``).

Layout under ``resurcor:<namespace>`` (the region id unless RESURCOR_REDIS_NAMESPACE sets
another, so two regions can share a Redis):

- ``:unit:<kind>:<unit_id>``: the unit's state as JSON, with its version;
- ``:units``: the set of unit keys, read by a snapshot;
- ``:epoch``: a random id written by the first store to see this Redis data set. A
  missing or different epoch shows a store that Redis came back empty (restarted
  without persistence, or flushed), so the store writes back the states it last saw;
- ``:db<n>:changes``: the pub/sub channel on which every change is published, as
  ``{"db", "key", "state"}``. Pub/sub is server-wide, not per database, so the channel
  names the database: a store on database 1 never hears the changes of database 0.

A claim reads the unit under WATCH, decides with the rules shared with the in-memory
store, and writes in MULTI/EXEC. When two desks claim the same unit at once, Redis
aborts the second transaction, which re-reads and finds the unit claimed.

A listener thread keeps a mirror of every state from the changes channel, so a snapshot
(one per recommendation) reads memory, not Redis. It ignores a message whose key is not
one of its own database and namespace, and each full read drops from the mirror the units
whose key Redis no longer has. When Redis cannot be reached, a
snapshot returns the mirror's last states with ``reachable`` False, and changes raise
StoreUnavailable. Connections use short timeouts, and the store waits
``retry_interval_s`` between attempts while Redis is down. It recovers by itself once
Redis returns.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from geodata.errors import InputError, ResurcorError
from dispatch.resources.events import ReachabilityChange, Subscribers, Subscription, iterate
from dispatch.resources.memory import utc_now
from dispatch.resources.model import ResourceKind, ResourceSnapshot, ResourceState
from dispatch.resources.store import StoreUnavailable, check_state, check_unit, local_time_text, next_claim, next_release
from dispatch.resources.units import UnitCatalogue

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds between two full reads of the mirror, which corrects a change whose message was lost.
RESYNC_S = 30.0
# Seconds the listener waits for a message before it checks whether to stop or resync.
LISTEN_POLL_S = 0.2

# WATCH/MULTI attempts on one unit before giving up. Each retry means that another desk
# changed the unit in between, so only a burst of changes to one unit reaches this bound;
# the caller then gets StoreUnavailable and retries.
MAX_TRANSACTION_ATTEMPTS = 50


def redacted_address(url: str) -> str:
    """Return ``host:port/db`` of a Redis URL, without its password, for logs and health."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    return f"{host}:{port}{parts.path or '/0'}"


class RedisStore:
    """Unit states in Redis, shared by every process that opens the same URL and namespace."""

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        stale_after: timedelta,
        units: UnitCatalogue | None = None,
        connect_timeout_s: float = 0.5,
        timeout_s: float = 1.0,
        retry_interval_s: float = 1.0,
        resync_s: float = RESYNC_S,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.stale_after = stale_after
        self.units = units
        self._timezone = units.timezone if units is not None else None
        self.address = redacted_address(url)
        self.retry_interval_s = retry_interval_s
        self._clock = clock
        try:
            # One immediate retry replaces a pooled connection that Redis closed (after
            # a restart) without waiting: a second failure means Redis is down.
            self._client = redis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout_s,
                socket_timeout=timeout_s,
                retry=Retry(NoBackoff(), 1),
                # An idle connection (the listener's) is checked with a PING after this
                # many seconds, so a silent network cut is noticed, not only a closed socket.
                health_check_interval=2,
                decode_responses=True,
            )
        except ValueError as err:
            raise InputError("redis_url_invalid", f"RESURCOR_REDIS_URL {self.address!r} is not a Redis URL: {err}", field="RESURCOR_REDIS_URL", detail=str(err)) from err

        self.db = int(self._client.connection_pool.connection_kwargs.get("db") or 0)
        prefix = f"resurcor:{namespace}"
        self._unit_prefix = f"{prefix}:unit:"
        self._index_key = f"{prefix}:units"
        self._epoch_key = f"{prefix}:epoch"
        self.channel = f"{prefix}:db{self.db}:changes"
        self.resync_s = resync_s

        self._lock = threading.Lock()
        self._known: dict[tuple[ResourceKind, str], ResourceState] = {}
        self._epoch: str | None = None
        self._synced = False
        self._ever_synced = False
        self._down_since: datetime | None = None
        self._last_attempt_s: float | None = None
        self._last_error: str | None = None
        # Write-backs running after Redis came back empty: a full read meanwhile may miss
        # units not yet written back, so it must not drop them from the mirror.
        self._restoring = 0
        self._foreign_messages = 0

        self._subscribers = Subscribers()
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()

    # Reading.

    @property
    def mirror_synced(self) -> bool:
        """True while the listener is subscribed and its mirror has read every state."""
        with self._lock:
            return self._synced

    def snapshot(self) -> ResourceSnapshot:
        """Return every unit's state from the local mirror, or from Redis until the mirror is in sync.

        Once the mirror has been in sync, a snapshot never waits on Redis: while the listener
        is reconnecting, it returns the last known states with ``reachable`` False.
        """
        self._start_listener()
        with self._lock:
            synced, ever_synced = self._synced, self._ever_synced
            known = dict(self._known)
        if synced or ever_synced:
            return ResourceSnapshot(states=known, taken_at=self._clock(), stale_after=self.stale_after, store=self.name, reachable=synced)
        try:
            states = self._merge(self._run(self._read_all))
        except StoreUnavailable:
            return ResourceSnapshot(states=known, taken_at=self._clock(), stale_after=self.stale_after, store=self.name, reachable=False)
        return ResourceSnapshot(states=states, taken_at=self._clock(), stale_after=self.stale_after, store=self.name, reachable=True)

    def _read_all(self, client: redis.Redis) -> dict[tuple[ResourceKind, str], ResourceState]:
        keys = sorted(client.smembers(self._index_key))
        if not keys:
            return {}
        states = {}
        for key, raw in zip(keys, client.mget(keys), strict=True):
            state = self._parse(key, raw)
            if state is not None:
                states[state.key] = state
        return states

    # Changing.

    def set_state(self, state: ResourceState) -> ResourceState:
        check_state(state, self.units)

        def decide(current: ResourceState | None) -> ResourceState:
            return state.with_changes(version=(current.version if current else 0) + 1)

        _, recorded = self._run(lambda client: self._transact(client, state.kind, state.unit_id, decide))
        return recorded

    def claim(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        check_unit(kind, unit_id, self.units)
        now = self._clock()
        current, claimed = self._run(
            lambda client: self._transact(client, kind, unit_id, lambda state: next_claim(state, kind, unit_id, call_id, by, now, self.stale_after, self._timezone))
        )
        if claimed is None:
            return current
        logger.info("%s %s claimed for call %s by %s", kind.value, unit_id, call_id, by)
        return claimed

    def release(self, kind: ResourceKind, unit_id: str, call_id: str, by: str) -> ResourceState:
        check_unit(kind, unit_id, self.units)
        now = self._clock()
        _, released = self._run(
            lambda client: self._transact(client, kind, unit_id, lambda state: next_release(state, kind, unit_id, call_id, by, now))
        )
        logger.info("%s %s released from call %s by %s", kind.value, unit_id, call_id, by)
        return released

    def _transact(
        self, client: redis.Redis, kind: ResourceKind, unit_id: str, decide: Callable[[ResourceState | None], ResourceState | None]
    ) -> tuple[ResourceState | None, ResourceState | None]:
        """Apply ``decide`` to the unit's current state atomically; return (current, written).

        ``decide`` returns the state to write, None to leave the unit as it is, or raises
        (ClaimConflict) to refuse. Another desk's write between the read and the write
        aborts the transaction, which is then retried on the new state.
        """
        key = self._unit_key(kind, unit_id)
        for _ in range(MAX_TRANSACTION_ATTEMPTS):
            with client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    current = self._parse(key, pipe.get(key))
                    new = decide(current)
                    if new is None:
                        pipe.unwatch()
                        return current, None
                    payload = json.dumps(new.to_json())
                    message = json.dumps({"db": self.db, "key": key, "state": new.to_json()})
                    pipe.multi()
                    pipe.set(key, payload)
                    pipe.sadd(self._index_key, key)
                    pipe.publish(self.channel, message)
                    pipe.execute()
                except redis.WatchError:
                    continue
            with self._lock:
                self._known[new.key] = new
            return current, new
        raise StoreUnavailable(
            "store_contention",
            f"{kind.value} {unit_id} changed {MAX_TRANSACTION_ATTEMPTS} times while this change was being written; retry",
            unit=unit_id,
        )

    # Availability and recovery.

    def _run(self, operation: Callable[[redis.Redis], T]) -> T:
        """Run ``operation`` on Redis; raise StoreUnavailable, and note since when, if Redis fails."""
        # The pause between attempts runs on the monotonic clock, not on the store's clock,
        # which tests may hold still.
        now_s = time.monotonic()
        with self._lock:
            waiting = self._down_since is not None and self._last_attempt_s is not None and now_s - self._last_attempt_s < self.retry_interval_s
            if not waiting:
                self._last_attempt_s = now_s
        if waiting:
            raise self._unavailable()
        try:
            self._check_epoch(self._client)
            result = operation(self._client)
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError) as err:
            self._mark_down(err)
            raise self._unavailable() from err
        except redis.RedisError as err:
            logger.error("Redis %s: command failed: %s", self.address, err)
            self._mark_down(err)
            raise self._unavailable() from err
        except ResurcorError:
            # Redis answered, and the rules rejected the change (a claim conflict).
            self._mark_up()
            raise
        self._mark_up()
        return result

    def _unavailable(self) -> StoreUnavailable:
        since = since_iso = "?"
        if self._down_since is not None:
            since = local_time_text(self._down_since, self._clock(), self._timezone)
            since_iso = self._down_since.astimezone(self._timezone or UTC).isoformat(timespec="seconds")
        return StoreUnavailable(
            "store_unavailable",
            f"Redis at {self.address} is unreachable since {since_iso}: the change was NOT recorded; retry, or pass it by radio",
            address=self.address,
            since=since,
            since_iso=since_iso,
        )

    def _mark_down(self, err: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = self._clock()
            self._last_error = str(err)
        if first:
            logger.warning("Redis %s unreachable (%s): returning the last known states, read as unknown", self.address, err)
            self._subscribers.publish(ReachabilityChange(reachable=False))

    def _mark_up(self) -> None:
        with self._lock:
            was_down = self._down_since
            self._down_since = None
            self._last_error = None
        if was_down is not None:
            logger.warning("Redis %s reachable again after an outage since %s", self.address, was_down.isoformat(timespec="seconds"))

    def _check_epoch(self, client: redis.Redis) -> None:
        """Write back the last known states when Redis contains a new data set (restarted empty)."""
        epoch = client.get(self._epoch_key)
        if epoch is None:
            client.set(self._epoch_key, uuid.uuid4().hex, nx=True)
            epoch = client.get(self._epoch_key)
        with self._lock:
            previous = self._epoch
            known = list(self._known.values())
        if previous is not None and epoch != previous and known:
            logger.warning("Redis %s contains a new data set (restarted or flushed): writing back %d last known states", self.address, len(known))
            self._restore(client, known)
        with self._lock:
            self._epoch = epoch

    def _restore(self, client: redis.Redis, states: list[ResourceState]) -> None:
        """Write back each state unless Redis already contains a state of that unit set at the same time or later."""
        restored = 0
        with self._lock:
            self._restoring += 1
        try:
            for state in states:

                def decide(current: ResourceState | None, state: ResourceState = state) -> ResourceState | None:
                    if current is not None and current.set_at >= state.set_at:
                        return None
                    return state.with_changes(version=max(state.version, (current.version + 1) if current else 0))

                _, written = self._transact(client, state.kind, state.unit_id, decide)
                restored += written is not None
        finally:
            with self._lock:
                self._restoring -= 1
        logger.warning("Redis %s: %d of %d last known states written back", self.address, restored, len(states))

    def health(self) -> dict[str, Any]:
        # A health check probes Redis, so it reports an outage even when nothing else ran.
        try:
            self._run(lambda client: client.ping())
        except StoreUnavailable:
            pass
        with self._lock:
            down_since = self._down_since
            report: dict[str, Any] = {
                "name": self.name,
                "address": self.address,
                "shared": True,
                "reachable": down_since is None,
                "units_set": len(self._known),
            }
            if down_since is not None:
                report["since"] = down_since.astimezone(self._timezone or UTC).isoformat(timespec="seconds")
                report["error"] = self._last_error
        return report

    # Change notifications.

    def subscribe(self) -> Subscription:
        subscription = self._subscribers.add()
        self._start_listener()
        return subscription

    def events(self) -> AsyncIterator[ResourceState]:
        return iterate(self.subscribe())

    def _start_listener(self) -> None:
        with self._lock:
            if self._stopping.is_set() or (self._listener is not None and self._listener.is_alive()):
                return
            self._listener = threading.Thread(target=self._listen, name=f"redis-changes-{self.channel}", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        """Keep the mirror in sync and relay every change to this process's subscribers.

        The listener subscribes first and reads every state second, so no change falls
        between the two. It reads everything again every ``resync_s`` and after each
        reconnection, because pub/sub drops the messages sent while a connection is down.
        """
        failing = False
        while not self._stopping.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                self._wait_subscribed(pubsub)
                self._resync()
                synced_at = time.monotonic()
                if failing:
                    logger.warning("Redis %s: change notifications resumed", self.address)
                    failing = False
                    self._subscribers.publish(ReachabilityChange(reachable=True))
                while not self._stopping.is_set():
                    if time.monotonic() - synced_at > self.resync_s:
                        self._resync()
                        synced_at = time.monotonic()
                    message = pubsub.get_message(timeout=LISTEN_POLL_S)
                    if message is not None and message.get("type") == "message":
                        state = self._parse_message(message["data"])
                        if state is not None:
                            self._apply(state)
                            self._subscribers.publish(state)
            except (redis.RedisError, StoreUnavailable) as err:
                with self._lock:
                    self._synced = False
                if not failing:
                    logger.warning("Redis %s: change notifications interrupted (%s); retrying every %.1f s", self.address, err, self.retry_interval_s)
                    failing = True
                    self._subscribers.publish(ReachabilityChange(reachable=False))
                self._stopping.wait(self.retry_interval_s)
            finally:
                pubsub.close()

    def _wait_subscribed(self, pubsub: redis.client.PubSub) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self._stopping.is_set():
            message = pubsub.get_message(timeout=LISTEN_POLL_S)
            if message is not None and message.get("type") == "subscribe":
                return
        raise redis.TimeoutError(f"no confirmation of the subscription to {self.channel}")

    def _resync(self) -> None:
        """Read every state into the mirror; after the first time, send subscribers the states they missed.

        A unit whose key Redis no longer has (deleted, or its namespace cleared) leaves the
        mirror, unless a write-back after an empty restart is running, because that
        write-back needs the mirror's states and may not have written them yet.
        """
        states = self._run(self._read_all)
        with self._lock:
            resyncing = self._ever_synced
            changed = [state for state in states.values() if self._keep_newer(state)]
            dropped = []
            if not self._restoring:
                dropped = [key for key in self._known if key not in states]
                for key in dropped:
                    del self._known[key]
            self._synced = True
            self._ever_synced = True
        if dropped:
            # NOTE: subscribers are not told of a dropped unit, because an event carries a
            # state. A desk sees the unit as never set at its next full list.
            logger.warning("Redis %s: %d units no longer in Redis dropped from the mirror: %s", self.address, len(dropped), ", ".join(f"{kind.value}/{unit}" for kind, unit in dropped))
        if resyncing:
            for state in changed:
                self._subscribers.publish(state)

    def _merge(self, states: dict[tuple[ResourceKind, str], ResourceState]) -> dict[tuple[ResourceKind, str], ResourceState]:
        """Update the mirror with states read from Redis; return the whole mirror."""
        with self._lock:
            for state in states.values():
                self._keep_newer(state)
            return dict(self._known)

    def _apply(self, state: ResourceState) -> None:
        with self._lock:
            self._keep_newer(state)

    def _keep_newer(self, state: ResourceState) -> bool:
        """Put ``state`` in the mirror, under the caller's lock, unless the mirror has a newer state of the unit.

        Returns whether the mirror changed. A full read or a message can bring a state older than one this store has just
        written, so an older version is ignored. A newer ``set_at`` wins in any case,
        because versions start again when Redis restarts empty.
        """
        current = self._known.get(state.key)
        if current is None or state.version > current.version or state.set_at > current.set_at:
            self._known[state.key] = state
            return True
        return False

    def close(self) -> None:
        self._stopping.set()
        self._subscribers.close_all()
        listener = self._listener
        if listener is not None:
            listener.join(timeout=3)
        self._client.close()

    # Helpers.

    def _unit_key(self, kind: ResourceKind, unit_id: str) -> str:
        return f"{self._unit_prefix}{kind.value}:{unit_id}"


    def _parse_message(self, raw: str) -> ResourceState | None:
        """Return the state of a change message, or None when the message is invalid or names a key of another database or namespace."""
        try:
            message = json.loads(raw)
            db, key, state = message["db"], message["key"], ResourceState.from_json(message["state"])
        except (ValueError, KeyError, TypeError) as err:
            logger.error("Redis %s: invalid message on %s, ignored: %s", self.address, self.channel, err)
            return None
        if db != self.db or key != self._unit_key(state.kind, state.unit_id):
            with self._lock:
                self._foreign_messages += 1
                count = self._foreign_messages
            # The first and every 100th are logged, so a misconfigured publisher cannot flood the log.
            if count == 1 or count % 100 == 0:
                logger.warning("Redis %s: message %d for key %s of database %s ignored on %s: not a key of this store", self.address, count, key, db, self.channel)
            return None
        return state

    def _parse(self, key: str, raw: str | None) -> ResourceState | None:
        """Return the state stored as ``raw``; a malformed value is logged and read as unset."""
        if raw is None:
            return None
        try:
            return ResourceState.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as err:
            logger.error("Redis %s: %s contains an invalid state, read as unset: %s", self.address, key, err)
            return None


__all__ = ["RedisStore", "redacted_address"]

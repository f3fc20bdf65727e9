"""Stores on two databases of one Redis server, or in two namespaces, never see each other's states.

Redis pub/sub is server-wide: a channel without the database number would carry the
changes of database 0 to the desks of database 1. These tests use a throwaway
redis-server, so they may write to its databases 0 and 1.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from dispatch.resources.model import ResourceKind, ResourceState
from dispatch.resources.redis_store import RedisStore
from redis_server import started_server

SMUR = ResourceKind.SMUR
HELI = ResourceKind.HELICOPTER
UNIT = "annecy-change"


@pytest.fixture(scope="module")
def server():
    started = started_server()
    yield started
    started.close()


def _store(url: str, units, namespace: str = "northern-alps", **options) -> RedisStore:
    return RedisStore(url, namespace=namespace, stale_after=timedelta(hours=12), units=units, retry_interval_s=0.1, **options)


def _wait(condition, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _synced(store: RedisStore) -> bool:
    store.snapshot()
    return store.mirror_synced


def test_channel_names_database_and_namespace(server, units):
    stores = [_store(server.url(0), units), _store(server.url(1), units), _store(server.url(0), units, namespace="training")]
    try:
        channels = [store.channel for store in stores]
        assert channels[0] == "resurcor:northern-alps:db0:changes"
        assert channels[1] == "resurcor:northern-alps:db1:changes"
        assert channels[2] == "resurcor:training:db0:changes"
    finally:
        for store in stores:
            store.close()


def test_databases_do_not_share_changes(server, units):
    redis.Redis(port=server.port, db=0).flushdb()
    redis.Redis(port=server.port, db=1).flushdb()
    on_db0 = _store(server.url(0), units)
    on_db1 = _store(server.url(1), units)

    async def scenario() -> ResourceState | None:
        subscription = on_db1.subscribe()
        assert await asyncio.to_thread(_wait, lambda: _synced(on_db1))
        await asyncio.to_thread(on_db0.claim, SMUR, UNIT, "call-1", "desk-db0")
        received = await subscription.get(1.5)
        subscription.close()
        return received

    try:
        assert asyncio.run(scenario()) is None
        assert on_db1.snapshot().state(SMUR, UNIT) is None
        # Database 1 may claim the same unit for its own call: the claim on database 0 does not block it.
        assert on_db1.claim(SMUR, UNIT, "call-2", "desk-db1").call_id == "call-2"
        assert on_db0.snapshot().state(SMUR, UNIT).call_id == "call-1"
    finally:
        on_db0.close()
        on_db1.close()


def test_mirror_ignores_foreign_keys(server, units):
    redis.Redis(port=server.port, db=1).flushdb()
    store = _store(server.url(1), units)
    publisher = redis.Redis(port=server.port, db=1)
    state = ResourceState(HELI, "annecy-meythet-base", "grounded_weather", set_by="elsewhere", set_at=datetime.now(UTC))
    try:
        assert _wait(lambda: _synced(store))
        foreign = [
            {"db": 0, "key": "resurcor:northern-alps:unit:helicopter:annecy-meythet-base", "state": state.to_json()},
            {"db": 1, "key": "resurcor:training:unit:helicopter:annecy-meythet-base", "state": state.to_json()},
            {"db": 1, "key": "resurcor:northern-alps:unit:smur:annecy-change", "state": state.to_json()},
            state.to_json(),
        ]
        for message in foreign:
            assert publisher.publish(store.channel, json.dumps(message)) == 1
        own = ResourceState(SMUR, UNIT, "off_duty", set_by="here", set_at=datetime.now(UTC))
        store.set_state(own)
        # The store's own change, published after the foreign ones, proves they were read.
        assert _wait(lambda: store.snapshot().state(SMUR, UNIT) is not None)
        time.sleep(0.3)
        assert store.snapshot().state(HELI, "annecy-meythet-base") is None
    finally:
        publisher.close()
        store.close()


def test_resync_drops_deleted_units(server, units):
    redis.Redis(port=server.port, db=0).flushdb()
    store = _store(server.url(0), units, resync_s=0.2)
    client = redis.Redis(port=server.port, db=0)
    try:
        store.set_state(ResourceState(SMUR, UNIT, "off_duty", set_by="desk-a", set_at=datetime.now(UTC)))
        assert _wait(lambda: _synced(store))
        assert store.snapshot().state(SMUR, UNIT) is not None

        key = "resurcor:northern-alps:unit:smur:annecy-change"
        client.delete(key)
        client.srem("resurcor:northern-alps:units", key)
        assert _wait(lambda: store.snapshot().state(SMUR, UNIT) is None)
    finally:
        client.close()
        store.close()


def test_empty_restart_keeps_write_back(server, units):
    redis.Redis(port=server.port, db=0).flushdb()
    store = _store(server.url(0), units, resync_s=0.2)
    try:
        store.claim(SMUR, UNIT, "call-1", "desk-a")
        assert _wait(lambda: _synced(store))

        server.stop()
        assert _wait(lambda: not store.snapshot().reachable)
        server.start()
        assert _wait(lambda: store.snapshot().reachable)
        # Several full reads later, the claim is still there: written back, not dropped.
        time.sleep(1)
        assert store.snapshot().state(SMUR, UNIT).call_id == "call-1"
        assert redis.Redis(port=server.port, db=0).exists("resurcor:northern-alps:unit:smur:annecy-change") == 1
    finally:
        store.close()

"""Redis stopped mid-test: last known states read unknown, changes fail clearly, and the store recovers.

These tests start their own redis-server without persistence on a spare port, so
stopping it loses every key, as a restart of the shared Redis would.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis

from dispatch.resources.events import ReachabilityChange
from dispatch.resources.model import UNKNOWN, ResourceKind, ResourceState
from dispatch.resources.redis_store import RedisStore
from dispatch.resources.store import StoreUnavailable
from redis_server import closed_port, started_server

SMUR = ResourceKind.SMUR
CATH = ResourceKind.CATH_LAB


@pytest.fixture()
def server():
    started = started_server()
    yield started
    started.close()


def _wait_snapshot(store: RedisStore, condition, timeout_s: float = 10):
    """Return the first snapshot meeting ``condition``; the listener notices a change of Redis within a moment."""
    deadline = time.monotonic() + timeout_s
    while True:
        snapshot = store.snapshot()
        if condition(snapshot) or time.monotonic() > deadline:
            return snapshot
        time.sleep(0.05)


def _store(server, units) -> RedisStore:
    return RedisStore(server.url(), namespace="northern-alps", stale_after=timedelta(hours=12), units=units, retry_interval_s=0.1)


def test_outage_answers_unknown_and_recovers(server, units):
    store = _store(server, units)
    try:
        store.claim(SMUR, "annecy-change", "call-1", "desk-a")
        before = store.snapshot()
        closed = ResourceState(CATH, "annecy-change", "closed", set_by="desk-a", set_at=before.taken_at)
        store.set_state(closed)

        server.stop()
        snapshot = _wait_snapshot(store, lambda snapshot: not snapshot.reachable)
        assert not snapshot.reachable
        assert snapshot.state(SMUR, "annecy-change").call_id == "call-1"
        assert snapshot.effective(SMUR, "annecy-change") == UNKNOWN
        assert snapshot.effective(CATH, "annecy-change") == UNKNOWN
        assert snapshot.is_stale(SMUR, "annecy-change")
        with pytest.raises(StoreUnavailable, match="NOT recorded"):
            store.claim(SMUR, "sallanches-hpmb", "call-2", "desk-a")
        with pytest.raises(StoreUnavailable):
            store.set_state(closed)
        health = store.health()
        assert health["reachable"] is False
        assert "since" in health

        server.start()
        recovered = _wait_snapshot(store, lambda snapshot: snapshot.reachable)
        assert recovered.reachable
        assert recovered.state(SMUR, "annecy-change").call_id == "call-1"
        assert recovered.effective(CATH, "annecy-change") == "closed"
        assert store.health()["reachable"] is True
        assert redis.Redis(port=server.port).exists("resurcor:northern-alps:unit:smur:annecy-change") == 1
    finally:
        store.close()


def test_write_back_keeps_newer_state(server, units):
    desk_a = _store(server, units)
    desk_b = None
    try:
        desk_a.claim(SMUR, "annecy-change", "call-1", "desk-a")
        desk_a.set_state(ResourceState(CATH, "annecy-change", "closed", set_by="desk-a", set_at=desk_a.snapshot().taken_at))

        server.stop()
        server.start()
        # A desk started after the restart writes first; desk A then writes back what it knew.
        desk_b = _store(server, units)
        desk_b.set_state(ResourceState(CATH, "annecy-change", "open", set_by="desk-b", set_at=desk_b.snapshot().taken_at))
        snapshot = _wait_snapshot(desk_a, lambda snapshot: snapshot.effective(CATH, "annecy-change") == "open")
        assert snapshot.effective(CATH, "annecy-change") == "open"
        assert snapshot.state(SMUR, "annecy-change").call_id == "call-1"
        assert desk_b.snapshot().state(SMUR, "annecy-change").call_id == "call-1"
    finally:
        desk_a.close()
        if desk_b is not None:
            desk_b.close()


def test_store_opens_while_redis_is_down(units):
    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0", namespace="northern-alps", stale_after=timedelta(hours=12), units=units, retry_interval_s=0.1)
    try:
        snapshot = store.snapshot()
        assert not snapshot.reachable
        assert snapshot.states == {}
        assert store.health()["reachable"] is False
    finally:
        store.close()


def test_api_through_an_outage(server, settings, context):
    from fastapi.testclient import TestClient

    from dispatch.api import create_app

    app = create_app(settings.model_copy(update={"redis_url": server.url(), "redis_retry_interval_s": 0.1}), context=context)
    with TestClient(app) as client:
        claimed = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "call-1"})
        assert claimed.status_code == 200

        server.stop()
        _wait_snapshot(app.state.store, lambda snapshot: not snapshot.reachable)
        listing = client.get("/api/v1/resources").json()
        assert listing["store"]["reachable"] is False
        units = {(unit["kind"], unit["unit_id"]): unit for unit in listing["units"]}
        assert units[("smur", "annecy-change")]["state"] == "unknown"
        assert units[("smur", "annecy-change")]["call_id"] == "call-1"
        assert units[("smur", "annecy-change")]["stale"] is True
        assert client.post("/api/v1/resources/smur/sallanches-hpmb/claim", json={"call_id": "call-2"}).status_code == 503
        assert client.get("/api/v1/health").json()["status"] == "degraded"
        answer = client.post("/api/v1/recommendations", json={"commune": "Annecy"})
        assert answer.status_code == 200
        assert "resources_unreachable" in {warning["code"] for warning in answer.json()["warnings"]}

        server.start()
        _wait_snapshot(app.state.store, lambda snapshot: snapshot.reachable)
        assert client.get("/api/v1/health").json()["status"] == "ok"
        again = client.post("/api/v1/resources/smur/annecy-change/claim", json={"call_id": "call-2"})
        assert again.status_code == 409
        assert "call-1" in again.json()["error"]["message"]


def test_subscribers_catch_up_after_outage(server, units):
    import asyncio

    desk_a = RedisStore(server.url(), namespace="northern-alps", stale_after=timedelta(hours=12), units=units, retry_interval_s=1.0)
    desk_b = None

    async def scenario():
        nonlocal desk_b
        subscription = desk_a.subscribe()
        await asyncio.to_thread(_wait_snapshot, desk_a, lambda snapshot: desk_a.mirror_synced)
        server.stop()
        await asyncio.to_thread(_wait_snapshot, desk_a, lambda snapshot: not snapshot.reachable)
        server.start()
        # Desk B writes while desk A's listener may still be waiting to reconnect: desk A
        # then finds the change in its full read and sends it to its subscribers.
        desk_b = _store(server, units)
        await asyncio.to_thread(desk_b.claim, SMUR, "annecy-change", "call-9", "desk-b")
        # The subscription also receives the outage and the recovery, before or after the state.
        changes = []
        received = None
        while received is None:
            item = await subscription.get(10)
            if item is None:
                break
            if not isinstance(item, ReachabilityChange):
                received = item
            else:
                changes.append(item.reachable)
        subscription.close()
        assert False in changes
        return received

    try:
        received = asyncio.run(scenario())
        assert received is not None
        assert (received.unit_id, received.call_id) == ("annecy-change", "call-9")
    finally:
        desk_a.close()
        if desk_b is not None:
            desk_b.close()

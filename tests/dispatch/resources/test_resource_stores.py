"""One suite for both stores: states, staleness, expiry, claims, conflicts and change events."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from datetime import timedelta

import pytest

from dispatch.resources.model import UNKNOWN, ResourceKind, ResourceState, Usability
from dispatch.resources.store import ClaimConflict
from dispatch.resources.units import UnitUnknown
from geodata.errors import InputError

SMUR = ResourceKind.SMUR
HELI = ResourceKind.HELICOPTER
CATH = ResourceKind.CATH_LAB
ANNECY_SMUR = "annecy-change"
ANNECY_HELI = "annecy-meythet-base"
ANNECY_CATH = "annecy-change"


def _state(clock, kind, unit_id, state, **extra) -> ResourceState:
    return ResourceState(kind, unit_id, state, set_by="desk-a", set_at=clock(), **extra)


def test_unset_unit_reads_unknown(store):
    snapshot = store.snapshot()
    assert snapshot.reachable
    assert snapshot.state(SMUR, ANNECY_SMUR) is None
    assert snapshot.effective(SMUR, ANNECY_SMUR) == UNKNOWN
    assert snapshot.usability(SMUR, ANNECY_SMUR) is Usability.UNKNOWN


def test_set_state_counts_versions(store, clock):
    first = store.set_state(_state(clock, HELI, ANNECY_HELI, "available"))
    second = store.set_state(_state(clock, HELI, ANNECY_HELI, "grounded_weather"))
    assert (first.version, second.version) == (1, 2)
    snapshot = store.snapshot()
    assert snapshot.effective(HELI, ANNECY_HELI) == "grounded_weather"
    assert snapshot.usability(HELI, ANNECY_HELI) is Usability.UNAVAILABLE
    assert snapshot.state(HELI, ANNECY_HELI).set_by == "desk-a"


def test_stale_state_reads_unknown(store, clock):
    store.set_state(_state(clock, SMUR, ANNECY_SMUR, "available"))
    clock.advance(hours=11, minutes=59)
    assert store.snapshot().effective(SMUR, ANNECY_SMUR) == "available"
    assert not store.snapshot().is_stale(SMUR, ANNECY_SMUR)
    clock.advance(minutes=2)
    snapshot = store.snapshot()
    assert snapshot.effective(SMUR, ANNECY_SMUR) == UNKNOWN
    assert snapshot.is_stale(SMUR, ANNECY_SMUR)
    assert snapshot.state(SMUR, ANNECY_SMUR).state == "available"


def test_state_expires_at_until(store, clock):
    store.set_state(_state(clock, CATH, ANNECY_CATH, "closed", until=clock() + timedelta(hours=2)))
    clock.advance(hours=1)
    assert store.snapshot().effective(CATH, ANNECY_CATH) == "closed"
    clock.advance(hours=1)
    assert store.snapshot().effective(CATH, ANNECY_CATH) == UNKNOWN


def test_claim_conflict_names_holder(store):
    claimed = store.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
    assert (claimed.state, claimed.call_id, claimed.set_by) == ("engaged", "call-1", "desk-a")
    with pytest.raises(ClaimConflict) as caught:
        store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b")
    assert caught.value.code == "unit_claimed"
    assert caught.value.params["call_id"] == "call-1"
    assert caught.value.params["holder"] == "desk-a"
    assert store.snapshot().state(SMUR, ANNECY_SMUR).call_id == "call-1"


def test_claim_again_by_same_call_changes_nothing(store):
    first = store.claim(HELI, ANNECY_HELI, "call-1", "desk-a")
    again = store.claim(HELI, ANNECY_HELI, "call-1", "desk-a")
    assert again == first
    assert store.snapshot().state(HELI, ANNECY_HELI).version == 1


def test_release_makes_unit_available(store):
    store.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
    with pytest.raises(ClaimConflict) as caught:
        store.release(SMUR, ANNECY_SMUR, "call-2", "desk-b")
    assert caught.value.code == "unit_not_claimed"
    released = store.release(SMUR, ANNECY_SMUR, "call-1", "desk-b")
    assert (released.state, released.call_id, released.version) == ("available", None, 2)
    assert store.snapshot().usability(SMUR, ANNECY_SMUR) is Usability.USABLE
    assert store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b").call_id == "call-2"


def test_unavailable_unit_cannot_be_claimed_until_stale(store, clock):
    store.set_state(_state(clock, HELI, ANNECY_HELI, "grounded_weather"))
    with pytest.raises(ClaimConflict) as caught:
        store.claim(HELI, ANNECY_HELI, "call-1", "desk-a")
    assert caught.value.code == "unit_unavailable"
    assert caught.value.params["state"] == "grounded_weather"
    clock.advance(hours=13)
    assert store.claim(HELI, ANNECY_HELI, "call-1", "desk-a").state == "engaged"


def test_stale_claim_still_blocks_others(store, clock):
    store.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
    clock.advance(hours=24)
    assert store.snapshot().effective(SMUR, ANNECY_SMUR) == UNKNOWN
    with pytest.raises(ClaimConflict, match="call-1"):
        store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b")


def test_operator_state_ends_a_claim(store, clock):
    store.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
    store.set_state(_state(clock, SMUR, ANNECY_SMUR, "available"))
    assert store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b").call_id == "call-2"


def test_cath_lab_cannot_be_claimed(store):
    with pytest.raises(InputError) as caught:
        store.claim(CATH, ANNECY_CATH, "call-1", "desk-a")
    assert caught.value.code == "claim_kind_invalid"


def test_unknown_unit_lists_valid_ids(store, clock):
    with pytest.raises(UnitUnknown) as caught:
        store.claim(SMUR, "chamonix", "call-1", "desk-a")
    assert caught.value.field == "unit_id"
    assert "smur-chamonix-hpmb" in caught.value.params["choices"]
    with pytest.raises(UnitUnknown) as caught:
        store.set_state(_state(clock, SMUR, ANNECY_SMUR, "engaged", returns_to="nowhere"))
    assert caught.value.field == "returns_to"


@pytest.mark.parametrize("call_id", ["", "Jean Dupont", "x" * 65, "call\n1"])
def test_call_id_must_be_a_reference(store, call_id):
    with pytest.raises(InputError) as caught:
        store.claim(SMUR, ANNECY_SMUR, call_id, "desk-a")
    assert caught.value.code == "call_id_invalid"


def test_concurrent_threads_one_winner(store):
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    winners, losers = [], []

    def claim(index: int) -> None:
        barrier.wait()
        try:
            winners.append(store.claim(SMUR, ANNECY_SMUR, f"call-{index}", f"desk-{index}"))
        except ClaimConflict as err:
            losers.append(err)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(winners) == 1
    assert len(losers) == threads_n - 1
    assert {err.params["call_id"] for err in losers} == {winners[0].call_id}
    assert store.snapshot().state(SMUR, ANNECY_SMUR).version == 1


def test_changes_reach_subscribers(store, clock):
    async def scenario() -> list[ResourceState]:
        subscription = store.subscribe()
        # The Redis listener subscribes in its own thread; a change sent before it is
        # listening would be lost, so wait until a probe change arrives.
        received = []
        for _ in range(50):
            await asyncio.to_thread(store.set_state, _state(clock, CATH, "geneve-hug", "open"))
            probe = await subscription.get(0.1)
            if probe is not None:
                break
        while await subscription.get(0.2) is not None:
            pass
        await asyncio.to_thread(store.claim, SMUR, ANNECY_SMUR, "call-1", "desk-a")
        await asyncio.to_thread(store.set_state, _state(clock, HELI, ANNECY_HELI, "grounded_weather"))
        for _ in range(2):
            received.append(await subscription.get(5))
        subscription.close()
        return received

    received = asyncio.run(scenario())
    assert [(s.unit_id, s.state) for s in received] == [(ANNECY_SMUR, "engaged"), (ANNECY_HELI, "grounded_weather")]


def test_close_ends_event_stream(store):
    async def scenario() -> list[ResourceState]:
        events = store.events()
        reader = asyncio.ensure_future(anext(events, None))
        await asyncio.sleep(0.05)
        store.close()
        return await asyncio.wait_for(reader, 5)

    assert asyncio.run(scenario()) is None


# Several processes need the shared store: the in-memory store is one process's by design.


def _claim_in_process(url: str, namespace: str, index: int, start, results) -> None:
    from dispatch.resources.redis_store import RedisStore

    store = RedisStore(url, namespace=namespace, stale_after=timedelta(hours=12))
    store.snapshot()
    start.wait()
    try:
        state = store.claim(SMUR, ANNECY_SMUR, f"call-{index}", f"desk-{index}")
        results.put(("won", state.call_id))
    except ClaimConflict as err:
        results.put(("lost", err.params["call_id"]))
    finally:
        store.close()


def test_concurrent_processes_one_winner(shared_redis):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results = context.Queue()
    processes = [context.Process(target=_claim_in_process, args=(shared_redis.url, shared_redis.namespace, i, start, results)) for i in range(4)]
    for process in processes:
        process.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    won = [call for outcome, call in outcomes if outcome == "won"]
    lost = [call for outcome, call in outcomes if outcome == "lost"]
    assert len(won) == 1
    assert lost == won * 3


def test_two_desks_share_states(shared_redis, units):
    from dispatch.resources.redis_store import RedisStore

    desk_a = RedisStore(shared_redis.url, namespace=shared_redis.namespace, stale_after=timedelta(hours=12), units=units)
    desk_b = RedisStore(shared_redis.url, namespace=shared_redis.namespace, stale_after=timedelta(hours=12), units=units)
    try:
        desk_a.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
        assert desk_b.snapshot().state(SMUR, ANNECY_SMUR).call_id == "call-1"
        with pytest.raises(ClaimConflict, match="desk-a"):
            desk_b.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b")
    finally:
        desk_a.close()
        desk_b.close()


def test_other_desk_changes_reach_subscribers(shared_redis, units):
    from dispatch.resources.redis_store import RedisStore

    desk_a = RedisStore(shared_redis.url, namespace=shared_redis.namespace, stale_after=timedelta(hours=12), units=units)
    desk_b = RedisStore(shared_redis.url, namespace=shared_redis.namespace, stale_after=timedelta(hours=12), units=units)

    async def scenario() -> ResourceState | None:
        subscription = desk_b.subscribe()
        # Desk B's listener is subscribed once its mirror is in sync.
        for _ in range(100):
            if desk_b.snapshot().reachable and desk_b.mirror_synced:
                break
            await asyncio.sleep(0.02)
        await asyncio.to_thread(desk_a.claim, SMUR, ANNECY_SMUR, "call-1", "desk-a")
        received = await subscription.get(5)
        subscription.close()
        return received

    try:
        received = asyncio.run(scenario())
        assert received is not None
        assert (received.unit_id, received.call_id, received.set_by) == (ANNECY_SMUR, "call-1", "desk-a")
        assert desk_b.snapshot().state(SMUR, ANNECY_SMUR).call_id == "call-1"
    finally:
        desk_a.close()
        desk_b.close()


def test_claim_conflict_time_reads_local(store, clock, units):
    from dispatch.resources.store import local_time_text

    store.claim(SMUR, ANNECY_SMUR, "call-1", "desk-a")
    claimed_at = clock()
    with pytest.raises(ClaimConflict) as caught:
        store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b")
    assert caught.value.params["since"] == claimed_at.astimezone(units.timezone).strftime("%H:%M")
    assert caught.value.params["since_iso"].startswith(claimed_at.astimezone(units.timezone).strftime("%Y-%m-%dT%H:%M"))

    # A claim from an earlier day shows its date too.
    clock.advance(days=2)
    with pytest.raises(ClaimConflict) as caught:
        store.claim(SMUR, ANNECY_SMUR, "call-2", "desk-b")
    assert caught.value.params["since"] == claimed_at.astimezone(units.timezone).strftime("%Y-%m-%d %H:%M")
    assert local_time_text(claimed_at, claimed_at, None) == claimed_at.strftime("%H:%M")

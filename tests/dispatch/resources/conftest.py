"""Fixtures of the resource tests: one store suite run on the in-memory store and on the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.resources.memory import MemoryStore
from dispatch.resources.units import UnitCatalogue

STALE_AFTER = timedelta(hours=12)


class Clock:
    """A clock the test moves by hand, so staleness and ``until`` are tested without waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def units(region) -> UnitCatalogue:
    return UnitCatalogue.from_region(region)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@dataclass(frozen=True)
class SharedRedis:
    """A Redis database and a namespace of keys that belongs to one test alone."""

    url: str
    namespace: str


@pytest.fixture()
def shared_redis(redis_url) -> Iterator[SharedRedis]:
    """The test database of the real Redis, with a namespace of this test's own, deleted after it.

    Only the test's namespace is deleted, never the whole database, so two test runs on one
    Redis database do not see or delete each other's states. The namespace is also part of
    the change channel, so neither do they hear each other's changes.
    """
    import redis

    shared = SharedRedis(redis_url, f"test-{uuid.uuid4().hex[:12]}")
    yield shared
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"resurcor:{shared.namespace}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["memory", "redis"])
def store(request, units, clock):
    """Each kind of store, on the region's units and the test's clock."""
    if request.param == "memory":
        opened = MemoryStore(stale_after=STALE_AFTER, units=units, clock=clock)
    else:
        from dispatch.resources.redis_store import RedisStore

        shared = request.getfixturevalue("shared_redis")
        opened = RedisStore(shared.url, namespace=shared.namespace, stale_after=STALE_AFTER, units=units, clock=clock)
    yield opened
    opened.close()

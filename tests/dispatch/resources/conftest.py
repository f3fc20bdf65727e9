"""Fixtures of the resource tests: one store suite run on the in-memory store and on the real Redis."""

from __future__ import annotations

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


@pytest.fixture()
def flushed_redis(redis_url):
    """The test database of the real Redis, emptied before the test (that database only)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture(params=["memory", "redis"])
def store(request, units, clock):
    """Each kind of store, on the region's units and the test's clock."""
    if request.param == "memory":
        opened = MemoryStore(stale_after=STALE_AFTER, units=units, clock=clock)
    else:
        from dispatch.resources.redis_store import RedisStore

        url = request.getfixturevalue("flushed_redis")
        opened = RedisStore(url, namespace="northern-alps", stale_after=STALE_AFTER, units=units, clock=clock)
    yield opened
    opened.close()

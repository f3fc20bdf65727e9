"""Open the resource store the settings name: Redis with ``RESURCOR_REDIS_URL``, memory otherwise."""

from __future__ import annotations

import logging
from datetime import timedelta

from dispatch.resources.memory import MemoryStore
from dispatch.resources.store import ResourceStore
from dispatch.resources.units import UnitCatalogue
from dispatch.settings import Settings

logger = logging.getLogger(__name__)


def open_store(settings: Settings, region) -> ResourceStore:  # noqa: ANN001
    """Return the store for ``region``'s units; it does not connect until first used.

    A Redis store opens even when Redis is down at start-up. It then returns unknown
    states and recovers once Redis is reachable.
    """
    units = UnitCatalogue.from_region(region)
    stale_after = timedelta(minutes=settings.resource_stale_after_min)
    if not settings.redis_url:
        logger.info("resources: in-memory store (single desk), states stale after %d min", settings.resource_stale_after_min)
        return MemoryStore(stale_after=stale_after, units=units)

    from dispatch.resources.redis_store import RedisStore

    store = RedisStore(
        settings.redis_url,
        namespace=settings.redis_namespace or region.id,
        stale_after=stale_after,
        units=units,
        connect_timeout_s=min(settings.redis_timeout_s, 0.5),
        timeout_s=settings.redis_timeout_s,
        retry_interval_s=settings.redis_retry_interval_s,
    )
    logger.info("resources: Redis store at %s, states stale after %d min", store.address, settings.resource_stale_after_min)
    return store


__all__ = ["open_store"]

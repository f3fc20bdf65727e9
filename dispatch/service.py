"""The loaded service: region, network, router and protocol profile, built once at start-up."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pyproj import Transformer

from geodata.network import RoadNetwork, load_network
from geodata.places import PlaceIndex
from geodata.region import Region, load_region
from protocols import Profile, load_profile
from dispatch.plans import ChainParameters
from routing.air import HeliBase, HeliDefaults, heli_bases
from routing.router import RoadRouter
from dispatch.settings import Settings

logger = logging.getLogger(__name__)


def network_cache_dir(settings: Settings) -> Path:
    return settings.cache_dir / "network"


def trees_cache_dir(settings: Settings) -> Path:
    return settings.cache_dir / "trees"


@dataclass(eq=False)
class ServiceContext:
    """Everything a recommendation reads; shared read-only by every request."""

    settings: Settings
    region: Region
    network: RoadNetwork
    router: RoadRouter
    profile: Profile
    loaded_at: datetime
    places: PlaceIndex | None = None
    # The registry's recorder of live answers (dispatch.registry.recorder), set by the API.
    registry_recorder: Any = None

    @cached_property
    def chain_parameters(self) -> ChainParameters:
        """The profile's time-chain parameters, read once; the region may set the access leg per network kind."""
        chain = self.profile.chain
        access = self.region.access_leg.get(self.network_kind)
        return ChainParameters(
            dispatch_delay_min=chain["dispatch_delay_min"].value,
            fmc_to_diagnosis_min=chain["fmc_to_diagnosis_min"].value,
            on_scene_pci_min=chain["on_scene_pci_min"].value,
            on_scene_lysis_min=chain["on_scene_lysis_min"].value,
            lysis_bolus_max_min=self.profile.thresholds["lysis_bolus_max_min"].value,
            emergency_time_factor=chain["emergency_time_factor"].value,
            off_road_speed_kmh=access.speed_kmh if access else chain["off_road_speed_kmh"].value,
            off_road_detour_factor=access.detour_factor if access else chain["off_road_detour_factor"].value,
            heli_on_scene_min=chain["heli_on_scene_min"].value,
            heli_landing_to_lab_min=chain["heli_landing_to_lab_min"].value,
            heli_landing_zone_distance_km=chain["heli_landing_zone_distance_km"].value,
            heli_landing_zone_road_speed_kmh=chain["heli_landing_zone_road_speed_kmh"].value,
        )

    @cached_property
    def heli_bases(self) -> tuple[HeliBase, ...]:
        """The region's helicopter bases, each figure the base's own or the profile's default."""
        chain = self.profile.chain
        defaults = HeliDefaults(
            block_speed_kmh=chain["heli_block_speed_kmh"].value,
            activation_day_min=chain["heli_activation_day_min"].value,
            activation_night_min=chain["heli_activation_night_min"].value,
            source=f"{self.profile.name} profile default",
        )
        return heli_bases(self.region.sites.heli_bases, defaults)

    @cached_property
    def network_summary(self) -> dict[str, object]:
        """The network block of every answer and of the health check."""
        network = self.network
        return {
            "source": network.source.kind,
            "name": network.source.name,
            "version": network.version,
            "approximate": network.source.approximate,
            "built_at": network.built_at.isoformat(),
        }

    @property
    def network_kind(self) -> str:
        return "skeleton" if self.network.source.kind == "skeleton" else "osm"

    @property
    def max_snap_m(self) -> float:
        return self.region.max_snap_m[self.network_kind]

    @property
    def warn_snap_m(self) -> float:
        return self.region.warn_snap_m[self.network_kind]


@dataclass(eq=False)
class RouteContext:
    """The data a point-to-point route reads: the network and its projection, no sites or trees."""

    settings: Settings
    region: Region
    network: RoadNetwork
    project: object
    emergency_time_factor: float

    @property
    def max_snap_m(self) -> float:
        return self.region.max_snap_m["skeleton" if self.network.source.kind == "skeleton" else "osm"]



def load_route_context(settings: Settings) -> RouteContext:
    """Load the cached network for point-to-point routes, whatever region it covers."""
    region = load_region(settings.region_dir, settings.data_dir)
    network = load_network(network_cache_dir(settings))
    profile = load_profile(settings.profile or region.profile)
    to_network = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    return RouteContext(
        settings=settings,
        region=region,
        network=network,
        project=to_network.transform,
        emergency_time_factor=profile.chain["emergency_time_factor"].value,
    )


def load_context(settings: Settings, *, warm: bool = True) -> ServiceContext:
    """Load the region, the cached network and the profile; raise CacheError when the cache is missing or stale.

    With ``warm`` the trees of every month's seasonal scenario are computed (or read
    from disk) now, so that no call pays for them.
    """
    started = time.perf_counter()
    region = load_region(settings.region_dir, settings.data_dir)
    network = load_network(network_cache_dir(settings))
    profile = load_profile(settings.profile or region.profile)
    to_network = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    kind = "skeleton" if network.source.kind == "skeleton" else "osm"
    router = RoadRouter(
        network, region.sites, to_network.transform, cache_dir=trees_cache_dir(settings), warn_snap_m=region.warn_snap_m[kind]
    )
    context = ServiceContext(
        settings=settings,
        region=region,
        network=network,
        router=router,
        profile=profile,
        loaded_at=datetime.now(UTC),
        places=PlaceIndex.from_network(network),
    )
    if warm:
        # Seasonal closures change by month: computing the few distinct monthly masks now
        # (or reading them from disk) keeps every request a look-up.
        year = datetime.now(region.timezone).year
        for month in range(1, 13):
            scenario = router.scenario_for(date(year, month, 1))
            router.tree_set(scenario)
            router.snapper_for(scenario)
    logger.info(
        "service ready: region %s, network %s (%s, %d nodes), profile %s, in %.2f s",
        region.id, network.version, network.source.kind, network.node_count, profile.name, time.perf_counter() - started,
    )
    return context

"""Road router of a region: sites snapped once, trees cached per scenario."""

from __future__ import annotations

import logging
import threading

import numpy as np
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geodata.network import RoadNetwork
from geodata.sites import Site, SiteCatalogue
from routing.scenario import ClosureIndex, RoadScenario, routable_nodes, seasonal_scenario
from routing.snap import Snap, Snapper
from routing.trees import TreeSet, compute_tree_set

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnappedSite:
    site: Site
    snap: Snap


class RoadRouter:
    """Snaps sites to the network and serves the tree set of each scenario.

    Tree sets are computed on first use of a scenario (or read from ``cache_dir``) and
    then kept in memory. The lock makes concurrent first uses compute only once.
    """

    def __init__(
        self, network: RoadNetwork, sites: SiteCatalogue, project, cache_dir: Path | None = None, warn_snap_m: float = 2000.0
    ):
        self.network = network
        self.snapper = Snapper(network)
        self._project = project
        self._cache_dir = cache_dir
        self._warn_snap_m = warn_snap_m
        self._tree_sets: dict[str, TreeSet] = {}
        self._scenarios: dict[tuple[int, frozenset[str]], RoadScenario] = {}
        self._lock = threading.Lock()
        self._closures = ClosureIndex.of(network)
        self._season_masks: dict[date, np.ndarray] = {}
        self._snappers: dict[str, Snapper] = {}

        self.destinations = {s.id: self._snap_site(s) for s in sites.cath_labs}
        self.bases = {s.id: self._snap_site(s) for s in sites.smur_bases}
        self.base_snap_m = np.array([base.snap.distance_m for base in self.bases.values()])

    def snapper_for(self, scenario: RoadScenario) -> Snapper:
        """Return the snapper of a scenario: only nodes routable on its open roads are candidates."""
        snapper = self._snappers.get(scenario.key)
        if snapper is None:
            snapper = Snapper(self.network, routable_nodes(self.network, scenario))
            self._snappers[scenario.key] = snapper
        return snapper

    def bases_in_season(self, day: date) -> np.ndarray:
        """Return a boolean mask over the SMUR bases, in tree order, of those running on ``day``."""
        mask = self._season_masks.get(day)
        if mask is None:
            mask = np.array([base.site.smur_base.in_season(day) for base in self.bases.values()])
            self._season_masks[day] = mask
        return mask

    def _snap_site(self, site: Site) -> SnappedSite:
        x, y = self._project(site.lon, site.lat)
        snapped = SnappedSite(site=site, snap=self.snapper.snap(x, y))
        if snapped.snap.distance_m > self._warn_snap_m:
            logger.warning("site %s lies %.0f m from the nearest usable road node", site.id, snapped.snap.distance_m)
        return snapped

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """Project WGS84 coordinates to the network's CRS."""
        return self._project(lon, lat)

    def scenario_for(self, day: date, closed_refs: frozenset[str] = frozenset()) -> RoadScenario:
        """Return the road scenario of a day; seasonal closures change by month only."""
        key = (day.month, closed_refs)
        scenario = self._scenarios.get(key)
        if scenario is None:
            scenario = seasonal_scenario(self.network, day, extra_closed_refs=closed_refs, closures=self._closures)
            self._scenarios[key] = scenario
        return scenario

    def tree_set(self, scenario: RoadScenario) -> TreeSet:
        trees = self._tree_sets.get(scenario.key)
        if trees is not None:
            return trees
        with self._lock:
            trees = self._tree_sets.get(scenario.key)
            if trees is None:
                trees = compute_tree_set(
                    self.network,
                    scenario,
                    {i: s.snap.node for i, s in self.destinations.items()},
                    {i: s.snap.node for i, s in self.bases.items()},
                    cache_dir=self._cache_dir,
                )
                self._tree_sets[scenario.key] = trees
        return trees

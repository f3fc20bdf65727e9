"""Snapping a point to the road network in the region's projected CRS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from geodata.network import RoadNetwork


@dataclass(frozen=True)
class Snap:
    node: int
    distance_m: float


class Snapper:
    """Nearest usable node by KD-tree in metres.

    Only nodes with at least one edge that is not a motorway or trunk carriageway are
    candidates, so a patient beside a motorway joins the network on a local road.
    ``node_mask`` narrows them further, for example to the nodes routable in a scenario.
    """

    def __init__(self, network: RoadNetwork, node_mask: np.ndarray | None = None):
        mask = network.snappable_nodes()
        if node_mask is not None:
            mask &= node_mask
        self._candidates = np.flatnonzero(mask)
        points = np.column_stack([network.node_x[self._candidates], network.node_y[self._candidates]])
        self._tree = cKDTree(points)

    @property
    def candidate_set(self) -> frozenset[int]:
        """The candidate nodes as a set, for membership tests."""
        cached = self.__dict__.get("_candidate_set")
        if cached is None:
            cached = frozenset(self._candidates.tolist())
            self.__dict__["_candidate_set"] = cached
        return cached

    @property
    def candidates(self) -> np.ndarray:
        """Indices of the nodes a point may be snapped to."""
        return self._candidates

    def snap(self, x: float, y: float) -> Snap:
        distance, position = self._tree.query((x, y))
        return Snap(node=int(self._candidates[position]), distance_m=float(distance))

    def snap_many(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return node indices and distances in metres for an (n, 2) array of points."""
        distance, position = self._tree.query(xy)
        return self._candidates[position], distance

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
    """

    def __init__(self, network: RoadNetwork):
        self._candidates = np.flatnonzero(network.snappable_nodes())
        points = np.column_stack([network.node_x[self._candidates], network.node_y[self._candidates]])
        self._tree = cKDTree(points)

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

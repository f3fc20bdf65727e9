"""Shortest-path trees precomputed per scenario, so that a query is array look-ups.

For each destination (the cath labs) one reverse tree gives the car time from every node
to it. For each SMUR base one forward tree gives the time from the base to every node. Trees are computed with ``scipy.sparse.csgraph.dijkstra`` on CSR
arrays, kept in memory per scenario and saved to disk so that a restart reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geodata.network import RoadNetwork
from routing.scenario import RoadScenario

logger = logging.getLogger(__name__)

# Bump when the arrays saved for a tree set change.
TREE_FORMAT_VERSION = 1

_NO_PREDECESSOR = -9999  # the value scipy uses for "no predecessor"


@dataclass(frozen=True, eq=False)
class Trees:
    """Shortest-path trees rooted at a set of nodes, in one direction.

    ``time_s[i, v]`` is the normal car time between root ``i`` and node ``v`` (root to
    node for forward trees, node to root for reverse trees), ``dist_m`` the length of
    that fastest path, and ``step[i, v]`` the next node on it (towards the root for
    reverse trees, back towards the root for forward trees), -1 at the root or where
    unreachable.
    """

    root_ids: tuple[str, ...]
    root_nodes: np.ndarray
    reverse: bool
    time_s: np.ndarray
    dist_m: np.ndarray
    step: np.ndarray

    def row(self, root_id: str) -> int:
        return self.root_ids.index(root_id)

    def path(self, root_id: str, node: int) -> list[int]:
        """Return the node sequence of the fastest path, in driving order.

        For a reverse tree it runs from ``node`` to the root; for a forward tree from
        the root to ``node``. Empty when ``node`` is unreachable.
        """
        row = self.row(root_id)
        if not np.isfinite(self.time_s[row, node]):
            return []
        nodes = [node]
        while self.step[row, nodes[-1]] >= 0:
            nodes.append(int(self.step[row, nodes[-1]]))
        return nodes if self.reverse else nodes[::-1]


@dataclass(frozen=True, eq=False)
class TreeSet:
    """The trees of one scenario: reverse to destinations, forward from SMUR bases."""

    scenario_key: str
    to_destinations: Trees
    from_bases: Trees


def _edge_lookup(network: RoadNetwork) -> np.ndarray:
    # Edges are sorted by (from, to) and parallel edges were removed at build time, so
    # from * n + to is a sorted unique key that searchsorted can find.
    return network.edge_from.astype(np.int64) * network.node_count + network.edge_to


def _compute_trees(
    network: RoadNetwork,
    open_edges: np.ndarray,
    root_ids: tuple[str, ...],
    root_nodes: np.ndarray,
    *,
    reverse: bool,
    speed_factor: float = 1.0,
) -> Trees:
    n = network.node_count
    tails, heads = network.edge_from[open_edges], network.edge_to[open_edges]
    weights = network.edge_time_s[open_edges] / speed_factor
    if reverse:
        tails, heads = heads, tails
    graph = csr_matrix((weights, (tails, heads)), shape=(n, n))
    time_s, predecessors = dijkstra(graph, directed=True, indices=root_nodes, return_predecessors=True)

    # The length of each fastest path, accumulated along the tree by pointer jumping:
    # after k rounds every node has summed the 2**k edges nearest to it.
    keys = _edge_lookup(network)
    dist_m = np.zeros_like(time_s)
    step = np.where(predecessors == _NO_PREDECESSOR, -1, predecessors).astype(np.int32)
    for row in range(len(root_nodes)):
        parent = step[row].astype(np.int64)
        has_parent = parent >= 0
        nodes = np.arange(n, dtype=np.int64)
        # Forward trees walk parent -> node; reverse trees drive node -> parent.
        edge_tail = np.where(reverse, nodes, parent)
        edge_head = np.where(reverse, parent, nodes)
        edge_index = np.searchsorted(keys, edge_tail[has_parent] * n + edge_head[has_parent])
        acc = np.zeros(n, dtype=np.float64)
        acc[has_parent] = network.edge_length_m[edge_index]
        jump = parent.copy()
        while np.any(jump >= 0):
            active = jump >= 0
            acc[active] += acc[jump[active]]
            jump[active] = jump[jump[active]]
        dist_m[row] = np.where(np.isfinite(time_s[row]), acc, np.inf)

    return Trees(
        root_ids=root_ids,
        root_nodes=np.asarray(root_nodes, dtype=np.int64),
        reverse=reverse,
        time_s=time_s.astype(np.float32),
        dist_m=dist_m.astype(np.float32),
        step=step,
    )


def _cache_key(network: RoadNetwork, scenario: RoadScenario, destinations: dict[str, int], bases: dict[str, int]) -> str:
    payload = json.dumps(
        [TREE_FORMAT_VERSION, network.version, scenario.key, sorted(destinations.items()), sorted(bases.items())]
    ).encode()
    return hashlib.sha256(payload).hexdigest()[:20]


def compute_tree_set(
    network: RoadNetwork,
    scenario: RoadScenario,
    destinations: dict[str, int],
    bases: dict[str, int],
    cache_dir: Path | None = None,
) -> TreeSet:
    """Return the trees of ``scenario``, read from ``cache_dir`` when already computed there.

    ``destinations`` and ``bases`` map site ids to their snapped network nodes.
    """
    key = _cache_key(network, scenario, destinations, bases)
    path = cache_dir / f"trees-{key}.npz" if cache_dir else None
    dest_ids, base_ids = tuple(destinations), tuple(bases)
    dest_nodes = np.array([destinations[i] for i in dest_ids], dtype=np.int64)
    base_nodes = np.array([bases[i] for i in base_ids], dtype=np.int64)

    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                to_trees = Trees(dest_ids, dest_nodes, True, data["to_time_s"], data["to_dist_m"], data["to_step"])
                from_trees = Trees(base_ids, base_nodes, False, data["from_time_s"], data["from_dist_m"], data["from_step"])
            logger.info("trees for scenario %s read from %s", scenario.key, path)
            return TreeSet(scenario.key, to_trees, from_trees)
        except (OSError, KeyError, ValueError) as err:
            logger.warning("tree cache %s unreadable (%s); recomputing", path, err)

    started = time.perf_counter()
    speed = scenario.speed_factor
    to_trees = _compute_trees(network, scenario.open_edges, dest_ids, dest_nodes, reverse=True, speed_factor=speed)
    from_trees = _compute_trees(network, scenario.open_edges, base_ids, base_nodes, reverse=False, speed_factor=speed)
    logger.info(
        "computed %d reverse and %d forward trees for scenario %s (%s) in %.2f s",
        len(dest_ids), len(base_ids), scenario.key, scenario.description, time.perf_counter() - started,
    )

    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            to_time_s=to_trees.time_s, to_dist_m=to_trees.dist_m, to_step=to_trees.step,
            from_time_s=from_trees.time_s, from_dist_m=from_trees.dist_m, from_step=from_trees.step,
        )
        tmp.replace(path)
    return TreeSet(scenario.key, to_trees, from_trees)


def point_to_point(network: RoadNetwork, scenario: RoadScenario, origin: int, target: int) -> tuple[float, float, list[int]]:
    """Return car time (s), length (m) and node path of the fastest route between two nodes.

    One Dijkstra per call: this serves the ``route`` command, not the recommendation path.
    The time is infinite and the path empty when ``target`` cannot be reached.
    """
    trees = _compute_trees(
        network, scenario.open_edges, ("origin",), np.array([origin]), reverse=False, speed_factor=scenario.speed_factor
    )
    return float(trees.time_s[0, target]), float(trees.dist_m[0, target]), trees.path("origin", target)

"""Merge chains of directed OSM segments into edges, summing their segment times.

A chain runs through interstitial nodes: nodes of one way only, with two neighbours and
no junction. Merging keeps each edge's OSM way id, its full polyline, and the sum of its
segments' own times, so a merged edge is exactly as fast as the segments it replaces.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def _interstitial_nodes(tail: np.ndarray, head: np.ndarray, way: np.ndarray, node_count: int) -> np.ndarray:
    """Return a mask of the nodes that a merged edge may pass through.

    Such a node belongs to one way only, has exactly two neighbours, and has either one
    incoming and one outgoing segment (one-way) or two of each (two-way). Any other node
    is a junction, a dead end or the end of a way, and stays a node.
    """
    in_degree = np.bincount(head, minlength=node_count)
    out_degree = np.bincount(tail, minlength=node_count)

    # Distinct (node, way) and (node, neighbour) pairs, each encoded as one int64 key
    # whose quotient by the second range is the node.
    way_code, _ = pd.factorize(way)
    way_range = int(way_code.max()) + 1
    node_way = pd.unique(np.concatenate([tail, head]) * way_range + np.concatenate([way_code, way_code]))
    way_count = np.bincount(node_way // way_range, minlength=node_count)

    node_neighbour = pd.unique(np.concatenate([tail * node_count + head, head * node_count + tail]))
    neighbour_count = np.bincount(node_neighbour // node_count, minlength=node_count)

    one_way_through = (in_degree == 1) & (out_degree == 1)
    two_way_through = (in_degree == 2) & (out_degree == 2)
    return (way_count == 1) & (neighbour_count == 2) & (one_way_through | two_way_through)


def _rank_chains(tail: np.ndarray, head: np.ndarray, interstitial: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Link the directed segments into chains through interstitial nodes.

    Returns, per segment, the first segment of its chain, its position in the chain and
    whether it belongs to a chain that starts at a non-interstitial node. Chains are
    found by pointer jumping, in O(n log n) array operations.
    """
    count = len(tail)
    order = np.argsort(tail, kind="stable")
    first_out = np.searchsorted(tail[order], np.arange(len(interstitial)))

    # Through an interstitial node the next segment is the outgoing one that does not
    # go back to where the segment came from.
    continues = np.flatnonzero(interstitial[head])
    through = head[continues]
    candidate_a = order[first_out[through]]
    candidate_b = order[np.minimum(first_out[through] + 1, count - 1)]
    following = np.where(head[candidate_a] != tail[continues], candidate_a, candidate_b)

    previous = np.full(count, -1, dtype=np.int64)
    previous[following] = continues

    starts_chain = ~interstitial[tail]
    pointer = np.where(starts_chain, np.arange(count), previous)
    rank = (~starts_chain).astype(np.int64)
    for _ in range(max(1, math.ceil(math.log2(count + 1))) + 1):
        if starts_chain[pointer].all():
            break
        rank = rank + rank[pointer]
        pointer = pointer[pointer]

    # Segments that never reach a chain start form closed loops of interstitial nodes.
    # No other way touches such a loop, so it is an isolated component.
    in_chain = starts_chain[pointer]
    return pointer, rank, in_chain


def _chain_bounds(pointer: np.ndarray, rank: np.ndarray, in_chain: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the segments sorted by chain and position, and each chain's start and end in that order."""
    members = np.flatnonzero(in_chain)
    order = members[np.lexsort((rank[members], pointer[members]))]
    boundaries = np.flatnonzero(np.diff(pointer[order])) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    ends = np.concatenate([boundaries, [len(order)]]).astype(np.int64)
    return order, starts, ends


def _nodes_to_split(
    tail: np.ndarray, head: np.ndarray, time_s: np.ndarray, order: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Return the middle nodes of chains that would close on themselves or duplicate another edge.

    The network keeps one edge per ordered node pair (the fastest) and no self-loop, so
    such a chain would vanish with its nodes and its geometry. Keeping its middle node
    splits it into two edges that stay.
    """
    chain_tail = tail[order[starts]]
    chain_head = head[order[ends - 1]]
    chain_time = np.add.reduceat(time_s[order], starts)
    length = ends - starts

    chains = pd.DataFrame({"tail": chain_tail, "head": chain_head, "time": chain_time, "length": length})
    chains = chains.sort_values(["tail", "head", "time"], kind="stable")
    slower_duplicate = chains.duplicated(["tail", "head"], keep="first")
    split = (slower_duplicate | (chains["tail"] == chains["head"])) & (chains["length"] >= 2)
    chosen = chains.index[split.to_numpy()].to_numpy()

    middle_segment = order[starts[chosen] + length[chosen] // 2 - 1]
    return head[middle_segment]


def merge_segment_chains(directed: pd.DataFrame) -> pd.DataFrame:
    """Merge chains of directed segments of one way through interstitial nodes into edges.

    An edge's travel time and length are the sums of its segments' times and lengths.
    Its geometry is the full (lon, lat) polyline from its first to its last node. Closed
    loops that touch no other way are dropped (see ``_rank_chains``).
    """
    if directed.empty:
        return pd.DataFrame(columns=["u", "v", "time_s", "length_m", "way_id", "geometry"])

    codes, node_ids = pd.factorize(np.concatenate([directed["u"].to_numpy(), directed["v"].to_numpy()]))
    tail, head = codes[: len(directed)], codes[len(directed) :]
    way = directed["way_id"].to_numpy()
    time_s = directed["time_s"].to_numpy(dtype=np.float64)

    interstitial = _interstitial_nodes(tail, head, way, len(node_ids))
    pointer, rank, in_chain = _rank_chains(tail, head, interstitial)
    order, starts, ends = _chain_bounds(pointer, rank, in_chain)

    # Splitting a loop can leave two parallel halves, hence the rounds. Every round
    # shortens the chains it splits, so the loop ends.
    while len(split_nodes := _nodes_to_split(tail, head, time_s, order, starts, ends)):
        interstitial[split_nodes] = False
        pointer, rank, in_chain = _rank_chains(tail, head, interstitial)
        order, starts, ends = _chain_bounds(pointer, rank, in_chain)

    dropped = int((~in_chain).sum())
    if dropped:
        logger.info("dropped %d directed segments of isolated closed loops", dropped)

    # Polyline of each chain: the start of each of its segments, then the end of its last.
    lon = np.insert(directed["u_lon"].to_numpy()[order], ends, directed["v_lon"].to_numpy()[order[ends - 1]])
    lat = np.insert(directed["u_lat"].to_numpy()[order], ends, directed["v_lat"].to_numpy()[order[ends - 1]])
    points = list(zip(lon.tolist(), lat.tolist(), strict=True))
    chain_index = np.arange(len(starts))
    point_starts = (starts + chain_index).tolist()
    point_ends = (ends + chain_index + 1).tolist()
    geometry = [points[a:b] for a, b in zip(point_starts, point_ends, strict=True)]

    return pd.DataFrame(
        {
            "u": node_ids[tail[order[starts]]],
            "v": node_ids[head[order[ends - 1]]],
            "time_s": np.add.reduceat(time_s[order], starts),
            "length_m": np.add.reduceat(directed["length_m"].to_numpy(dtype=np.float64)[order], starts),
            "way_id": way[order[starts]],
            "geometry": geometry,
        }
    )

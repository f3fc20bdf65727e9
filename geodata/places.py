"""Named places of a road network: resorts, towns and villages a caller may name.

A curated network names its nodes ("Val Thorens (resort)", "La Plagne - Plagne Centre").
A caller who names the resort is placed at that node rather than at the point of the
commune it belongs to, which can lie in another valley. OSM networks carry no node names
here, so their index is empty and callers fall back to communes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geodata.communes import name_keys
from geodata.network import RoadNetwork

_BRACKETS = re.compile(r"\([^)]*\)")


def _keys(name: str) -> set[str]:
    """Return the lookup keys of a node name: the whole name and each " - " part, folded."""
    text = _BRACKETS.sub("", name)
    parts = [text] + text.split(" - ")
    return {key for part in parts for key in name_keys(part)}


@dataclass(frozen=True)
class PlaceIndex:
    """Exact-name lookup of network nodes; a name shared by several nodes finds none."""

    _nodes: dict[str, int]
    _names: dict[int, str]
    _lat_lon: dict[int, tuple[float, float]]

    @classmethod
    def from_network(cls, network: RoadNetwork) -> PlaceIndex:
        found: dict[str, list[int]] = {}
        names: dict[int, str] = {}
        lat_lon: dict[int, tuple[float, float]] = {}
        for node, name in enumerate(network.node_name.tolist()):
            if not name:
                continue
            names[node] = _BRACKETS.sub("", name).strip()
            lat_lon[node] = (float(network.node_lat[node]), float(network.node_lon[node]))
            for key in _keys(name):
                found.setdefault(key, []).append(node)
        unique = {key: nodes[0] for key, nodes in found.items() if len(nodes) == 1}
        return cls(_nodes=unique, _names=names, _lat_lon=lat_lon)

    def find(self, query: str) -> int | None:
        """Return the node named ``query`` (accents, case and separators ignored), or None."""
        for key in name_keys(query):
            node = self._nodes.get(key)
            if node is not None:
                return node
        return None

    def find_prefix(self, query: str) -> int | None:
        """Return the one node whose name starts with ``query`` ("Les Arcs" finds "Les Arcs 1800"), or None."""
        keys = name_keys(query)
        found = {node for key, node in self._nodes.items() if any(key.startswith(k) for k in keys)}
        return found.pop() if len(found) == 1 else None

    def ranked_matches(self, query: str) -> list[tuple[int, int]]:
        """Return (rank, node) for every named node matching ``query``, best first.

        Ranks: 0 a name equal to the query, 2 a name starting with it, 3 a name
        containing it. Names are folded as in ``find``, and ties keep the node order.
        """
        needles = name_keys(query)
        if not needles:
            return []
        found = []
        for node, name in self._names.items():
            keys = _keys(name)
            if keys & needles:
                rank = 0
            elif any(key.startswith(needle) for key in keys for needle in needles):
                rank = 2
            elif any(needle in key for key in keys for needle in needles):
                rank = 3
            else:
                continue
            found.append((rank, node))
        return sorted(found)

    def name(self, node: int) -> str:
        return self._names.get(node, "")

    def lat_lon(self, node: int) -> tuple[float, float]:
        return self._lat_lon[node]

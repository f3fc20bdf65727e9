"""Road scenarios: which edges are closed at a given date, and how fast the open ones are driven.

A scenario selects an edge mask over the network. Seasonal closures come from each
edge's closure label, a month range such as ``Nov-May`` (closed from the first day of
the first month to the last day of the second). Labels that do not name a fixed range
(``occasional (snow)``) leave the edge open unless the scenario closes it explicitly,
by road ref or by OpenStreetMap way id. A speed factor below 1 (snow) slows every open
edge; it is part of the scenario's key, so its trees are cached apart.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from datetime import date

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geodata.network import RoadNetwork

logger = logging.getLogger(__name__)

_MONTHS = {name: index for index, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
)}
_RANGE = re.compile(r"^\s*([A-Za-z]{3})\s*-\s*([A-Za-z]{3})\s*$")


def closed_months(label: str) -> frozenset[int]:
    """Return the months (1-12) during which a closure label closes its edge.

    ``Nov-May`` gives {11, 12, 1, 2, 3, 4, 5}; a label that is not a month range
    gives the empty set.
    """
    match = _RANGE.match(label or "")
    if not match:
        return frozenset()
    first, last = (_MONTHS.get(m.lower()) for m in match.groups())
    if first is None or last is None:
        return frozenset()
    if first <= last:
        return frozenset(range(first, last + 1))
    return frozenset(list(range(first, 13)) + list(range(1, last + 1)))


@dataclass(frozen=True, eq=False)
class RoadScenario:
    """An edge mask: ``open_edges[i]`` is False when edge ``i`` is closed."""

    open_edges: np.ndarray
    description: str

    @cached_property
    def key(self) -> str:
        """Digest of the mask and speed factor, used to cache the trees computed for them."""
        digest = hashlib.sha256(np.packbits(self.open_edges).tobytes())
        if self.speed_factor != 1.0:
            digest.update(f"speed:{self.speed_factor:.6f}".encode())
        return digest.hexdigest()[:16]

    closed_sections: int = 0
    # Names of the closed sections: each closed edge's ref, with its département when known.
    closed_names: tuple[str, ...] = ()
    # Ratio of the day's speeds to the network's normal speeds on every open edge
    # (0.72 on a heavy-snow day); edge times are divided by it.
    speed_factor: float = 1.0

    @property
    def closed_count(self) -> int:
        """Closed road sections: a two-way section counts once, though it has two edges."""
        return self.closed_sections


@dataclass(frozen=True, eq=False)
class ClosureIndex:
    """The distinct closure labels of a network and each edge's label index.

    Built once per network, so that the mask of a month is a look-up over a few labels
    instead of a comparison of every edge's label string.
    """

    labels: tuple[str, ...]
    edge_label: np.ndarray

    @classmethod
    def of(cls, network: RoadNetwork) -> ClosureIndex:
        labels, inverse = np.unique(network.edge_closure, return_inverse=True)
        return cls(labels=tuple(str(label) for label in labels), edge_label=inverse.astype(np.int32))

    def closed_in(self, month: int) -> np.ndarray:
        """Return a boolean mask of the edges closed during ``month`` (1-12)."""
        closed_label = np.array([bool(label) and month in closed_months(label) for label in self.labels])
        return closed_label[self.edge_label]


def routable_nodes(network: RoadNetwork, scenario: RoadScenario) -> np.ndarray:
    """Return a mask of the nodes in the largest strongly connected component of the open roads.

    A node whose roads are all closed (a pass in winter) or that can be entered but not
    left on the day must not receive a patient, because no plan could start there.
    """
    open_edges = scenario.open_edges
    n = network.node_count
    graph = csr_matrix((np.ones(int(open_edges.sum())), (network.edge_from[open_edges], network.edge_to[open_edges])), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    return labels == np.bincount(labels).argmax()


_REF_SEPARATORS = re.compile(r"[\s;/,()]+")


def ref_tokens(ref: str) -> frozenset[str]:
    """Return the words of an edge's ref: ``E095 D902 (col)`` gives {"E095", "D902", "col"}."""
    return frozenset(token for token in _REF_SEPARATORS.split(ref or "") if token)


# A scoped ref names the département its road number belongs to: "D902@73".
SCOPE_SEPARATOR = "@"


def split_scoped_ref(ref: str) -> tuple[str, str | None]:
    """Return the road ref and the département of a scoped ref: ``D902@73`` gives ("D902", "73")."""
    road, separator, departement = ref.partition(SCOPE_SEPARATOR)
    return road.strip(), (departement.strip() or None) if separator else None


def edge_departements(network: RoadNetwork, commune_x: np.ndarray, commune_y: np.ndarray, commune_departement: np.ndarray) -> np.ndarray:
    """Return each edge's département: that of the commune centre nearest the edge's middle.

    NOTE: a commune centre is not a boundary, so an edge within a few hundred metres of a
    départemental border may take the neighbour's number.
    """
    from scipy.spatial import cKDTree

    middle_x = (network.node_x[network.edge_from] + network.node_x[network.edge_to]) / 2
    middle_y = (network.node_y[network.edge_from] + network.node_y[network.edge_to]) / 2
    _, nearest = cKDTree(np.column_stack([commune_x, commune_y])).query(np.column_stack([middle_x, middle_y]))
    return np.asarray(commune_departement)[nearest]


def edges_with_refs(network: RoadNetwork, refs: frozenset[str], edge_departement: np.ndarray | None = None) -> np.ndarray:
    """Return a boolean mask of the edges whose ref is one of ``refs`` or contains one as a word.

    ``D902`` matches every edge of the D902, ``E095 D902`` only the edges of that exact ref,
    and ``D902@73`` (with ``edge_departement``) only the D902 edges of département 73.
    """
    mask = np.zeros(network.edge_count, dtype=bool)
    if not refs:
        return mask
    distinct, inverse = np.unique(network.edge_ref, return_inverse=True)
    for ref in refs:
        road, departement = split_scoped_ref(ref)
        matched = np.array([str(name) == road or road in ref_tokens(str(name)) for name in distinct], dtype=bool)[inverse]
        if departement is not None:
            if edge_departement is None:
                raise ValueError(f"{ref} is scoped to a département: give edge_departement")
            matched &= edge_departement == departement
        mask |= matched
    return mask


def ref_departements(network: RoadNetwork, ref: str, edge_departement: np.ndarray) -> list[str]:
    """Return the départements the edges of an unscoped ``ref`` lie in, sorted."""
    return sorted(set(edge_departement[edges_with_refs(network, frozenset({ref}))].tolist()))


def unmatched_refs(network: RoadNetwork, refs: frozenset[str], edge_departement: np.ndarray | None = None) -> list[str]:
    """Return the refs of ``refs`` that match no edge of the network, sorted."""
    return sorted(ref for ref in refs if not edges_with_refs(network, frozenset({ref}), edge_departement).any())


def closed_section_names(network: RoadNetwork, closed_edges: np.ndarray, edge_departement: np.ndarray | None = None) -> tuple[str, ...]:
    """Return the names of the closed sections: ``D902 (73)``, one per ref and département."""
    refs = network.edge_ref[closed_edges]
    if edge_departement is None:
        return tuple(sorted({str(ref) or "?" for ref in refs}))
    return tuple(sorted({f"{ref or '?'} ({dep})" for ref, dep in zip(refs.tolist(), edge_departement[closed_edges].tolist())}))


def unmatched_way_ids(network: RoadNetwork, way_ids: frozenset[int]) -> list[int]:
    """Return the OpenStreetMap way ids of ``way_ids`` that no edge of the network carries, sorted."""
    return sorted(set(way_ids) - set(np.unique(network.edge_way_id).tolist()))


def road_scenario(
    network: RoadNetwork,
    day: date,
    *,
    seasonal: bool = True,
    closed_refs: frozenset[str] = frozenset(),
    closed_way_ids: frozenset[int] = frozenset(),
    speed_factor: float = 1.0,
    closures: ClosureIndex | None = None,
    edge_departement: np.ndarray | None = None,
) -> RoadScenario:
    """Return a planner's scenario of ``day``: the seasonal calendar, ad-hoc closures and a speed factor.

    ``closed_refs`` close edges by ref word (see ``edges_with_refs``), ``closed_way_ids``
    by OpenStreetMap way id. ``seasonal=False`` leaves the passes open whatever the month.
    ``edge_departement`` (see ``edge_departements``) scopes refs such as ``D902@73`` and
    names the closed sections with their département.
    """
    if not 0 < speed_factor <= 1.5:
        raise ValueError(f"speed_factor must be in (0, 1.5], got {speed_factor}")
    closures = closures or ClosureIndex.of(network)
    open_edges = ~closures.closed_in(day.month) if seasonal else np.ones(network.edge_count, dtype=bool)
    open_edges &= ~edges_with_refs(network, closed_refs, edge_departement)
    if closed_way_ids:
        open_edges &= ~np.isin(network.edge_way_id, sorted(closed_way_ids))
    sections = len(np.unique(network.edge_ref[~open_edges])) if not open_edges.all() else 0
    description = f"{day.isoformat()}: {sections} closed road sections"
    if speed_factor != 1.0:
        description += f", speeds x{speed_factor:g}"
    names = closed_section_names(network, ~open_edges, edge_departement)
    return RoadScenario(
        open_edges=open_edges, description=description, closed_sections=sections, closed_names=names, speed_factor=speed_factor
    )


def seasonal_scenario(
    network: RoadNetwork, day: date, *, extra_closed_refs: frozenset[str] = frozenset(), closures: ClosureIndex | None = None
) -> RoadScenario:
    """Return the scenario of ``day``: seasonal closures by month, plus edges whose ref is listed.

    Pass the network's ``closures`` index when building many scenarios of one network.
    """
    closures = closures or ClosureIndex.of(network)
    open_edges = ~closures.closed_in(day.month)
    if extra_closed_refs:
        open_edges &= ~np.isin(network.edge_ref, sorted(extra_closed_refs))
    # A section closed in both directions is one closure for the regulator.
    sections = len(np.unique(network.edge_ref[~open_edges])) if not open_edges.all() else 0
    scenario = RoadScenario(open_edges=open_edges, description=f"{day.isoformat()}: {sections} closed road sections", closed_sections=sections)
    logger.debug("scenario %s", scenario.description)
    return scenario

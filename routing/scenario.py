"""Road scenarios: which edges are closed at a given date.

A scenario selects an edge mask over the network. Seasonal closures come from each
edge's closure label, a month range such as ``Nov-May`` (closed from the first day of
the first month to the last day of the second). Labels that do not name a fixed range
(``occasional (snow)``) leave the edge open unless the scenario closes it explicitly.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date

import numpy as np

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

    @property
    def key(self) -> str:
        """Digest of the mask, used to cache the trees computed for it."""
        return hashlib.sha256(np.packbits(self.open_edges).tobytes()).hexdigest()[:16]

    closed_sections: int = 0

    @property
    def closed_count(self) -> int:
        """Closed road sections: a two-way section counts once, though it has two edges."""
        return self.closed_sections


def seasonal_scenario(network: RoadNetwork, day: date, *, extra_closed_refs: frozenset[str] = frozenset()) -> RoadScenario:
    """Return the scenario of ``day``: seasonal closures by month, plus edges whose ref is listed."""
    month = day.month
    labels = network.edge_closure
    open_edges = np.ones(network.edge_count, dtype=bool)
    for label in np.unique(labels):
        if label and month in closed_months(str(label)):
            open_edges &= labels != label
    if extra_closed_refs:
        open_edges &= ~np.isin(network.edge_ref, sorted(extra_closed_refs))
    sections = len(np.unique(network.edge_ref[~open_edges])) if (~open_edges).any() else 0
    scenario = RoadScenario(open_edges=open_edges, description=f"{day.isoformat()}: {sections} closed road sections", closed_sections=sections)
    logger.debug("scenario %s", scenario.description)
    return scenario

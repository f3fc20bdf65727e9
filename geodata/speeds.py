"""Car speeds of OSM ways: the ``maxspeed`` tag when it can be read, else a French default.

Speeds are in km/h. They are the normal car speeds that edge travel times are computed
from, and the router applies its emergency factors on top of them.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping

import numpy as np

from geodata.errors import NetworkBuildError

logger = logging.getLogger(__name__)

# Default speed of each road class when a way has no readable maxspeed. OSM does not
# say whether a road is in town, so these are typical car speeds on French roads
# rather than the legal limits (estimates, not measurements):
# - motorway 130: the autoroute limit in dry weather.
# - trunk 80: since 1 July 2018 the limit on rural roads with no central separator.
#   A trunk mapped as a one-way carriageway is a dual carriageway, which has 110 (see
#   DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH).
# - primary 80: the rural limit. Town sections are usually tagged with maxspeed.
# - secondary 70, tertiary 60: routes départementales, often narrow and winding in the
#   Alps and crossing villages, so below the 80 km/h rural limit.
# - unclassified 50: minor rural roads (voies communales), narrow in the mountains.
# - residential 30: an estimate, because many French town centres now limit streets to
#   30 km/h and a residential street is rarely driven faster.
# - living_street 20: the limit of a zone de rencontre.
# - service 20, track 15: access lanes and tracks, driven slowly.
# - links: slip roads, slower than their road (motorway_link 60 down to tertiary_link 40).
# - road 50: a way whose class is not yet known.
DEFAULT_SPEED_KMH: Mapping[str, float] = {
    "motorway": 130.0,
    "trunk": 80.0,
    "primary": 80.0,
    "secondary": 70.0,
    "tertiary": 60.0,
    "unclassified": 50.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
    "track": 15.0,
    "motorway_link": 60.0,
    "trunk_link": 60.0,
    "primary_link": 50.0,
    "secondary_link": 50.0,
    "tertiary_link": 40.0,
    "road": 50.0,
}

# French limit on a road with two carriageways separated by a central reservation.
DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH = 110.0

# Plausible range of an edge speed. A speed outside it is a tagging error (maxspeed=900)
# that would distort every route through the way, so the build fails instead.
MIN_SPEED_KMH = 5.0
MAX_SPEED_KMH = 140.0

# Implicit maxspeed values (``maxspeed=FR:rural``) and the limit each stands for in
# France. FR:rural is 80 km/h since 1 July 2018 on two-way roads without a central
# separator. A road whose limit was raised back to 90 is expected to carry maxspeed=90.
# "walk" is walking pace.
IMPLICIT_MAXSPEED_KMH: Mapping[str, float] = {
    "fr:urban": 50.0,
    "fr:rural": 80.0,
    "fr:zone30": 30.0,
    "fr:zone20": 20.0,
    "fr:living_street": 20.0,
    "fr:motorway": 130.0,
    "fr:walk": 6.0,
    "walk": 6.0,
}

# Valid maxspeed values that give no number: the default of the road class applies.
# "none" (no limit) exists on German motorways and does not apply in France.
UNNUMBERED_MAXSPEED_VALUES: frozenset[str] = frozenset({"none", "signals", "variable", "unposted", "implicit"})

# km/h per unit; a number without a unit is in km/h.
_UNIT_TO_KMH: Mapping[str, float] = {"": 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}
_NUMBER_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")


@functools.lru_cache(maxsize=4096)
def _warn_invalid_maxspeed(value: str) -> None:
    # Cached, so each distinct value is logged once (up to the cache size).
    logger.warning("ignored the invalid maxspeed %r; the road class default applies", value)


def _parse_single_maxspeed(value: str) -> float | None:
    key = value.strip().lower()
    if not key or key in UNNUMBERED_MAXSPEED_VALUES:
        return None
    if key in IMPLICIT_MAXSPEED_KMH:
        return IMPLICIT_MAXSPEED_KMH[key]
    match = _NUMBER_PATTERN.match(key)
    if match is None:
        _warn_invalid_maxspeed(value)
        return None
    number, unit = match.groups()
    return float(number) * _UNIT_TO_KMH[unit or ""]


def parse_maxspeed(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h, or return None when it gives no speed.

    Accepted forms are a number in km/h ("50"), a number with a unit ("50 km/h",
    "50 mph", "10 knots") and the implicit values of IMPLICIT_MAXSPEED_KMH ("FR:rural").
    A list of values, separated by "|" (one per lane) or ";" (several limits), gives
    the lowest. The lowest never overstates the speed of a vehicle in any lane or
    condition, which errs on the safe side when planning an emergency transport.

    None is returned for a missing or empty value, for the values of
    UNNUMBERED_MAXSPEED_VALUES ("none", "signals", "variable") and for a value that
    cannot be read. An unreadable value is logged as a warning, once per distinct value
    while fewer than 4096 distinct values have been seen. No value raises.
    """
    if value is None:
        return None
    speeds = [_parse_single_maxspeed(part) for part in re.split(r"[|;]", str(value))]
    numbers = [speed for speed in speeds if speed is not None]
    if not numbers:
        return None
    return min(numbers)


def default_speed_kmh(highway_class: str, *, dual_carriageway: bool = False) -> float:
    """Return the default speed of a road class (see DEFAULT_SPEED_KMH).

    ``dual_carriageway`` raises a trunk to DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH. It is
    ignored for the other classes. Raises KeyError for a name that is not in
    ROAD_CLASSES.
    """
    if highway_class == "trunk" and dual_carriageway:
        return DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH
    return DEFAULT_SPEED_KMH[highway_class]


def edge_speed_kmh(highway_class: str, maxspeed_raw: str | None, *, dual_carriageway: bool = False) -> float:
    """Return the speed of a way: its parsed maxspeed, else its class default."""
    maxspeed = parse_maxspeed(maxspeed_raw)
    if maxspeed is not None:
        return maxspeed
    return default_speed_kmh(highway_class, dual_carriageway=dual_carriageway)


def check_speed_range(speed_kmh: np.ndarray, way_id: np.ndarray, maxspeed_raw: np.ndarray) -> None:
    """Raise NetworkBuildError unless every speed is finite and within the plausible range.

    The arrays are aligned, one entry per way, and ``maxspeed_raw`` contains the raw tag
    values (str or None). The error names the first offending way, its maxspeed tag and
    the number of offending ways.
    """
    speed = np.asarray(speed_kmh, dtype=np.float64)
    bad = ~(np.isfinite(speed) & (speed >= MIN_SPEED_KMH) & (speed <= MAX_SPEED_KMH))
    if not bad.any():
        return

    first = int(np.flatnonzero(bad)[0])
    first_way = int(way_id[first])
    first_raw = maxspeed_raw[first]
    count = int(bad.sum())
    raise NetworkBuildError(
        "network_build_failed",
        f"OSM way {first_way} has the speed {speed[first]:g} km/h (maxspeed={first_raw!r}), outside the plausible "
        f"range {MIN_SPEED_KMH:g}-{MAX_SPEED_KMH:g} km/h; {count} way(s) are affected. Correct the maxspeed tag "
        "in OpenStreetMap or in the extract and build again",
        way_id=first_way,
        maxspeed=first_raw,
        speed_kmh=float(speed[first]),
        count=count,
    )

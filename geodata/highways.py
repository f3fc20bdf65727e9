"""The drivable-road filter: which OSM ways a car may use, and their road class.

Every OSM reader applies this one filter (``is_drivable`` for a single way,
``drivable_mask`` for a table of ways), and the tests check the built networks against
it, so the rule lives in one place. Tag values are compared after stripping blanks and
lower-casing. A missing tag and an empty value count the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from geodata.errors import NetworkBuildError
from geodata.network import ROAD_CLASSES

# Kept ``highway`` values and the road class of each. ``track`` is kept only on request
# (see ``is_drivable``). Every other value is not drivable: footway, cycleway, path,
# steps, pedestrian, bridleway, busway, bus_guideway, escape, raceway, construction,
# proposed, abandoned and the like.
HIGHWAY_ROAD_CLASS: Mapping[str, str] = {
    "motorway": "motorway",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "unclassified": "unclassified",
    "residential": "residential",
    "living_street": "living_street",
    "service": "service",
    "road": "road",
    "motorway_link": "motorway_link",
    "trunk_link": "trunk_link",
    "primary_link": "primary_link",
    "secondary_link": "secondary_link",
    "tertiary_link": "tertiary_link",
    "track": "track",
}

# ``service`` values of highway=service that are left out:
# - parking_aisle and parking: lanes inside car parks. Routes cut across car parks
#   through them, and patients would be snapped onto them.
# - drive-through: fast-food and bank lanes, which lead nowhere a patient is.
# - emergency_access: roads that only emergency vehicles may use, usually behind a gate
#   or bollards. The network models a car's travel time, and an ambulance reaches the
#   same places over public roads.
# - private: a common non-standard way of tagging a private service road.
# Driveways are kept: they are the last metres to a house or a farm, often long in the
# mountains, and being dead ends they create no shortcut.
EXCLUDED_SERVICE_VALUES: frozenset[str] = frozenset(
    {"parking_aisle", "parking", "drive-through", "emergency_access", "private"}
)

# Access keys for a car in OSM's access hierarchy, most specific first. The first one
# a way carries decides, so access=no with motor_vehicle=yes is open and
# motor_vehicle=yes with motorcar=no is closed.
CAR_ACCESS_KEYS: tuple[str, ...] = ("motorcar", "motor_vehicle", "vehicle", "access")

# Access values that close a way to an ordinary car. A list such as "private;delivery"
# closes the way only when every value in it closes it, because a car may use the way
# if it fits any listed category (destination, customers, permissive, yes...).
CLOSED_ACCESS_VALUES: frozenset[str] = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "military", "permit"}
)

# Every tag that ``is_drivable`` reads.
FILTER_TAGS: tuple[str, ...] = ("highway", "area", "service", *CAR_ACCESS_KEYS)


def normalise_tag(value: object) -> str:
    """Return an OSM tag value stripped and lower-cased, or "" for a missing value."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):  # how pandas marks a missing tag
        return ""
    return str(value).strip().lower()


def drivable_highway_values(*, include_tracks: bool = False) -> frozenset[str]:
    """Return the ``highway`` values a drivable way may have."""
    values = set(HIGHWAY_ROAD_CLASS)
    if not include_tracks:
        values.discard("track")
    return frozenset(values)


def _access_closed(tags: Mapping[str, object]) -> bool:
    for key in CAR_ACCESS_KEYS:
        value = normalise_tag(tags.get(key))
        if value:
            return all(part.strip() in CLOSED_ACCESS_VALUES for part in value.split(";"))
    return False


def is_drivable(tags: Mapping[str, str | None], *, include_tracks: bool = False) -> bool:
    """Return whether an ordinary car may drive on a way with these OSM tags.

    A way is drivable when its ``highway`` value is a key of HIGHWAY_ROAD_CLASS and it
    is not an area (``area=yes``). A service road must not be of a kind in
    EXCLUDED_SERVICE_VALUES. The most specific car access tag present must not close
    the way (see CAR_ACCESS_KEYS and CLOSED_ACCESS_VALUES).

    ``highway=track`` is left out unless ``include_tracks`` is true. In the Alps most
    tracks are unpaved forest, farm or pasture tracks, many closed to traffic by a
    municipal order that OSM does not record. They would offer shortcuts over passes
    that no ambulance takes. A patient on a track is snapped to the nearest road.

    NOTE: conditional restrictions (``motor_vehicle:conditional``, such as the winter
    closure of a pass) are not read here.
    """
    highway = normalise_tag(tags.get("highway"))
    if highway not in drivable_highway_values(include_tracks=include_tracks):
        return False
    if normalise_tag(tags.get("area")) == "yes":
        return False
    if highway == "service" and normalise_tag(tags.get("service")) in EXCLUDED_SERVICE_VALUES:
        return False
    return not _access_closed(tags)


def drivable_mask(df: pd.DataFrame, *, include_tracks: bool = False) -> pd.Series:
    """Return a boolean Series, aligned on ``df``, that is true for the drivable rows.

    ``df`` has one column per OSM tag, named by the tag key. A column of FILTER_TAGS that
    is absent counts as a tag that no row carries. Each distinct combination of the
    filter tags is decided once by ``is_drivable``, so the two functions cannot disagree.
    """
    frame = df.reindex(columns=list(FILTER_TAGS)).astype(object)
    frame = frame.where(frame.notna(), "")

    combinations = frame.drop_duplicates()
    verdicts = [
        is_drivable(dict(zip(FILTER_TAGS, row, strict=True)), include_tracks=include_tracks)
        for row in combinations.itertuples(index=False, name=None)
    ]
    decided = combinations.assign(_drivable=verdicts)
    merged = frame.merge(decided, how="left", on=list(FILTER_TAGS), validate="many_to_one")
    return pd.Series(merged["_drivable"].to_numpy(dtype=bool), index=df.index, name="drivable")


def road_class(highway: str) -> str:
    """Return the road class (a name of ROAD_CLASSES) of a kept ``highway`` value.

    Raises NetworkBuildError naming the value when it has no road class, which means
    that the way should not have passed the drivable filter.
    """
    value = normalise_tag(highway)
    name = HIGHWAY_ROAD_CLASS.get(value)
    if name is None or name not in ROAD_CLASSES:
        raise NetworkBuildError(
            "network_build_failed",
            f"highway={value!r} has no road class; only drivable ways "
            f"({', '.join(sorted(HIGHWAY_ROAD_CLASS))}) can enter the network",
            highway=value,
        )
    return name


def road_classes(highway: pd.Series) -> pd.Series:
    """Return the road class of each ``highway`` value, raising like ``road_class``."""
    classes = {value: road_class(value) for value in pd.unique(highway)}
    return highway.map(classes)

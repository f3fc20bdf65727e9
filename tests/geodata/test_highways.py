from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.errors import NetworkBuildError
from geodata.highways import (
    FILTER_TAGS,
    HIGHWAY_ROAD_CLASS,
    drivable_highway_values,
    drivable_mask,
    is_drivable,
    road_class,
    road_classes,
)
from geodata.network import ROAD_CLASSES

# (tags, drivable by default)
DRIVABLE_CASES: list[tuple[dict[str, str], bool]] = [
    ({"highway": "motorway"}, True),
    ({"highway": "motorway_link"}, True),
    ({"highway": "trunk"}, True),
    ({"highway": "primary"}, True),
    ({"highway": "tertiary_link"}, True),
    ({"highway": "unclassified"}, True),
    ({"highway": "residential"}, True),
    ({"highway": " Residential "}, True),
    ({"highway": "living_street"}, True),
    ({"highway": "road"}, True),
    ({"highway": "service"}, True),
    ({"highway": "service", "service": "driveway"}, True),
    ({"highway": "service", "service": "alley"}, True),
    ({"highway": "service", "service": "parking_aisle"}, False),
    ({"highway": "service", "service": "drive-through"}, False),
    ({"highway": "service", "service": "emergency_access"}, False),
    ({"highway": "track"}, False),
    ({"highway": "footway"}, False),
    ({"highway": "cycleway"}, False),
    ({"highway": "path"}, False),
    ({"highway": "steps"}, False),
    ({"highway": "pedestrian"}, False),
    ({"highway": "bus_guideway"}, False),
    ({"highway": "construction"}, False),
    ({"highway": "proposed"}, False),
    ({"highway": "abandoned"}, False),
    ({"building": "yes"}, False),
    ({"highway": "residential", "area": "yes"}, False),
    ({"highway": "residential", "area": "no"}, True),
    ({"highway": "residential", "access": "private"}, False),
    ({"highway": "residential", "access": "no"}, False),
    ({"highway": "residential", "access": "agricultural;forestry"}, False),
    ({"highway": "residential", "access": "private;delivery"}, False),
    ({"highway": "residential", "access": "private;destination"}, True),
    ({"highway": "residential", "access": "destination"}, True),
    ({"highway": "residential", "access": "permissive"}, True),
    ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True),
    ({"highway": "residential", "access": "private", "motorcar": "designated"}, True),
    ({"highway": "residential", "access": "no", "motor_vehicle": "destination"}, True),
    ({"highway": "residential", "motor_vehicle": "no"}, False),
    ({"highway": "residential", "motorcar": "no"}, False),
    ({"highway": "residential", "motor_vehicle": "yes", "motorcar": "no"}, False),
    ({"highway": "residential", "vehicle": "no"}, False),
    ({"highway": "residential", "access": "yes", "vehicle": "private"}, False),
]


@pytest.mark.parametrize(("tags", "expected"), DRIVABLE_CASES)
def test_is_drivable_cases(tags: dict[str, str], expected: bool) -> None:
    assert is_drivable(tags) is expected


def test_is_drivable_tracks_on_request() -> None:
    assert is_drivable({"highway": "track"}, include_tracks=True)
    assert not is_drivable({"highway": "track", "motor_vehicle": "agricultural"}, include_tracks=True)
    assert "track" in drivable_highway_values(include_tracks=True)
    assert "track" not in drivable_highway_values()


def test_drivable_mask_matches_is_drivable() -> None:
    frame = pd.DataFrame([tags for tags, _ in DRIVABLE_CASES], index=np.arange(100, 100 + len(DRIVABLE_CASES)))
    frame = frame.reindex(columns=[*FILTER_TAGS, "building"])

    mask = drivable_mask(frame)

    assert mask.dtype == bool
    assert mask.index.equals(frame.index)
    expected = [is_drivable(tags) for tags, _ in DRIVABLE_CASES]
    assert mask.tolist() == expected


def test_drivable_mask_missing_columns() -> None:
    frame = pd.DataFrame({"highway": ["residential", "footway", None, "track"]})

    assert drivable_mask(frame).tolist() == [True, False, False, False]
    assert drivable_mask(frame, include_tracks=True).tolist() == [True, False, False, True]


def test_drivable_mask_pandas_string_dtype() -> None:
    frame = pd.DataFrame(
        {
            "highway": pd.array(["service", "service", "primary"], dtype="string"),
            "service": pd.array(["parking_aisle", pd.NA, pd.NA], dtype="string"),
        }
    )

    assert drivable_mask(frame).tolist() == [False, True, True]


def test_road_class_covers_kept_values() -> None:
    for value in drivable_highway_values(include_tracks=True):
        assert road_class(value) in ROAD_CLASSES
    assert set(HIGHWAY_ROAD_CLASS.values()) <= set(ROAD_CLASSES)


def test_road_class_unknown_value_raises() -> None:
    with pytest.raises(NetworkBuildError, match="footway") as error:
        road_class("footway")

    assert error.value.code == "network_build_failed"
    assert error.value.params["highway"] == "footway"


def test_road_classes_series() -> None:
    classes = road_classes(pd.Series(["primary", "motorway_link", "primary"], index=[7, 8, 9]))

    assert classes.tolist() == ["primary", "motorway_link", "primary"]
    assert classes.index.tolist() == [7, 8, 9]
    with pytest.raises(NetworkBuildError, match="cycleway"):
        road_classes(pd.Series(["primary", "cycleway"]))

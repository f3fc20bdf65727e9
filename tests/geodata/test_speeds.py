from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from geodata.errors import NetworkBuildError
from geodata.network import ROAD_CLASSES
from geodata.speeds import (
    DEFAULT_SPEED_KMH,
    DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH,
    MAX_SPEED_KMH,
    MIN_SPEED_KMH,
    check_speed_range,
    default_speed_kmh,
    edge_speed_kmh,
    parse_maxspeed,
)

MAXSPEED_CASES: list[tuple[str | None, float | None]] = [
    ("50", 50.0),
    ("50 km/h", 50.0),
    ("50km/h", 50.0),
    ("50 kmh", 50.0),
    (" 90 ", 90.0),
    ("7.5", 7.5),
    ("50 mph", 50 * 1.609344),
    ("10 knots", 18.52),
    ("FR:rural", 80.0),
    ("fr:rural", 80.0),
    ("FR:urban", 50.0),
    ("FR:zone30", 30.0),
    ("FR:motorway", 130.0),
    ("FR:walk", 6.0),
    ("walk", 6.0),
    ("70|100", 70.0),
    ("130|110|110", 110.0),
    ("50;80", 50.0),
    ("80;FR:urban", 50.0),
    ("none", None),
    ("signals", None),
    ("variable", None),
    ("", None),
    ("   ", None),
    (None, None),
    ("fast", None),
    ("DE:zone30", None),
    ("-50", None),
    ("50,80", None),
]


@pytest.mark.parametrize(("value", "expected"), MAXSPEED_CASES)
def test_parse_maxspeed_cases(value: str | None, expected: float | None) -> None:
    parsed = parse_maxspeed(value)

    if expected is None:
        assert parsed is None
    else:
        assert parsed == pytest.approx(expected)


def test_parse_maxspeed_mph_value() -> None:
    assert parse_maxspeed("50 mph") == pytest.approx(80.47, abs=0.005)


def test_parse_maxspeed_logs_junk_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="geodata.speeds")

    assert parse_maxspeed("very fast indeed") is None
    assert parse_maxspeed("very fast indeed") is None
    assert parse_maxspeed("50;quite fast") == 50.0

    messages = [record.getMessage() for record in caplog.records]
    assert sum("'very fast indeed'" in message for message in messages) == 1
    assert sum("'quite fast'" in message for message in messages) == 1


def test_parse_maxspeed_valid_words_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="geodata.speeds")

    for value in ("none", "signals", "variable", "", None):
        parse_maxspeed(value)

    assert caplog.records == []


def test_default_speeds_cover_road_classes() -> None:
    assert set(DEFAULT_SPEED_KMH) == set(ROAD_CLASSES)
    for speed in DEFAULT_SPEED_KMH.values():
        assert MIN_SPEED_KMH <= speed <= MAX_SPEED_KMH


def test_default_speed_dual_carriageway_trunk() -> None:
    assert default_speed_kmh("trunk") == 80.0
    assert default_speed_kmh("trunk", dual_carriageway=True) == DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH
    assert default_speed_kmh("primary", dual_carriageway=True) == DEFAULT_SPEED_KMH["primary"]


def test_edge_speed_prefers_maxspeed() -> None:
    assert edge_speed_kmh("residential", "50") == 50.0
    assert edge_speed_kmh("trunk", "90", dual_carriageway=True) == 90.0


def test_edge_speed_falls_back_to_default() -> None:
    assert edge_speed_kmh("residential", None) == DEFAULT_SPEED_KMH["residential"]
    assert edge_speed_kmh("motorway", "none") == 130.0
    assert edge_speed_kmh("tertiary", "signals") == DEFAULT_SPEED_KMH["tertiary"]
    assert edge_speed_kmh("trunk", None, dual_carriageway=True) == DUAL_CARRIAGEWAY_TRUNK_SPEED_KMH


def test_check_speed_range_accepts_bounds() -> None:
    check_speed_range(np.array([MIN_SPEED_KMH, 50.0, MAX_SPEED_KMH]), np.array([1, 2, 3]), np.array([None, "50", None]))


@pytest.mark.parametrize("speed", [900.0, 4.9, 0.0, math.inf, math.nan])
def test_check_speed_range_rejects(speed: float) -> None:
    with pytest.raises(NetworkBuildError) as error:
        check_speed_range(np.array([50.0, speed]), np.array([11, 4242]), np.array(["50", "raw value"], dtype=object))

    assert error.value.code == "network_build_failed"
    assert error.value.params["way_id"] == 4242
    assert error.value.params["maxspeed"] == "raw value"
    assert "4242" in str(error.value)
    assert "raw value" in str(error.value)

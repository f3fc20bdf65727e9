"""Great-circle legs and civil twilight, checked against known values."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from routing.air import civil_twilight, geodesic_m, great_circle_m, is_daylight

PARIS = ZoneInfo("Europe/Paris")
ANNECY = (45.93, 6.106)


def test_great_circle_grenoble_to_annecy_is_about_81_km():
    distance = great_circle_m(45.188, 5.7245, 45.9, 6.1289)
    assert 80_000 < float(distance) < 86_000


def test_great_circle_is_within_half_a_percent_of_the_geodesic():
    for lat1, lon1, lat2, lon2 in [(45.188, 5.7245, 45.9, 6.1289), (45.93, 6.1, 45.45, 6.98), (44.45, 6.04, 46.2, 6.15)]:
        sphere = float(great_circle_m(lat1, lon1, lat2, lon2))
        ellipsoid = geodesic_m(lat1, lon1, lat2, lon2)
        assert abs(sphere - ellipsoid) / ellipsoid < 0.005


def test_great_circle_broadcasts_over_bases():
    distances = great_circle_m(np.array([45.0, 46.0]), np.array([6.0, 6.0]), 45.0, 6.0)
    assert distances[0] == 0.0
    assert 110_000 < distances[1] < 112_000


def test_annecy_december_dusk_is_near_17_25():
    dawn, dusk = civil_twilight(*ANNECY, date(2026, 12, 4), PARIS)
    assert dusk.strftime("%H:%M") >= "17:15"
    assert dusk.strftime("%H:%M") <= "17:35"
    assert dawn.strftime("%H:%M") >= "07:15"


def test_noon_is_day_and_evening_is_night_at_annecy_in_december():
    assert is_daylight(*ANNECY, datetime(2026, 12, 4, 12, 0, tzinfo=PARIS))
    assert not is_daylight(*ANNECY, datetime(2026, 12, 4, 17, 45, tzinfo=PARIS))


def test_summer_evening_is_still_day():
    # Civil dusk in late June is after 22:00 in the Alps: the same clock time flips.
    assert is_daylight(*ANNECY, datetime(2026, 6, 21, 21, 45, tzinfo=PARIS))


def test_dst_change_keeps_local_dusk_in_local_time():
    _, before = civil_twilight(*ANNECY, date(2026, 3, 28), PARIS)
    _, after = civil_twilight(*ANNECY, date(2026, 3, 29), PARIS)
    # Clocks go forward one hour on 29 March 2026: local dusk jumps by about an hour.
    gap = (after.hour * 60 + after.minute) - (before.hour * 60 + before.minute)
    assert 55 <= gap <= 65

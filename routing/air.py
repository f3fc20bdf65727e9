"""Helicopter legs: great-circle distances, block speed, activation by day or night, daylight.

A helicopter plan is a chain of named intervals: activation (regulation decision to
lift-off), flight from the base to the patient, time on scene, flight to the cath lab's
helipad and landing to cath-lab door. Flights are great-circle legs on the WGS84
ellipsoid flown at the base's block speed (climb, approach and wind averaged), so a leg
is ``distance / block speed`` with no other correction.

Daylight is civil twilight at the place and moment (the sun less than 6 degrees below
the horizon), computed with astral: a base that does not fly at night is unavailable
between dusk and dawn, for the whole mission.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from astral import Observer
from astral.sun import dawn, dusk, elevation
from pyproj import Geod

from geodata.sites import Fact, Site

logger = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

# IUGG mean Earth radius.
EARTH_RADIUS_M = 6_371_008.8

# Civil twilight ends when the sun is 6 degrees below the horizon.
CIVIL_TWILIGHT_DEPRESSION_DEG = 6.0


def great_circle_m(lat1: float | np.ndarray, lon1: float | np.ndarray, lat2: float | np.ndarray, lon2: float | np.ndarray) -> np.ndarray:
    """Return great-circle distances in metres on the mean Earth sphere; arrays broadcast.

    The haversine formula differs from the WGS84 geodesic by under 0.5 % (checked in the
    tests with pyproj), far less than the block speed's range, and costs a few
    microseconds for every base and cath lab of a call.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlambda = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the WGS84 geodesic distance in metres (pyproj), the reference of great_circle_m."""
    _, _, distance = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(distance)


def is_daylight(lat: float, lon: float, moment: datetime) -> bool:
    """True when the sun is above civil twilight at the place and moment."""
    return elevation(Observer(latitude=lat, longitude=lon), moment) > -CIVIL_TWILIGHT_DEPRESSION_DEG


def civil_twilight(lat: float, lon: float, day: date, timezone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Return civil dawn and dusk of ``day`` at the place, in ``timezone``.

    Either is None where the sun never crosses the twilight line that day (polar regions).
    """
    observer = Observer(latitude=lat, longitude=lon)
    moments = []
    for event in (dawn, dusk):
        try:
            moments.append(event(observer, day, tzinfo=timezone, depression=CIVIL_TWILIGHT_DEPRESSION_DEG))
        except ValueError:
            moments.append(None)
    return moments[0], moments[1]


@dataclass(frozen=True)
class HeliDefaults:
    """The profile's helicopter parameters, used where a base has no figure of its own."""

    block_speed_kmh: float
    activation_day_min: float
    activation_night_min: float
    source: str = "protocol profile default"


@dataclass(frozen=True)
class HeliBase:
    """A helicopter base with the figures its missions use, each with its source."""

    site: Site
    block_speed_kmh: Fact[float]
    activation_day_min: Fact[float]
    activation_night_min: Fact[float]
    night_flight: bool
    night_flight_known: bool
    aircraft: str | None

    @property
    def id(self) -> str:
        return self.site.id

    @property
    def name(self) -> str:
        return self.site.heli_base.name or self.site.name

    def in_season(self, day: date) -> bool:
        return self.site.heli_base.in_season(day)

    def flight_s(self, distance_m: float | np.ndarray) -> float | np.ndarray:
        """Seconds to fly ``distance_m`` at the base's block speed."""
        return distance_m / (self.block_speed_kmh.value / 3.6)


def heli_bases(sites: tuple[Site, ...], defaults: HeliDefaults) -> tuple[HeliBase, ...]:
    """Return the helicopter bases of ``sites``; a figure missing from a base takes the profile default.

    A base whose night flying is unknown is treated as a day-only base: the service never
    assumes an aircraft can fly at night.
    """
    bases = []
    for site in sites:
        role = site.heli_base
        if role is None:
            continue

        def fact(own: Fact[float] | None, default: float) -> Fact[float]:
            return own if own is not None else Fact(value=default, verified=False, source=defaults.source)

        bases.append(
            HeliBase(
                site=site,
                block_speed_kmh=fact(role.block_speed_kmh, defaults.block_speed_kmh),
                activation_day_min=fact(role.activation_day_min, defaults.activation_day_min),
                activation_night_min=fact(role.activation_night_min, defaults.activation_night_min),
                night_flight=role.night_flight is True,
                night_flight_known=role.night_flight is not None,
                aircraft=role.aircraft.value if role.aircraft is not None else None,
            )
        )
    return tuple(bases)


@dataclass(frozen=True)
class MissionWindow:
    """Whether a base may fly a mission from ``start`` to ``end``, and with which activation delay."""

    flyable: bool
    night: bool
    reason: str | None
    dawn: datetime | None
    dusk: datetime | None


def mission_window(base: HeliBase, start: datetime, end: datetime, timezone: ZoneInfo) -> MissionWindow:
    """Tell whether ``base`` can fly between ``start`` and ``end``.

    Daylight is read at the base at both ends of the mission; a base without night
    flights must have both in daylight. ``reason`` is ``night`` when the base is grounded
    by darkness.
    """
    lat, lon = base.site.lat, base.site.lon
    day_start = is_daylight(lat, lon, start)
    day_end = is_daylight(lat, lon, end)
    first_dawn, first_dusk = civil_twilight(lat, lon, start.astimezone(timezone).date(), timezone)
    night = not day_start
    if not (day_start and day_end) and not base.night_flight:
        return MissionWindow(flyable=False, night=night, reason="night", dawn=first_dawn, dusk=first_dusk)
    return MissionWindow(flyable=True, night=night, reason=None, dawn=first_dawn, dusk=first_dusk)


def activation_min(base: HeliBase, night: bool) -> float:
    return base.activation_night_min.value if night else base.activation_day_min.value


__all__ = [
    "HeliBase",
    "HeliDefaults",
    "MissionWindow",
    "activation_min",
    "civil_twilight",
    "geodesic_m",
    "great_circle_m",
    "heli_bases",
    "is_daylight",
    "mission_window",
]

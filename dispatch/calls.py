"""Validation of a call's fields, shared by the command line and the HTTP API.

Both edges hand the raw values to ``parse_call``. Every invalid value raises an
InputError naming the field, so the two give the same error in the same words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from geodata.communes import Commune
from geodata.errors import InputError
from geodata.places import PlaceIndex
from geodata.region import Region
from protocols import Contraindication, PatientFlags
from dispatch.timeparse import ParsedTime, localize, parse_time


# A commune's representative point may lie a few km from its town. Beyond this distance
# between the commune and the coordinates given with it, one of the two is wrong.
COMMUNE_MISMATCH_KM = 15.0

# An onset this long before the call is a typing error (a wrong year or month), since a
# STEMI is not called in weeks after its onset.
MAX_ONSET_AGE = timedelta(days=7)

MAX_LISTED_CANDIDATES = 6

# The French words for the contraindication levels, accepted as the English values.
FRENCH_CONTRAINDICATIONS = {"absolue": "absolute", "relative": "relative"}

# A clock-time onset up to this far after the call is an error, not yesterday's time.
CLOCK_AHEAD_LIMIT = timedelta(hours=6)

# Longer than any French commune or resort name; a longer value is not a name.
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CallInput:
    """A validated call: where, when, and the patient flags the rules read."""

    lat: float
    lon: float
    commune: Commune | None
    located_by: str
    place_name: str
    place_node: int | None
    at: ParsedTime
    onset: ParsedTime | None
    patient: PatientFlags
    lang: str
    landable: bool = True


def check_coordinate(value: object, field: str) -> float:
    """Return ``value`` as a finite latitude or longitude, or raise InputError naming ``field``."""
    limit = 90.0 if field == "lat" else 180.0
    code = "latitude_range" if field == "lat" else "longitude_range"
    if isinstance(value, str) and "," in value:
        # "45,92" as written in French: a decimal comma, not a range error.
        raise InputError("decimal_comma", f"{field}: {value!r} uses a decimal comma", field=field, value=value, fixed=value.replace(",", "."))
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise InputError(code, f"{field}: {value!r} is not a number", field=field, value=value) from err
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise InputError(code, f"{field}: {value!r} must be a finite number between {-limit:g} and {limit:g}", field=field, value=value)
    return number


def parse_call(
    region: Region,
    *,
    lat: object = None,
    lon: object = None,
    commune: str | None = None,
    onset: str | datetime | None = None,
    at: str | datetime | None = None,
    now: datetime,
    age: object = None,
    shock: bool = False,
    arrest: bool = False,
    contraindication: str | None = None,
    lang: str = "fr",
    places: PlaceIndex | None = None,
    landable: bool = True,
) -> CallInput:
    """Validate the raw fields of a call; ``now`` is the call time when ``at`` is not given.

    With ``places``, a name designates a named place of the network (a resort) before a
    commune.
    """
    if commune is not None and len(commune) > MAX_NAME_LENGTH:
        raise InputError("commune_too_long", f"commune: {len(commune)} characters, at most {MAX_NAME_LENGTH}", field="commune", max=MAX_NAME_LENGTH)
    named = commune is not None and commune.strip() != ""

    # A named place of the network (a resort) is more precise than its commune's point,
    # unless the name is also that of several communes: then the caller must choose.
    resolution = region.communes.resolve(commune) if named else None
    place_node = None
    if resolution is not None and places is not None and lat is None and lon is None:
        resolved, candidates = resolution
        if resolved is not None or len(candidates) < 2:
            place_node = places.find(commune)
            if place_node is None and resolved is not None:
                place_node = places.find_prefix(commune)
    place_name = ""
    if place_node is not None:
        place_name = places.name(place_node)
        lat_value, lon_value = places.lat_lon(place_node)
        found = region.commune_at(lon_value, lat_value)
        located_by = "place"
    else:
        found = resolve_commune(region, commune, resolution) if named else None
        if lat is None and lon is None:
            if found is None:
                raise InputError("location_missing", "give lat and lon, or a commune", field="lat")
            lat_value, lon_value, located_by = found.lat, found.lon, "commune"
        else:
            if lat is None:
                raise InputError("field_missing", "lat is required with lon", field="lat")
            if lon is None:
                raise InputError("field_missing", "lon is required with lat", field="lon")
            lat_value, lon_value, located_by = check_coordinate(lat, "lat"), check_coordinate(lon, "lon"), "coordinates"
            if found is not None:
                _check_commune_near(region, found, lat_value, lon_value)
            else:
                found = region.commune_at(lon_value, lat_value)

    timezone = region.timezone
    call_time = _parse_when(at, "at", timezone) if at is not None else ParsedTime(now.astimezone(timezone), False)
    onset_time = None
    if isinstance(onset, str) and (clock := _CLOCK_TIME.match(onset)):
        onset_time = _last_clock_time(int(clock.group(1)), int(clock.group(2)), call_time.value, timezone)
    elif onset is not None and onset != "":
        onset_time = _parse_when(onset, "onset", timezone)
    if onset_time is not None and onset_time.value > call_time.value:
        raise InputError(
            "onset_after_call",
            f"onset {onset_time.value.isoformat()} is after the call {call_time.value.isoformat()}",
            field="onset",
            onset=onset_time.value.isoformat(timespec="minutes"),
            at=call_time.value.isoformat(timespec="minutes"),
        )
    if onset_time is not None and call_time.value - onset_time.value > MAX_ONSET_AGE:
        raise InputError(
            "onset_implausible",
            f"onset {onset_time.value.isoformat()} is more than {MAX_ONSET_AGE.days} days before the call; check the date",
            field="onset",
            onset=onset_time.value.isoformat(timespec="minutes"),
            days=MAX_ONSET_AGE.days,
        )

    age_years = None
    if age is not None:
        try:
            age_years = int(str(age))
        except ValueError as err:
            raise InputError("age_range", f"age: {age!r} is not a whole number of years", field="age", value=age) from err
        if not 0 <= age_years <= 120:
            raise InputError("age_range", f"age: {age_years} is outside 0-120 years", field="age", value=age)

    try:
        flag = Contraindication(FRENCH_CONTRAINDICATIONS.get(contraindication, contraindication)) if contraindication else Contraindication.none
    except ValueError as err:
        raise InputError("contraindication_invalid", f"contraindication: {contraindication!r} is not absolute or relative", field="contraindication", value=contraindication) from err

    return CallInput(
        lat=lat_value,
        lon=lon_value,
        commune=found,
        located_by=located_by,
        place_name=place_name,
        place_node=place_node,
        at=call_time,
        onset=onset_time,
        patient=PatientFlags(age_years=age_years, cardiogenic_shock=bool(shock), resuscitated_arrest=bool(arrest), contraindication=flag),
        lang=lang,
        landable=bool(landable),
    )


def resolve_commune(region: Region, text: str, resolution: tuple | None = None) -> Commune:
    """Return the commune ``text`` designates; raise InputError when unknown or ambiguous.

    ``resolution`` is the result of ``region.communes.resolve(text)`` when already known.
    """
    commune, candidates = resolution if resolution is not None else region.communes.resolve(text)
    if commune is not None:
        return commune
    if not candidates:
        suggestions = ", ".join(f"{c.name} ({c.departement})" for c in region.communes.suggest(text))
        # A long value is cut in the message so that a pasted paragraph does not flood it.
        excerpt = text if len(text) <= 60 else text[:57] + "..."
        if suggestions:
            raise InputError("commune_unknown_suggest", f"commune {excerpt!r} is unknown; close names: {suggestions}", field="commune", value=excerpt, suggestions=suggestions)
        raise InputError("commune_unknown", f"commune {excerpt!r} is unknown in the region", field="commune", value=excerpt)
    listed = ", ".join(f"{c.name} ({c.departement})" for c in candidates[:MAX_LISTED_CANDIDATES])
    more = len(candidates) - MAX_LISTED_CANDIDATES
    raise InputError(
        "commune_ambiguous",
        f"commune {text!r} matches several communes: {listed}",
        field="commune",
        value=text,
        candidates=listed + (f", +{more}" if more > 0 else ""),
    )


def _check_commune_near(region: Region, commune: Commune, lat: float, lon: float) -> None:
    """Reject coordinates far from the commune also given: one of the two is wrong."""
    x0, y0 = region.project(lon, lat)
    x1, y1 = region.project(commune.lon, commune.lat)
    distance_km = math.hypot(x1 - x0, y1 - y0) / 1000
    if distance_km > COMMUNE_MISMATCH_KM:
        raise InputError(
            "commune_mismatch",
            f"commune {commune.name} lies {distance_km:.0f} km from the point ({lat}, {lon})",
            field="commune",
            commune=commune.name,
            distance_km=round(distance_km),
            lat=lat,
            lon=lon,
        )


_CLOCK_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:hH]\s*([0-5]\d)\s*$")


def _last_clock_time(hour: int, minute: int, call_time: datetime, timezone) -> ParsedTime:
    """Return the last time the local clock showed ``hour:minute`` before the call.

    A caller says "since 20:00": that is today's 20:00 when it is before the call, and
    yesterday's when today's lies well ahead (a call at 01:00). A time shortly after
    the call is rejected instead: it is a clock difference or a typing error, and
    reading it as yesterday would add a day of symptoms.
    """
    local_call = call_time.astimezone(timezone)
    today = localize(datetime.combine(local_call.date(), time(hour, minute)), "onset", timezone)
    if today.value <= call_time:
        return ParsedTime(today.value, True, from_clock_time=True)
    if today.value - call_time <= CLOCK_AHEAD_LIMIT:
        raise InputError(
            "onset_clock_after_call",
            f"onset {hour:02d}:{minute:02d} is after the call time {local_call:%H:%M}",
            field="onset",
            value=f"{hour:02d}:{minute:02d}",
            at=local_call.strftime("%H:%M"),
        )
    yesterday = localize(datetime.combine(local_call.date() - timedelta(days=1), time(hour, minute)), "onset", timezone)
    return ParsedTime(yesterday.value, True, from_clock_time=True)


def _parse_when(value: str | datetime, field: str, timezone) -> ParsedTime:
    if isinstance(value, datetime):
        return localize(value, field, timezone)
    return parse_time(value, field, timezone)

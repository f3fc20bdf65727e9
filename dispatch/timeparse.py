"""Parsing of call and onset times into timezone-aware datetimes.

A time with an offset is taken as given. A time without one is read in the region's
timezone, and the answer states it. A local time that does not exist (the spring-forward
hour) or occurs twice (the fall-back hour) is rejected, because guessing could shift the
onset by an hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from geodata.errors import InputError


@dataclass(frozen=True)
class ParsedTime:
    """An aware datetime, and whether it was read as local time or from a clock time alone."""

    value: datetime
    assumed_local: bool
    from_clock_time: bool = False


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_time(text: str, field: str, timezone: ZoneInfo) -> ParsedTime:
    """Parse an ISO 8601 date-time; raise InputError naming ``field`` when invalid."""
    if _DATE_ONLY.match(text.strip()):
        raise InputError("time_date_only", f"{field}: {text!r} has a date but no time", field=field, value=text)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise InputError("time_invalid", f"{field}: {text!r} is not an ISO 8601 date-time such as 2026-02-14T09:30+01:00", field=field, value=text) from err
    return localize(parsed, field, timezone)


def localize(value: datetime, field: str, timezone: ZoneInfo) -> ParsedTime:
    """Attach ``timezone`` to a naive datetime, rejecting nonexistent and ambiguous local times."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return ParsedTime(value=value, assumed_local=False)

    first = value.replace(tzinfo=timezone, fold=0)
    second = value.replace(tzinfo=timezone, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(timezone).replace(tzinfo=None)
        if round_trip != value:
            raise InputError(
                "time_nonexistent",
                f"{field}: {value.isoformat()} does not exist in {timezone.key} (clocks jump forward); give the UTC offset, e.g. +01:00 or +02:00",
                field=field,
                value=value.isoformat(),
                timezone=timezone.key,
            )
        raise InputError(
            "time_ambiguous",
            f"{field}: {value.isoformat()} occurs twice in {timezone.key} (clocks go back); give the UTC offset, e.g. +02:00 or +01:00",
            field=field,
            value=value.isoformat(),
            timezone=timezone.key,
        )
    return ParsedTime(value=first, assumed_local=True)


def minutes_between(start: datetime, end: datetime) -> float:
    """Elapsed minutes from ``start`` to ``end``, computed in UTC."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60.0

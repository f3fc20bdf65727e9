"""Times are aware; naive local times on DST nights are rejected, elapsed time is UTC."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from geodata.errors import InputError
from dispatch.timeparse import minutes_between, parse_time

PARIS = ZoneInfo("Europe/Paris")


def test_offset_is_kept():
    parsed = parse_time("2026-02-14T09:30+01:00", "at", PARIS)
    assert parsed.assumed_local is False
    assert parsed.value.utcoffset().total_seconds() == 3600


def test_utc_z_suffix():
    parsed = parse_time("2026-07-14T07:30Z", "at", PARIS)
    assert parsed.value.astimezone(PARIS).hour == 9


def test_naive_time_read_as_paris():
    parsed = parse_time("2026-07-14T09:30", "onset", PARIS)
    assert parsed.assumed_local is True
    assert parsed.value.utcoffset().total_seconds() == 7200


def test_spring_forward_gap_rejected():
    with pytest.raises(InputError) as caught:
        parse_time("2026-03-29T02:30", "onset", PARIS)
    assert caught.value.code == "time_nonexistent"
    assert caught.value.field == "onset"


def test_fall_back_overlap_rejected():
    with pytest.raises(InputError) as caught:
        parse_time("2026-10-25T02:30", "at", PARIS)
    assert caught.value.code == "time_ambiguous"


def test_fall_back_overlap_with_offset_accepted():
    first = parse_time("2026-10-25T02:30+02:00", "at", PARIS).value
    second = parse_time("2026-10-25T02:30+01:00", "at", PARIS).value
    assert minutes_between(first, second) == 60


def test_elapsed_across_spring_forward_is_utc():
    onset = parse_time("2026-03-29T01:30", "onset", PARIS).value
    call = parse_time("2026-03-29T03:30", "at", PARIS).value
    assert minutes_between(onset, call) == 60


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T10:00", "14/02/2026 09:30", ""])
def test_invalid_time_names_field(text):
    with pytest.raises(InputError) as caught:
        parse_time(text, "onset", PARIS)
    assert caught.value.code == "time_invalid"
    assert caught.value.field == "onset"

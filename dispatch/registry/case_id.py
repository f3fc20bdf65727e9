"""The rules a case id follows, so that it cannot carry a patient's name or birth date.

A case id is checked in four steps, each with its own error code so that the message
names what to remove:

1. characters: letters, digits, ``-``, ``_`` or ``.``, 64 at most (``case_id_invalid``);
2. no date: no run of exactly 8 digits that reads as a date (YYYYMMDD or DDMMYYYY, years
   1900–2099), and no separated date such as 1950-03-02, 02-03-1950, 02.03.50
   (``case_id_date``);
3. no words: at most one run of 3 or more letters, so ``Dupont_Jean`` is rejected while
   a centre code such as ``GRE`` passes (``case_id_name``);
4. the registry's format, ``RESURCOR_CASE_ID_PATTERN`` (``case_id_pattern``); by default
   2 to 4 capital letters, the year, then a number of up to 6 digits: ``GRE-2008-0042``.

Steps 2 and 3 apply whatever the configured format, so a looser format cannot let a
date or a name back in.
"""

from __future__ import annotations

import re
from datetime import date

# The characters and length the ``cases.case_id`` column accepts.
CASE_ID_CHARACTERS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

DEFAULT_CASE_ID_PATTERN = r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{1,6}$"

_DIGIT_RUN = re.compile(r"\d+")
_LETTER_RUN = re.compile(r"[A-Za-z]{3,}")
_SEPARATOR = r"[-_./]"
# Year first (1950-03-02), then day first with a 4- or 2-digit year (02-03-1950, 02.03.50).
_YEAR_FIRST = re.compile(rf"(?<!\d)(\d{{4}}){_SEPARATOR}(\d{{1,2}}){_SEPARATOR}(\d{{1,2}})(?!\d)")
_DAY_FIRST = re.compile(rf"(?<!\d)(\d{{1,2}}){_SEPARATOR}(\d{{1,2}}){_SEPARATOR}(\d{{4}}|\d{{2}})(?!\d)")

MIN_YEAR, MAX_YEAR = 1900, 2099


def _is_date(year: int, month: int, day: int) -> bool:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _full_year(text: str) -> int:
    # A 2-digit year could be of either century: 1900 is chosen, and both centuries are
    # dates anyway, so the choice only matters for 29 February.
    return int(text) if len(text) == 4 else 1900 + int(text)


def date_in(case_id: str) -> str | None:
    """Return the first part of ``case_id`` that reads as a date, or None."""
    for run in _DIGIT_RUN.findall(case_id):
        # NOTE: 6-digit runs (DDMMYY) are not checked: about 4 % of plain 6-digit
        # numbers read as such a date, which would reject ordinary sequence numbers.
        if len(run) != 8:
            continue
        if _is_date(int(run[:4]), int(run[4:6]), int(run[6:])) or _is_date(int(run[4:]), int(run[2:4]), int(run[:2])):
            return run
    for match in _YEAR_FIRST.finditer(case_id):
        if _is_date(int(match[1]), int(match[2]), int(match[3])):
            return match[0]
    for match in _DAY_FIRST.finditer(case_id):
        if _is_date(_full_year(match[3]), int(match[2]), int(match[1])):
            return match[0]
    return None


def words_in(case_id: str) -> list[str]:
    """Return the runs of 3 or more letters in ``case_id`` when there are two or more, else []."""
    words = _LETTER_RUN.findall(case_id)
    return words if len(words) >= 2 else []


def case_id_problem(case_id: str, pattern: re.Pattern[str]) -> tuple[str, dict[str, str]] | None:
    """Return the error code and parameters of a case id that breaks a rule, or None."""
    if not CASE_ID_CHARACTERS.match(case_id):
        return "case_id_invalid", {"value": case_id}
    found_date = date_in(case_id)
    if found_date is not None:
        return "case_id_date", {"value": case_id, "part": found_date}
    words = words_in(case_id)
    if words:
        return "case_id_name", {"value": case_id, "parts": ", ".join(words)}
    if not pattern.search(case_id):
        return "case_id_pattern", {"value": case_id, "pattern": pattern.pattern}
    return None

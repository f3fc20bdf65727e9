"""The rejected rows of an import: a capped listing, a count by error, the full CSV report.

A file re-imported whole rejects every row as a duplicate, so the listing shows only the
first LISTED_MAX errors in full and counts the rest by field and code; the full report,
one line per error, goes to a CSV file when the user asks for it.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import TextIO

from dispatch.registry.validate import RowError

LISTED_MAX = 50
REJECTION_COLUMNS = ("row", "field", "code", "message")


def count_by_error(errors: list[RowError]) -> list[tuple[str, str, int]]:
    """Return (field, code, count) for each kind of error, the most frequent first."""
    counts = Counter((error.field, error.code) for error in errors)
    return [(field, code, count) for (field, code), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def write_rejections(errors: list[RowError], handle: TextIO, lang: str) -> None:
    """Write every error as a CSV line of row, field, code and message (in ``lang``)."""
    writer = csv.writer(handle)
    writer.writerow(REJECTION_COLUMNS)
    for error in errors:
        writer.writerow((error.row, error.field, error.code, error.text(lang)))

"""The project's exception hierarchy.

Every error carries a catalogue ``code`` and its ``params`` so that the CLI and the
HTTP API can render it in the caller's language, plus the input ``field`` it concerns
when there is one. ``str(error)`` gives the English text for logs and tracebacks.
"""

from __future__ import annotations

from typing import Any


class ResurcorError(Exception):
    """Base class of every error raised on purpose by resurcor."""

    def __init__(self, code: str, message: str, *, field: str | None = None, **params: Any):
        super().__init__(message)
        self.code = code
        self.field = field
        self.params = params


class InputError(ResurcorError, ValueError):
    """A request field is invalid: the caller must correct it and ask again."""


class OutsideRegionError(InputError):
    """A point lies outside the loaded region or too far from its road network."""


class NetworkBuildError(ResurcorError, ValueError):
    """An OSM extract or skeleton file cannot be turned into a routing network."""


class CacheError(ResurcorError, RuntimeError):
    """The network cache is missing, unreadable or stale: it must be rebuilt."""


class DataError(ResurcorError, ValueError):
    """A region data file (sites, communes, profile) is missing or malformed."""

"""The translation catalogue: texts in French and English, one YAML file per part of the service.

Every ``*.yaml`` file of the ``dispatch/catalogue`` folder is read; a key defined in two
files is an error, so a part cannot silently replace another's text.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import Any

import yaml

from geodata.errors import ResurcorError

logger = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Return the catalogue, read once from the package."""
    entries: dict[str, dict[str, str]] = {}
    folder = resources.files("dispatch").joinpath("catalogue")
    for part in sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name):
        for key, entry in (yaml.safe_load(part.read_text(encoding="utf-8")) or {}).items():
            if key in entries:
                raise ValueError(f"catalogue entry {key!r} is defined twice; the second is in {part.name}")
            entries[key] = entry
    for key, entry in entries.items():
        missing = [lang for lang in LANGUAGES if lang not in entry]
        if missing:
            raise ValueError(f"catalogue entry {key!r} lacks the languages {missing}")
    return entries


def plural_form(count: int, lang: str) -> str:
    """Return "one" or "other", the plural form of ``count`` in ``lang`` (CLDR rules).

    French uses the singular for 0 and 1 ("0 ligne refusée"), English only for 1.
    """
    if lang == "fr":
        return "one" if count in (0, 1) else "other"
    return "one" if count == 1 else "other"


def _entry(key: str, params: dict[str, Any], lang: str) -> dict[str, str] | None:
    # A counted text has the entries KEY.one and KEY.other, chosen by the "count" parameter.
    entries = catalogue()
    if key not in entries and "count" in params:
        return entries.get(f"{key}.{plural_form(int(params['count']), lang)}")
    return entries.get(key)


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """Return the text of ``key`` in ``lang`` with its placeholders filled.

    A key with ``.one`` and ``.other`` entries takes the form of the ``count`` parameter.
    An unknown key returns the key itself and logs it, so a missing text shows up in
    the answer instead of breaking it.
    """
    entry = _entry(key, params, lang)
    if entry is None:
        logger.error("missing catalogue entry %r", key)
        return key
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError) as err:
        logger.error("catalogue entry %r cannot be filled with %s: %s", key, sorted(params), err)
        return template


# Error params whose values are catalogue keys: a unit kind, a state, a permission. The
# message then reads "hélicoptère", not "helicopter"; a comma-separated list is
# translated item by item. A value without a catalogue entry is shown as it is.
PARAM_PREFIXES = {"kind": "kind", "kinds": "kind", "state": "state", "usable": "state", "permission": "permission"}


def _translated_param(prefix: str, value: Any, lang: str) -> Any:
    parts = [part.strip() for part in str(value).split(",")]
    if not all(f"{prefix}.{part}" in catalogue() for part in parts):
        return value
    return ", ".join(translate(f"{prefix}.{part}", lang) for part in parts)


def error_text(error: ResurcorError, lang: str, *, field_prefix: str = "") -> str:
    """Return the message of a project error in ``lang``; fall back to its English text.

    ``field_prefix`` turns field names into the caller's vocabulary: "--" gives the
    command line's ``--onset`` where the API uses ``onset``.
    """
    key = f"error.{error.code}"
    if _entry(key, error.params, lang) is None:
        return str(error)
    # {detail} in a template takes the error's own English message, the only text that
    # carries details such as a file position or a library's reason.
    field = f"{field_prefix}{error.field}" if error.field else error.field
    params = {"detail": str(error), **error.params, "field": field}
    for name, prefix in PARAM_PREFIXES.items():
        if name in params:
            params[name] = _translated_param(prefix, params[name], lang)
    return translate(key, lang, **params)

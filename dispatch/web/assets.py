"""Files the pages load: this package's own static files and the Leaflet map library.

Leaflet comes from the npm registry: ``make setup`` runs ``npm ci`` in this folder,
which fills ``node_modules/`` (never committed). Without it the pages still work,
without the map.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"
LEAFLET_DIR = WEB_DIR / "node_modules" / "leaflet" / "dist"


@cache
def leaflet_dir() -> Path | None:
    """Return the folder of Leaflet's built files, or None (logged once) when npm has not installed it."""
    if (LEAFLET_DIR / "leaflet.js").is_file() and (LEAFLET_DIR / "leaflet.css").is_file():
        return LEAFLET_DIR
    logger.warning(
        "map library missing: %s has no leaflet.js, so the pages show no map; run 'make setup' (or 'npm ci' in %s) to install it",
        LEAFLET_DIR, WEB_DIR,
    )
    return None


def resolve_under(folder: Path, relative: str) -> Path | None:
    """Return the file ``relative`` inside ``folder``, or None when it is missing or escapes the folder."""
    candidate = (folder / relative).resolve()
    if not candidate.is_relative_to(folder) or not candidate.is_file():
        return None
    return candidate

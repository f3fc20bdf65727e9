"""Rounding of a patient's position to a 100 m grid, the only position the registry keeps.

The grid is the region's projected CRS (metres), so the rounding is 100 m in every
direction rather than a fraction of a degree that shrinks with latitude.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pyproj import Transformer

GRID_M = 100.0


@cache
def _transformers(crs: str) -> tuple[Transformer, Transformer]:
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


def round_position(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Return (lat, lon) moved to the nearest node of a 100 m grid in ``crs``, to 5 decimals."""
    forward, backward = _transformers(crs)
    x, y = forward.transform(lon, lat)
    lon_r, lat_r = backward.transform(round(x / GRID_M) * GRID_M, round(y / GRID_M) * GRID_M)
    return round(lat_r, 5), round(lon_r, 5)


def scrub_answer(answer: dict[str, Any], crs: str) -> dict[str, Any]:
    """Return a copy of a recommendation answer with the patient's position rounded to 100 m.

    The ``geometry`` block (the lines a map draws) is left out: the road route starts at
    the road node nearest the patient and the flight line passes through the patient's
    exact point. The network version and the rounded position are kept to redraw it.
    Only the patient block is copied: the rest of the answer is shared with the original.
    """
    patient = dict(answer.get("patient") or {})
    if patient.get("lat") is not None and patient.get("lon") is not None:
        patient["lat"], patient["lon"] = round_position(patient["lat"], patient["lon"], crs)
    return {**{key: value for key, value in answer.items() if key != "geometry"}, "patient": patient}

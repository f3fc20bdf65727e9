"""Map layers drawn from the service's own data: boundary, roads, communes and sites.

The layers are GeoJSON in WGS84, built once per loaded context and cached as bytes,
because the pages load them at every opening and the data only changes with a restart.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import LineString, mapping

from geodata.network import ROAD_CLASS_CODE, ROAD_CLASSES
from dispatch.service import ServiceContext

logger = logging.getLogger(__name__)

# Tolerances of the drawn geometry, in degrees: about 300 m for the boundary and 80 m
# for roads, finer than a screen pixel at the zoom levels that show the whole region.
BOUNDARY_TOLERANCE_DEG = 0.003
ROAD_TOLERANCE_DEG = 0.0008

# Classes drawn from an OpenStreetMap network, which contains every street. A skeleton
# network contains main roads only and is drawn whole.
_MAJOR_CLASSES = ("motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link", "primary_link")


def _rounded(geometry: shapely.Geometry) -> dict[str, Any]:
    """Return the GeoJSON of ``geometry`` with coordinates rounded to 5 decimals (about 1 m)."""
    return mapping(shapely.set_precision(geometry, 0.00001))


def boundary_layer(context: ServiceContext) -> dict[str, Any]:
    simplified = shapely.simplify(context.region.boundary_wgs84, BOUNDARY_TOLERANCE_DEG, preserve_topology=True)
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": context.region.name}, "geometry": _rounded(simplified)}],
    }


def roads_layer(context: ServiceContext) -> dict[str, Any]:
    """Return the network's roads merged per class, drawn once per pair of directed edges."""
    network = context.network
    drawn = np.ones(network.edge_count, dtype=bool)
    if network.source.kind != "skeleton":
        major = [ROAD_CLASS_CODE[name] for name in _MAJOR_CLASSES]
        drawn &= np.isin(network.edge_class, major)

    lines_by_class: dict[tuple[int, bool], list[LineString]] = defaultdict(list)
    seen: set[tuple[int, int, int]] = set()
    for edge in np.flatnonzero(drawn).tolist():
        start, end = int(network.edge_from[edge]), int(network.edge_to[edge])
        key = (min(start, end), max(start, end), int(network.edge_way_id[edge]))
        if key in seen:
            continue
        seen.add(key)
        points = network.edge_geometry(edge)
        if len(points) < 2:
            continue
        seasonal = bool(network.edge_closure[edge])
        lines_by_class[(int(network.edge_class[edge]), seasonal)].append(LineString(points))

    features = []
    for (road_class, seasonal), lines in sorted(lines_by_class.items()):
        merged = shapely.line_merge(shapely.multilinestrings(lines))
        simplified = shapely.simplify(merged, ROAD_TOLERANCE_DEG, preserve_topology=False)
        features.append(
            {
                "type": "Feature",
                "properties": {"class": ROAD_CLASSES[road_class], "seasonal": seasonal},
                "geometry": _rounded(simplified),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def communes_layer(context: ServiceContext) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {"insee": c.insee, "name": c.name, "departement": c.departement, "population": c.population},
            "geometry": {"type": "Point", "coordinates": [round(c.lon, 5), round(c.lat, 5)]},
        }
        for c in context.region.communes.communes
    ]
    return {"type": "FeatureCollection", "features": features}


def sites_layer(context: ServiceContext) -> dict[str, Any]:
    """Return every site with a role the pages draw: cath lab, SMUR base or helicopter base."""
    features = []
    for site in context.region.sites.sites:
        roles = []
        if site.cath_lab is not None:
            roles.append("cath_lab" if site.cath_lab.is_destination else "cath_lab_unconfirmed")
        if site.smur_base is not None:
            roles.append("smur")
        if site.heli_base is not None:
            roles.append("heli")
        if not roles:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": site.id,
                    "name": site.name,
                    "roles": roles,
                    "smur_name": site.smur_base.name if site.smur_base else None,
                    "heli_name": site.heli_base.name if site.heli_base else None,
                },
                "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def map_layers_json(context: ServiceContext) -> bytes:
    """Return the JSON of every layer, built on the first call for this context."""
    cached = context.__dict__.get("_web_map_layers")
    if cached is not None:
        return cached

    started = time.perf_counter()
    minx, miny, maxx, maxy = context.region.boundary_wgs84.bounds
    layers = {
        "bounds": [[miny, minx], [maxy, maxx]],
        "boundary": boundary_layer(context),
        "roads": roads_layer(context),
        "communes": communes_layer(context),
        "sites": sites_layer(context),
    }
    payload = orjson.dumps(layers)
    context.__dict__["_web_map_layers"] = payload
    logger.info("map layers built: %d road features, %d kB, in %.2f s", len(layers["roads"]["features"]), len(payload) // 1024, time.perf_counter() - started)
    return payload

"""Build a RoadNetwork from a curated road skeleton (GeoJSON of nodes and edges).

The skeleton is a hand-curated, approximate graph of a region's main roads used where
no OpenStreetMap extract is available. Its edges carry a typical daytime car time; the
resulting network is flagged ``approximate`` so that every answer computed on it says so.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from geodata.assemble import EdgeTables, assemble_network
from geodata.errors import NetworkBuildError
from geodata.network import ROAD_CLASS_CODE, NetworkSource, RoadNetwork, file_digest

logger = logging.getLogger(__name__)


def read_skeleton(path: Path) -> EdgeTables:
    """Read a skeleton GeoJSON into edge tables, one directed edge per direction."""
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise NetworkBuildError("network_build_failed", f"cannot read the skeleton {path}: {err}") from err

    features = collection.get("features", [])
    node_rows = []
    key_of: dict[str, int] = {}
    for feature in features:
        props = feature.get("properties", {})
        if props.get("feature_type") != "node":
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        key_of[props["node_id"]] = len(node_rows)
        # Junctions are interchanges, not places a caller names or a patient waits at.
        name = "" if props.get("kind") == "junction" else props.get("name") or ""
        node_rows.append({"key": len(node_rows), "lon": float(lon), "lat": float(lat), "osm_id": -1, "label": props["node_id"], "name": name})

    edge_rows = []
    for feature in features:
        props = feature.get("properties", {})
        if props.get("feature_type") != "edge":
            continue
        edge_id = props.get("edge_id", "?")
        road_class = props.get("road_class")
        if road_class not in ROAD_CLASS_CODE:
            raise NetworkBuildError("network_build_failed", f"skeleton edge {edge_id} has unknown road_class {road_class!r}")
        minutes = props.get("typical_car_minutes")
        length_km = props.get("length_km")
        if not isinstance(minutes, (int, float)) or not minutes > 0 or not isinstance(length_km, (int, float)) or not length_km > 0:
            raise NetworkBuildError(
                "network_build_failed", f"skeleton edge {edge_id} needs positive typical_car_minutes and length_km, got {minutes!r}, {length_km!r}"
            )
        speed_kmh = length_km / (minutes / 60)
        if not 5 <= speed_kmh <= 140:
            raise NetworkBuildError("network_build_failed", f"skeleton edge {edge_id} implies {speed_kmh:.0f} km/h, outside 5-140 km/h")
        try:
            u, v = key_of[props["from"]], key_of[props["to"]]
        except KeyError as err:
            raise NetworkBuildError("network_build_failed", f"skeleton edge {edge_id} refers to unknown node {err}") from err

        geometry = [(float(x), float(y)) for x, y, *_ in feature["geometry"]["coordinates"]]
        common = {
            "time_s": float(minutes) * 60.0,
            "length_m": float(length_km) * 1000.0,
            "road_class": road_class,
            "way_id": -1,
            "ref": f"{edge_id} {props.get('ref') or ''}".strip(),
            "closure": props.get("seasonal_closure") or "",
        }
        edge_rows.append({"u": u, "v": v, "geometry": geometry, **common})
        if not props.get("oneway", False):
            edge_rows.append({"u": v, "v": u, "geometry": geometry[::-1], **common})

    logger.info("skeleton %s: %d nodes, %d directed edges", path.name, len(node_rows), len(edge_rows))
    return EdgeTables(nodes=pd.DataFrame(node_rows), edges=pd.DataFrame(edge_rows))


def build_from_skeleton(path: Path, crs: str) -> RoadNetwork:
    """Build the network of a skeleton file, projected to ``crs``."""
    path = path.resolve()
    if not path.is_file():
        raise NetworkBuildError("network_source_missing", f"skeleton file not found: {path}", path=str(path))
    sha256, size = file_digest(path)
    source = NetworkSource(kind="skeleton", name=path.name, sha256=sha256, size_bytes=size, approximate=True, path=str(path))
    return assemble_network(read_skeleton(path), source, crs)

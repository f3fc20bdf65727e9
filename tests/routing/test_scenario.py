"""Road scenarios: the pass calendar, ad-hoc closures by ref or way id, the snow speed factor."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from geodata.skeleton import build_from_skeleton
from routing.scenario import (
    edges_with_refs,
    road_scenario,
    seasonal_scenario,
    split_scoped_ref,
    unmatched_refs,
    unmatched_way_ids,
)
from routing.trees import compute_tree_set


@pytest.fixture(scope="module")
def network(region):
    return build_from_skeleton(region.skeleton_path, region.crs)


def _iseran_edges(network) -> np.ndarray:
    node = [i for i, label in enumerate(network.node_label) if label == "COL_ISERAN"][0]
    return (network.edge_from == node) | (network.edge_to == node)


@pytest.mark.parametrize(("day", "open_"), [(date(2027, 1, 15), False), (date(2027, 7, 15), True), (date(2026, 10, 15), False), (date(2027, 6, 15), False)])
def test_iseran_follows_calendar(network, day, open_):
    scenario = road_scenario(network, day)
    iseran = _iseran_edges(network)
    assert iseran.any()
    assert bool(scenario.open_edges[iseran].all()) is open_


def test_seasonal_off_opens_passes(network):
    scenario = road_scenario(network, date(2027, 1, 15), seasonal=False)
    assert scenario.open_edges[_iseran_edges(network)].all()
    assert scenario.closed_count == 0


def test_road_ref_closes_every_edge_of_road(network):
    refs = frozenset({"D1090"})
    closed = edges_with_refs(network, refs)
    scenario = road_scenario(network, date(2027, 7, 15), closed_refs=refs)
    assert closed.sum() >= 2
    assert not scenario.open_edges[closed].any()
    assert scenario.open_edges[~closed].all()


def test_full_ref_closes_only_its_edges(network):
    whole = edges_with_refs(network, frozenset({"D902"}))
    one = edges_with_refs(network, frozenset({"E171 D902"}))
    assert 0 < one.sum() < whole.sum()


def test_unknown_refs_and_ways_are_listed(network):
    assert unmatched_refs(network, frozenset({"D902", "Z999"})) == ["Z999"]
    assert unmatched_way_ids(network, frozenset({123456789})) == [123456789]


def test_way_id_closure(network):
    # The skeleton carries no way ids (-1), so a closure by way id must leave it untouched.
    scenario = road_scenario(network, date(2027, 7, 15), closed_way_ids=frozenset({42}))
    assert scenario.open_edges.all()


def test_snow_factor_changes_key_and_times(network, region):
    dry = road_scenario(network, date(2027, 7, 15))
    snow = road_scenario(network, date(2027, 7, 15), speed_factor=0.8)
    assert dry.key != snow.key
    assert np.array_equal(dry.open_edges, snow.open_edges)
    lab = {"lab": int(network.edge_from[0])}
    base = {"base": int(network.edge_to[0])}
    dry_trees = compute_tree_set(network, dry, lab, base)
    snow_trees = compute_tree_set(network, snow, lab, base)
    reached = np.isfinite(dry_trees.to_destinations.time_s[0])
    ratio = snow_trees.to_destinations.time_s[0][reached] / np.maximum(dry_trees.to_destinations.time_s[0][reached], 1e-9)
    assert np.allclose(ratio[dry_trees.to_destinations.time_s[0][reached] > 0], 1 / 0.8, rtol=1e-4)


def test_speed_factor_out_of_range(network):
    with pytest.raises(ValueError, match="speed_factor"):
        road_scenario(network, date(2027, 7, 15), speed_factor=0.0)


def test_seasonal_scenario_unchanged(network):
    assert np.array_equal(seasonal_scenario(network, date(2027, 1, 15)).open_edges, road_scenario(network, date(2027, 1, 15)).open_edges)


def test_scoped_ref_split():
    assert split_scoped_ref("D902@73") == ("D902", "73")
    assert split_scoped_ref("D902") == ("D902", None)


def test_scoped_ref_keeps_departement_only(network):
    departement = np.where(np.arange(network.edge_count) % 2 == 0, "73", "74")
    every = edges_with_refs(network, frozenset({"D902"}))
    scoped = edges_with_refs(network, frozenset({"D902@73"}), departement)
    assert scoped.any()
    assert np.array_equal(scoped, every & (departement == "73"))


def test_scoped_ref_needs_departements(network):
    with pytest.raises(ValueError, match="edge_departement"):
        edges_with_refs(network, frozenset({"D902@73"}))

"""Turn a table of directed edges into a RoadNetwork.

Builders (OSM readers, the skeleton reader) produce the same two tables and leave the
common steps to this module: keep the fastest of parallel edges, keep the largest
strongly connected component, project the nodes and sort the edges into CSR order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geodata.errors import NetworkBuildError
from geodata.network import ROAD_CLASS_CODE, NetworkSource, RoadNetwork

logger = logging.getLogger(__name__)

NODE_COLUMNS = ("key", "lon", "lat", "osm_id", "label")
EDGE_COLUMNS = ("u", "v", "time_s", "length_m", "road_class", "way_id", "ref", "closure", "geometry")


@dataclass(frozen=True)
class EdgeTables:
    """Nodes and directed edges before assembly.

    ``nodes`` has the columns of NODE_COLUMNS, one row per node ``key`` (any unique
    int64), and may have a ``name`` column of place names. ``edges`` has the columns of EDGE_COLUMNS: ``u``/``v`` are node keys,
    ``geometry`` a list of (lon, lat) from ``u`` to ``v``, ``way_id`` the OSM way id or
    -1, ``ref`` a road reference or segment id, ``closure`` a seasonal-closure label or "".
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame


def assemble_network(tables: EdgeTables, source: NetworkSource, crs: str) -> RoadNetwork:
    """Build the RoadNetwork of ``tables``, restricted to its largest strongly connected component."""
    nodes, edges = tables.nodes, tables.edges
    missing = [c for c in EDGE_COLUMNS if c not in edges.columns] + [c for c in NODE_COLUMNS if c not in nodes.columns]
    if missing:
        raise NetworkBuildError("network_build_failed", f"edge tables lack the columns {missing}")
    if edges.empty:
        raise NetworkBuildError("network_build_failed", f"the source {source.name} contains no drivable road")

    unknown_classes = sorted(set(edges["road_class"]) - set(ROAD_CLASS_CODE))
    if unknown_classes:
        raise NetworkBuildError("network_build_failed", f"unknown road classes {unknown_classes} in {source.name}")

    # Parallel edges between the same two nodes: a router only ever takes the fastest.
    edges = edges[edges["u"] != edges["v"]]
    edges = edges.sort_values("time_s", kind="stable").drop_duplicates(["u", "v"], keep="first")

    # Index nodes, then keep the largest strongly connected component: a node outside it
    # can be entered but not left (or the reverse), which would make some trees infinite.
    nodes = nodes.drop_duplicates("key").set_index("key")
    used = pd.Index(pd.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])))
    missing_nodes = used.difference(nodes.index)
    if len(missing_nodes):
        raise NetworkBuildError(
            "network_build_failed", f"{len(missing_nodes)} edge end nodes have no coordinates, e.g. {missing_nodes[:3].tolist()}"
        )
    position = pd.Series(np.arange(len(used)), index=used)
    u_idx = position.loc[edges["u"].to_numpy()].to_numpy()
    v_idx = position.loc[edges["v"].to_numpy()].to_numpy()
    graph = csr_matrix((np.ones(len(u_idx)), (u_idx, v_idx)), shape=(len(used), len(used)))
    component_count, labels = connected_components(graph, directed=True, connection="strong")
    largest = np.bincount(labels).argmax()
    keep_node = labels == largest
    keep_edge = keep_node[u_idx] & keep_node[v_idx]
    logger.info(
        "%s: %d strongly connected components; the largest keeps %d of %d nodes and %d of %d edges",
        source.name, component_count, int(keep_node.sum()), len(used), int(keep_edge.sum()), len(edges),
    )

    kept_keys = used[keep_node]
    new_index = np.full(len(used), -1, dtype=np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    edges = edges[keep_edge].assign(ui=new_index[u_idx[keep_edge]], vi=new_index[v_idx[keep_edge]])
    edges = edges.sort_values(["ui", "vi"], kind="stable")
    node_table = nodes.loc[kept_keys]

    lon = node_table["lon"].to_numpy(dtype=np.float64)
    lat = node_table["lat"].to_numpy(dtype=np.float64)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)

    geometries = edges["geometry"].tolist()
    lengths = np.array([len(g) for g in geometries], dtype=np.int64)
    offsets = np.zeros(len(geometries) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.array([point for g in geometries for point in g], dtype=np.float64).reshape(-1, 2)

    network = RoadNetwork(
        source=source,
        crs=crs,
        built_at=datetime.now(UTC),
        node_lon=lon,
        node_lat=lat,
        node_x=np.asarray(x, dtype=np.float64),
        node_y=np.asarray(y, dtype=np.float64),
        node_osm_id=node_table["osm_id"].to_numpy(dtype=np.int64),
        node_label=node_table["label"].fillna("").astype(str).to_numpy(dtype=np.str_),
        node_name=(node_table["name"] if "name" in node_table else pd.Series("", index=node_table.index)).fillna("").astype(str).to_numpy(dtype=np.str_),
        edge_from=edges["ui"].to_numpy(dtype=np.int64),
        edge_to=edges["vi"].to_numpy(dtype=np.int64),
        edge_time_s=edges["time_s"].to_numpy(dtype=np.float64),
        edge_length_m=edges["length_m"].to_numpy(dtype=np.float64),
        edge_class=edges["road_class"].map(ROAD_CLASS_CODE).to_numpy(dtype=np.uint8),
        edge_way_id=edges["way_id"].to_numpy(dtype=np.int64),
        edge_ref=edges["ref"].fillna("").astype(str).to_numpy(dtype=np.str_),
        edge_closure=edges["closure"].fillna("").astype(str).to_numpy(dtype=np.str_),
        geom_offsets=offsets,
        geom_lon=flat[:, 0].copy(),
        geom_lat=flat[:, 1].copy(),
        stats={
            "components": int(component_count),
            "nodes_before_scc": int(len(used)),
            "nodes": int(keep_node.sum()),
            "edges": int(keep_edge.sum()),
        },
    )
    network.validate()
    return network

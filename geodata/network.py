"""The compact road network that every builder produces and the router reads.

A network is a directed graph held in flat NumPy arrays: nodes with WGS84 and projected
coordinates, edges with travel time, length, road class, the OSM way id (or a segment
reference for non-OSM sources) and an optional seasonal-closure label. It is saved as
one ``.npz`` file with a JSON header, so loading it is a few array reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from geodata.errors import CacheError

logger = logging.getLogger(__name__)

# Bump when the layout of the saved arrays or the meaning of a field changes: every
# cache written by an older version is then stale and must be rebuilt.
NETWORK_FORMAT_VERSION = 4

# Road classes, in the order of their integer codes in ``edge_class``.
ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "track",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "road",
)
ROAD_CLASS_CODE: dict[str, int] = {name: code for code, name in enumerate(ROAD_CLASSES)}

# Carriageways a patient is never snapped onto: a patient does not wait on a motorway
# lane, and a point beside one reaches it only through an interchange.
NO_SNAP_CLASSES: frozenset[str] = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

SOURCE_KINDS: frozenset[str] = frozenset({"osm_pbf", "osm_xml", "osm_download", "skeleton"})


@dataclass(frozen=True)
class NetworkSource:
    """Origin of a network, reported in answers and used to detect a stale cache."""

    kind: str
    name: str
    sha256: str
    size_bytes: int
    approximate: bool
    path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown network source kind {self.kind!r}; expected one of {sorted(SOURCE_KINDS)}")


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph in flat arrays.

    Node arrays have one entry per node. Edge arrays have one entry per directed edge,
    sorted by ``edge_from`` so that they double as CSR arrays with ``indptr``.
    ``edge_time_s`` is the normal car travel time, and the plans apply the emergency
    driving factor to it. ``node_label`` is a source identifier (a skeleton node id) and
    ``node_name`` a place name a caller may use ("Val Thorens (resort)"). Both are empty
    for OSM nodes.
    Edge geometry is a polyline per edge: points ``geom_offsets[i]:geom_offsets[i+1]``
    of ``geom_lon``/``geom_lat``, both end nodes included.
    """

    source: NetworkSource
    crs: str
    built_at: datetime
    node_lon: np.ndarray
    node_lat: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    node_osm_id: np.ndarray
    node_label: np.ndarray
    node_name: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    edge_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_class: np.ndarray
    edge_way_id: np.ndarray
    edge_ref: np.ndarray
    edge_closure: np.ndarray
    geom_offsets: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def node_count(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def edge_count(self) -> int:
        return int(self.edge_from.shape[0])

    @property
    def version(self) -> str:
        """Cache version: format version plus a digest of the source file."""
        return f"v{NETWORK_FORMAT_VERSION}-{self.source.sha256[:12]}"

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer over ``edge_from`` (edges are sorted by their tail node)."""
        counts = np.bincount(self.edge_from, minlength=self.node_count)
        indptr = np.zeros(self.node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr

    def snappable_nodes(self) -> np.ndarray:
        """Return a boolean mask of nodes reachable by a patient or a site.

        A node qualifies when at least one incident edge is not a motorway or trunk
        carriageway (or their links), or when it is a named place. A curated network
        draws a town on a trunk road as one node, and people live there.
        """
        blocked = np.array([ROAD_CLASSES[c] in NO_SNAP_CLASSES for c in range(len(ROAD_CLASSES))])
        ok_edge = ~blocked[self.edge_class]
        mask = np.zeros(self.node_count, dtype=bool)
        mask[self.edge_from[ok_edge]] = True
        mask[self.edge_to[ok_edge]] = True
        mask |= self.node_name != ""
        return mask

    def edge_geometry(self, edge: int) -> list[tuple[float, float]]:
        """Return the (lon, lat) polyline of one edge."""
        start, end = int(self.geom_offsets[edge]), int(self.geom_offsets[edge + 1])
        return list(zip(self.geom_lon[start:end].tolist(), self.geom_lat[start:end].tolist(), strict=True))

    def validate(self) -> None:
        """Check the invariants every builder must guarantee; raise ValueError otherwise."""
        n, m = self.node_count, self.edge_count
        for name in ("node_lat", "node_x", "node_y", "node_osm_id", "node_label", "node_name"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"{name} has {getattr(self, name).shape[0]} entries for {n} nodes")
        for name in ("edge_to", "edge_time_s", "edge_length_m", "edge_class", "edge_way_id", "edge_ref", "edge_closure"):
            if getattr(self, name).shape[0] != m:
                raise ValueError(f"{name} has {getattr(self, name).shape[0]} entries for {m} edges")
        if m and (self.edge_from.min() < 0 or self.edge_from.max() >= n or self.edge_to.min() < 0 or self.edge_to.max() >= n):
            raise ValueError("an edge refers to a node index outside the node arrays")
        if m and np.any(np.diff(self.edge_from) < 0):
            raise ValueError("edges must be sorted by edge_from")
        if not np.all(np.isfinite(self.edge_time_s)) or np.any(self.edge_time_s <= 0):
            raise ValueError("every edge travel time must be finite and positive")
        if self.geom_offsets.shape[0] != m + 1:
            raise ValueError("geom_offsets must have one entry per edge plus one")


def file_digest(path: Path) -> tuple[str, int]:
    """Return the SHA-256 hex digest and size in bytes of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


_ARRAY_FIELDS = tuple(
    f.name for f in dataclasses.fields(RoadNetwork) if f.name not in {"source", "crs", "built_at", "stats"}
)


def save_network(network: RoadNetwork, cache_dir: Path) -> Path:
    """Write ``network`` to ``cache_dir`` as ``network-<version>.npz`` and point ``current.json`` at it.

    The file is written under a temporary name and renamed, so a reader never sees a
    half-written cache.
    """
    network.validate()
    cache_dir.mkdir(parents=True, exist_ok=True)
    header = {
        "format_version": NETWORK_FORMAT_VERSION,
        "version": network.version,
        "crs": network.crs,
        "built_at": network.built_at.isoformat(),
        "source": dataclasses.asdict(network.source),
        "stats": network.stats,
    }
    path = cache_dir / f"network-{network.version}.npz"
    tmp = path.with_suffix(".tmp.npz")
    arrays = {name: getattr(network, name) for name in _ARRAY_FIELDS}
    np.savez(tmp, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    tmp.replace(path)

    pointer = cache_dir / "current.json"
    pointer_tmp = pointer.with_suffix(".tmp")
    pointer_tmp.write_text(json.dumps({"file": path.name, **header}, indent=2), encoding="utf-8")
    pointer_tmp.replace(pointer)
    logger.info("saved network %s (%d nodes, %d edges) to %s", network.version, network.node_count, network.edge_count, path)
    return path


def read_cache_header(cache_dir: Path) -> dict[str, Any]:
    """Return the header of the current cache, or raise CacheError naming the command to run."""
    pointer = cache_dir / "current.json"
    if not pointer.is_file():
        raise CacheError(
            "cache_missing",
            f"no road network cache in {cache_dir}; build one with "
            "'resurcor geodata build --skeleton PATH' (or --osm PATH)",
            cache_dir=str(cache_dir),
        )
    try:
        return json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise CacheError(
            "cache_unreadable",
            f"the network cache pointer {pointer} cannot be read ({err}); rebuild it with 'resurcor geodata build'",
            cache_dir=str(cache_dir),
        ) from err


def check_cache_fresh(header: dict[str, Any]) -> None:
    """Raise CacheError when a cache was written by another format version or its source changed."""
    if header.get("format_version") != NETWORK_FORMAT_VERSION:
        raise CacheError(
            "cache_stale_format",
            f"the network cache has format {header.get('format_version')} but this version of resurcor "
            f"reads format {NETWORK_FORMAT_VERSION}; rebuild it with 'resurcor geodata build'",
            found=header.get("format_version"),
            expected=NETWORK_FORMAT_VERSION,
        )

    # A source file that still exists must be the one the cache was built from.
    source = header.get("source", {})
    source_path = source.get("path")
    if source_path and Path(source_path).is_file():
        size = Path(source_path).stat().st_size
        if size != source.get("size_bytes") or file_digest(Path(source_path))[0] != source.get("sha256"):
            raise CacheError(
                "cache_stale_source",
                f"the network source {source_path} changed since the cache was built; "
                "rebuild it with 'resurcor geodata build'",
                source=source_path,
            )


def load_network(cache_dir: Path, *, check_source: bool = True) -> RoadNetwork:
    """Load the current network of ``cache_dir``; raise CacheError when missing or stale."""
    header = read_cache_header(cache_dir)
    if check_source:
        check_cache_fresh(header)
    elif header.get("format_version") != NETWORK_FORMAT_VERSION:
        check_cache_fresh(header)

    path = cache_dir / header["file"]
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _ARRAY_FIELDS}
    except (OSError, KeyError, ValueError) as err:
        raise CacheError(
            "cache_unreadable",
            f"the network cache {path} cannot be read ({err}); rebuild it with 'resurcor geodata build'",
            cache_dir=str(cache_dir),
        ) from err

    network = RoadNetwork(
        source=NetworkSource(**header["source"]),
        crs=header["crs"],
        built_at=datetime.fromisoformat(header["built_at"]),
        stats=header.get("stats", {}),
        **arrays,
    )
    network.validate()
    return network


def utc_now() -> datetime:
    return datetime.now(UTC)

"""Benchmark the STEMI recommendation: in-process latency, per-query Dijkstra, scale and HTTP.

Run from a checkout with the package installed (``make bench`` does this):

    python benchmarks/bench_recommend.py [--quick] [--out FILE]

The script prints a Markdown report with five parts:

1. in-process latency of ``parse_call`` + ``recommend`` and of ``recommend`` alone on
   the region's skeleton network, over calls seeded from the communes' population;
2. the same answers computed with two networkx Dijkstra runs per call instead of the
   precomputed trees, checked to give the same strategy, destination and
   diagnosis-to-wire time for every call (the script exits with status 1 otherwise);
3. a scale test on a synthetic densification of the skeleton (every edge split into
   segments of about 50 m), which stands in for the node count of a real OSM network:
   tree precompute time, peak RSS, start-up time, latency and the networkx ratio;
4. HTTP latency and throughput of ``resurcor serve`` on 127.0.0.1, with wrk and with
   sequential requests;
5. the machine and library versions, printed first.

All traffic goes to a server that the script starts on 127.0.0.1 and always stops.
Every loop is bounded in count and in time. Temporary caches are removed at exit.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse
import dataclasses
import hashlib
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy

from dispatch.calls import CallInput, parse_call
from dispatch.recommend import locate, recommend
from dispatch.service import ServiceContext, load_context
from dispatch.settings import Settings
from geodata.assemble import EdgeTables, assemble_network
from geodata.network import NetworkSource, RoadNetwork, file_digest, save_network
from geodata.region import Region, load_region
from geodata.skeleton import build_from_skeleton, read_skeleton
from routing.router import RoadRouter
from routing.scenario import RoadScenario
from routing.trees import Trees, TreeSet, compute_tree_set

IMPORTS_DONE = time.perf_counter()

# The fixed call time of every benchmark call: a winter Saturday, when the seasonal
# mountain-pass closures of the skeleton apply.
CALL_TIME = datetime.fromisoformat("2026-02-14T10:00+01:00")
ONSET_MIN_RANGE = (60, 180)
SEED = 20261204

# The body that the HTTP part posts: a patient in Chamonix, symptoms for 90 minutes.
HTTP_BODY = {"lat": 45.9237, "lon": 6.8694, "onset": "2026-02-14T08:30+01:00", "at": "2026-02-14T10:00+01:00"}

TARGET_HTTP_P99_MS = 5.0
TARGET_HTTP_RPS = 1500.0
TARGET_STARTUP_S = 5.0
TARGET_SCALE_RATIO = 1000.0


@dataclass(frozen=True)
class RunSizes:
    """Counts and time limits of one run (full or ``--quick``)."""

    calls: int
    warmup_calls: int
    networkx_calls_skeleton: int
    networkx_calls_dense: int
    networkx_time_limit_s: float
    dense_calls: int
    wrk_duration_s: int
    wrk_single_duration_s: int
    wrk_warmup_s: int
    sequential_requests: int


FULL = RunSizes(
    calls=2000, warmup_calls=50, networkx_calls_skeleton=2000, networkx_calls_dense=20, networkx_time_limit_s=180.0,
    dense_calls=2000, wrk_duration_s=10, wrk_single_duration_s=5, wrk_warmup_s=3, sequential_requests=500,
)
QUICK = RunSizes(
    calls=300, warmup_calls=20, networkx_calls_skeleton=300, networkx_calls_dense=5, networkx_time_limit_s=60.0,
    dense_calls=300, wrk_duration_s=3, wrk_single_duration_s=2, wrk_warmup_s=1, sequential_requests=100,
)


class BenchmarkError(Exception):
    """A measurement that could not be made or a check that failed."""


# ---------------------------------------------------------------------------
# Machine, statistics and formatting


def machine_info() -> dict[str, str]:
    """Return the CPU model, core counts, OS, library versions and load average of this machine."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wrk_path = shutil.which("wrk")
    wrk_version = "not installed"
    if wrk_path:
        # wrk prints its version banner on the first line of its usage text.
        output = subprocess.run([wrk_path, "--version"], check=False, capture_output=True, text=True, timeout=10)
        wrk_version = (output.stdout or output.stderr).splitlines()[0].strip()
    return {
        "CPU": cpu_model,
        "cores (logical / usable)": f"{os.cpu_count()} / {usable}",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "networkx": nx.__version__,
        "pandas": pd.__version__,
        "wrk": wrk_version,
        "resurcor commit": git_revision(),
        "load average (1, 5, 15 min) at start": load_average(),
    }


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU counters of the whole machine (/proc/stat, in clock ticks) and of this benchmark's processes (s)."""

    machine_ticks: list[int] | None
    own_cpu_s: float

    @classmethod
    def take(cls) -> CpuSnapshot:
        try:
            fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
            ticks = [int(value) for value in fields[1:9]]
        except OSError:
            ticks = None
        # Child processes (server, wrk, scale-test children) count once they have been waited for.
        own = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
        )
        return cls(ticks, own)


def other_cpu_load(start: CpuSnapshot, end: CpuSnapshot, wall_s: float) -> str:
    """Describe the CPU used by other processes and stolen by the hypervisor between two snapshots."""
    if start.machine_ticks is None or end.machine_ticks is None or wall_s <= 0:
        return "n/a"
    tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (b - a for a, b in zip(start.machine_ticks, end.machine_ticks, strict=True))
    busy_s = (user + nice + system + irq + softirq) * tick_s
    others_s = max(0.0, busy_s - (end.own_cpu_s - start.own_cpu_s))
    return f"{others_s / wall_s:.2f} cores on average (hypervisor steal {steal * tick_s / wall_s:.2f} cores), over {wall_s:.0f} s"


def git_revision() -> str:
    """Return the checkout's short commit id, marked when the work tree has uncommitted changes."""
    repository = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repository, check=True, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repository, check=True, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit.stdout.strip() + (" with uncommitted changes" if status.stdout.strip() else "")


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, because other processes on the machine skew the figures."""
    one_min, five_min, fifteen_min = os.getloadavg()
    return f"{one_min:.2f}, {five_min:.2f}, {fifteen_min:.2f}"


def summarize(samples_s: list[float]) -> dict[str, float]:
    """Return count, p50, p99, mean and max (seconds) of a list of durations in seconds."""
    values = np.asarray(samples_s, dtype=np.float64)
    return {
        "n": int(values.size),
        "p50": float(np.percentile(values, 50)),
        "p99": float(np.percentile(values, 99)),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


def format_duration(seconds: float | None) -> str:
    """Format a duration in µs, ms or s with three significant digits."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _status_kib(field: str) -> float | None:
    """Return a ``/proc/self/status`` field in KiB (Linux), or None when it cannot be read."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(f"{field}:"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mib() -> float | None:
    """Return this process's peak resident set size in MiB (``VmHWM`` of /proc/self/status).

    ``resource.getrusage().ru_maxrss`` is not used because Linux keeps it across
    execve, so a child process would report its parent's peak.
    """
    kib = _status_kib("VmHWM")
    return None if kib is None else kib / 1024.0


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux 4.0+); return False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def format_mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MiB"


# ---------------------------------------------------------------------------
# Calls and the in-process recommendation


@dataclass(frozen=True)
class CallSpec:
    """The raw fields of one benchmark call, as the HTTP API would receive them."""

    insee: str
    lat: float
    lon: float
    onset: str
    at: str


def sample_calls(region: Region, count: int, seed: int = SEED) -> list[CallSpec]:
    """Draw ``count`` calls at commune points, with replacement, weighted by population.

    The onset is a whole number of minutes between 60 and 180 before the fixed call time.
    """
    rng = np.random.default_rng(seed)
    communes = region.communes.communes
    population = np.array([max(c.population, 0) for c in communes], dtype=np.float64)
    picks = rng.choice(len(communes), size=count, replace=True, p=population / population.sum())
    onset_min = rng.integers(ONSET_MIN_RANGE[0], ONSET_MIN_RANGE[1] + 1, size=count)
    calls = []
    for index, minutes in zip(picks.tolist(), onset_min.tolist(), strict=True):
        commune = communes[index]
        onset = CALL_TIME - timedelta(minutes=minutes)
        calls.append(CallSpec(commune.insee, commune.lat, commune.lon, onset.isoformat(), CALL_TIME.isoformat()))
    return calls


def parse_spec(region: Region, spec: CallSpec) -> CallInput:
    return parse_call(region, lat=spec.lat, lon=spec.lon, onset=spec.onset, at=spec.at, now=CALL_TIME, lang="en")


def answer_key(answer: dict[str, Any]) -> tuple[str, str | None, int | None]:
    """Return the fields that the two routing methods must agree on."""
    destination = answer["destination"]["id"] if answer["destination"] else None
    return answer["strategy"], destination, answer["diagnosis_to_wire_min"]


def measure_in_process(context: ServiceContext, specs: list[CallSpec], warmup_calls: int) -> dict[str, Any]:
    """Time ``parse_call`` + ``recommend`` and ``recommend`` alone over ``specs``.

    The first ``warmup_calls`` calls run untimed first, so that the scenario's tree set
    is loaded and the code paths are warm. Returns the statistics, the parsed calls and
    the answer key of each call.
    """
    region = context.region
    for spec in specs[:warmup_calls]:
        recommend(context, parse_spec(region, spec))

    parse_and_recommend = []
    calls = []
    for spec in specs:
        started = time.perf_counter()
        call = parse_spec(region, spec)
        recommend(context, call)
        parse_and_recommend.append(time.perf_counter() - started)
        calls.append(call)

    recommend_only = []
    keys = []
    for call in calls:
        started = time.perf_counter()
        answer = recommend(context, call)
        recommend_only.append(time.perf_counter() - started)
        keys.append(answer_key(answer))

    return {
        "parse_and_recommend": summarize(parse_and_recommend),
        "recommend": summarize(recommend_only),
        "calls": calls,
        "keys": keys,
        "strategies": dict(Counter(key[0] for key in keys)),
    }


# ---------------------------------------------------------------------------
# The naive alternative: two networkx Dijkstra runs per call


class NetworkxRouter:
    """A RoadRouter stand-in whose tree set is computed per call with networkx.

    The caller sets ``patient_node`` before each ``recommend``. ``tree_set`` then runs
    one Dijkstra from that node on the graph (patient to every cath lab) and one on the
    reversed graph (every SMUR base to the patient). The returned Trees hold a single column broadcast to shape (roots, nodes): only the
    patient's column is meaningful, which is the only column the recommendation reads.
    Path lengths (``dist_m``) are not computed and are NaN, so the answers' kilometres
    are NaN. ``dijkstra_s`` records the time of the two runs of each call. Every other
    attribute is read from the wrapped router.
    """

    def __init__(self, router: RoadRouter, scenario: RoadScenario):
        self._router = router
        self._scenario_key = scenario.key
        network = router.network
        open_edges = scenario.open_edges
        tails = network.edge_from[open_edges].tolist()
        heads = network.edge_to[open_edges].tolist()
        weights = network.edge_time_s[open_edges].tolist()
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(range(network.node_count))
        self.graph.add_weighted_edges_from(zip(tails, heads, weights, strict=True))
        self.reversed_graph = self.graph.reverse(copy=True)
        self._destination_ids = tuple(router.destinations)
        self._destination_nodes = np.array([s.snap.node for s in router.destinations.values()], dtype=np.int64)
        self._base_ids = tuple(router.bases)
        self._base_nodes = np.array([s.snap.node for s in router.bases.values()], dtype=np.int64)
        self.patient_node: int | None = None
        self._last: tuple[int, TreeSet] | None = None
        self.dijkstra_s: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)

    def tree_set(self, scenario: RoadScenario) -> TreeSet:
        if scenario.key != self._scenario_key:
            raise BenchmarkError(f"the networkx graph was built for scenario {self._scenario_key}, not {scenario.key}")
        if self.patient_node is None:
            raise BenchmarkError("tree_set was called without a patient_node: set it before each recommend")
        # A recommendation reads the tree set more than once (plans, then the route to
        # draw): the Dijkstra runs once per patient, as a per-call router would.
        if self._last is not None and self._last[0] == self.patient_node:
            return self._last[1]
        patient = self.patient_node
        node_count = self._router.network.node_count

        started = time.perf_counter()
        to_patient_times = nx.single_source_dijkstra_path_length(self.graph, patient, weight="weight")
        from_bases_times = nx.single_source_dijkstra_path_length(self.reversed_graph, patient, weight="weight")
        self.dijkstra_s.append(time.perf_counter() - started)
        to_destinations = self._column_trees(self._destination_ids, self._destination_nodes, to_patient_times, node_count, reverse=True)
        from_bases = self._column_trees(self._base_ids, self._base_nodes, from_bases_times, node_count, reverse=False)
        trees = TreeSet(scenario.key, to_destinations, from_bases)
        self._last = (patient, trees)
        return trees

    @staticmethod
    def _column_trees(root_ids, root_nodes, times: dict[int, float], node_count: int, *, reverse: bool) -> Trees:
        # float32 like the precomputed trees, so that both methods round the same values.
        column = np.array([[times.get(int(node), np.inf)] for node in root_nodes], dtype=np.float32)
        shape = (len(root_ids), node_count)
        return Trees(
            root_ids=root_ids,
            root_nodes=root_nodes,
            reverse=reverse,
            time_s=np.broadcast_to(column, shape),
            dist_m=np.broadcast_to(np.full((len(root_ids), 1), np.nan, dtype=np.float32), shape),
            step=np.broadcast_to(np.full((len(root_ids), 1), -1, dtype=np.int32), shape),
        )


def measure_networkx(
    context: ServiceContext, calls: list[CallInput], expected_keys: list[tuple], max_calls: int, time_limit_s: float
) -> dict[str, Any]:
    """Time ``recommend`` with per-call networkx Dijkstra and compare every answer.

    Stops after ``max_calls`` calls or once ``time_limit_s`` has elapsed. Raises
    BenchmarkError listing the calls whose strategy, destination or diagnosis-to-wire
    time differ from the precomputed-tree answer.
    """
    scenario = context.router.scenario_for(CALL_TIME.astimezone(context.region.timezone).date())
    started = time.perf_counter()
    networkx_router = NetworkxRouter(context.router, scenario)
    graph_build_s = time.perf_counter() - started
    naive_context = dataclasses.replace(context, router=networkx_router)

    durations = []
    mismatches = []
    deadline = time.perf_counter() + time_limit_s
    for index, (call, expected) in enumerate(zip(calls[:max_calls], expected_keys[:max_calls], strict=True)):
        if durations and time.perf_counter() > deadline:
            break
        # The Dijkstra source; recommend snaps the same point again inside the timed span.
        networkx_router.patient_node = locate(context, call, scenario).node
        started = time.perf_counter()
        answer = recommend(naive_context, call)
        durations.append(time.perf_counter() - started)
        if answer_key(answer) != expected:
            mismatches.append(f"call {index} at ({call.lat}, {call.lon}): trees {expected}, networkx {answer_key(answer)}")
    if mismatches:
        raise BenchmarkError(
            f"{len(mismatches)} of {len(durations)} recommendations differ between precomputed trees and networkx:\n" + "\n".join(mismatches[:20])
        )
    return {
        "graph_build_s": graph_build_s,
        "latency": summarize(durations),
        "dijkstra": summarize(networkx_router.dijkstra_s),
        "checked": len(durations),
    }


# ---------------------------------------------------------------------------
# Caches


def skeleton_settings(cache_root: Path, region: Region) -> Settings:
    """Write the skeleton network into ``cache_root`` and return settings that read it."""
    save_network(build_from_skeleton(region.skeleton_path, region.crs), cache_root / "network")
    return Settings(cache_dir=cache_root)


# ---------------------------------------------------------------------------
# Scale test: the densified skeleton


def _metric_positions(points: np.ndarray) -> np.ndarray:
    """Return the cumulative distance (m) along a (lon, lat) polyline, equirectangular approximation."""
    mean_lat = math.radians(float(points[:, 1].mean()))
    x = points[:, 0] * 111_320.0 * math.cos(mean_lat)
    y = points[:, 1] * 110_574.0
    steps = np.hypot(np.diff(x), np.diff(y))
    return np.concatenate([[0.0], np.cumsum(steps)])


def split_geometry(geometry: list[tuple[float, float]], pieces: int) -> tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]:
    """Cut a polyline into ``pieces`` parts of equal length along it.

    Returns the interior cut points and the polyline of each part, which keeps the
    original vertices that fall inside it. The end points are the original ones.
    """
    points = np.asarray(geometry, dtype=np.float64)
    position = _metric_positions(points)
    total = position[-1]
    cuts = total * np.arange(pieces + 1) / pieces
    cut_lon = np.interp(cuts, position, points[:, 0])
    cut_lat = np.interp(cuts, position, points[:, 1])
    cut_points = [(float(x), float(y)) for x, y in zip(cut_lon, cut_lat, strict=True)]
    cut_points[0], cut_points[-1] = tuple(points[0]), tuple(points[-1])

    parts = []
    for i in range(pieces):
        inside = np.flatnonzero((position > cuts[i]) & (position < cuts[i + 1]))
        part = [cut_points[i]] + [tuple(points[j]) for j in inside.tolist()] + [cut_points[i + 1]]
        parts.append(part)
    return cut_points[1:-1], parts


def densify_tables(tables: EdgeTables, segment_m: float) -> EdgeTables:
    """Split every edge into segments of about ``segment_m`` metres of road length.

    Time and length are divided equally among the segments of an edge. The two
    directions of a two-way section share their intermediate nodes. Parallel edges are
    reduced to the fastest first, as ``assemble_network`` does, so the densified graph
    has the skeleton's topology and the same times between the skeleton's nodes.
    """
    edges = tables.edges[tables.edges["u"] != tables.edges["v"]]
    edges = edges.sort_values("time_s", kind="stable").drop_duplicates(["u", "v"], keep="first")
    next_key = int(tables.nodes["key"].max()) + 1

    new_nodes: list[dict[str, Any]] = []
    chains: dict[tuple[int, int, str], tuple[list[int], list[list[tuple[float, float]]]]] = {}
    rows: list[dict[str, Any]] = []
    for edge in edges.itertuples(index=False):
        low, high = sorted((int(edge.u), int(edge.v)))
        section = (low, high, edge.ref)
        if section not in chains:
            # The chain of a section is built once, oriented from its lower node key.
            geometry = list(edge.geometry) if edge.u == low else list(edge.geometry)[::-1]
            pieces = max(1, math.ceil(edge.length_m / segment_m))
            cut_points, parts = split_geometry(geometry, pieces)
            keys = [low]
            for lon, lat in cut_points:
                new_nodes.append({"key": next_key, "lon": lon, "lat": lat, "osm_id": -1, "label": ""})
                keys.append(next_key)
                next_key += 1
            keys.append(high)
            chains[section] = (keys, parts)

        keys, parts = chains[section]
        if edge.u != low:
            keys = keys[::-1]
            parts = [part[::-1] for part in parts[::-1]]
        pieces = len(parts)
        for i in range(pieces):
            rows.append({
                "u": keys[i], "v": keys[i + 1],
                "time_s": edge.time_s / pieces, "length_m": edge.length_m / pieces,
                "road_class": edge.road_class, "way_id": edge.way_id, "ref": edge.ref, "closure": edge.closure,
                "geometry": parts[i],
            })

    nodes = pd.concat([tables.nodes, pd.DataFrame(new_nodes, columns=tables.nodes.columns)], ignore_index=True)
    return EdgeTables(nodes=nodes, edges=pd.DataFrame(rows))


def build_densified_network(region: Region, segment_m: float) -> RoadNetwork:
    """Build the synthetic densified skeleton network of ``region``."""
    name = f"skeleton-densified-{segment_m:g}m"
    skeleton_sha, skeleton_size = file_digest(region.skeleton_path)
    # A digest of its own, so that the densified network has its own cache version.
    sha256 = hashlib.sha256(f"{skeleton_sha}:{name}".encode()).hexdigest()
    source = NetworkSource(kind="skeleton", name=name, sha256=sha256, size_bytes=skeleton_size, approximate=True, path=None)
    tables = densify_tables(read_skeleton(region.skeleton_path), segment_m)
    return assemble_network(tables, source, region.crs)


def child_precompute(cache_root: Path) -> dict[str, Any]:
    """Compute the call scenario's tree set cold, then write the tree caches that start-up reads.

    Runs in its own process, so that its peak RSS covers only loading the network and
    computing the trees. The peak is reset after loading, so the compute peak is its own.
    """
    settings = Settings(cache_dir=cache_root)
    context = load_context(settings, warm=False)
    rss_load_peak_mib = peak_rss_mib()
    rss_loaded = _status_kib("VmRSS")
    peak_was_reset = reset_peak_rss()
    router = context.router
    scenario = router.scenario_for(CALL_TIME.date())
    destinations = {i: s.snap.node for i, s in router.destinations.items()}
    bases = {i: s.snap.node for i, s in router.bases.items()}

    started = time.perf_counter()
    trees = compute_tree_set(context.network, scenario, destinations, bases, cache_dir=None)
    compute_s = time.perf_counter() - started
    rss_compute_peak_mib = peak_rss_mib() if peak_was_reset else None
    tree_bytes = sum(
        array.nbytes
        for side in (trees.to_destinations, trees.from_bases)
        for array in (side.time_s, side.dist_m, side.step)
    )

    # A first start-up computes and writes every tree set that load_context warms, so
    # the start-up child finds them all on disk.
    del context, router, trees
    started = time.perf_counter()
    warmed = load_context(settings, warm=True)
    first_startup_s = time.perf_counter() - started
    tree_files = list((cache_root / "trees").glob("*.npz"))
    return {
        "nodes": warmed.network.node_count,
        "edges": warmed.network.edge_count,
        "destinations": len(destinations),
        "bases": len(bases),
        "compute_s": compute_s,
        "rss_load_peak_mib": rss_load_peak_mib,
        "rss_loaded_mib": None if rss_loaded is None else rss_loaded / 1024.0,
        "rss_compute_peak_mib": rss_compute_peak_mib,
        "tree_bytes": tree_bytes,
        "first_startup_s": first_startup_s,
        "tree_files": len(tree_files),
        "tree_cache_bytes": sum(path.stat().st_size for path in tree_files),
    }


def child_startup(cache_root: Path, calls: int, warmup_calls: int, networkx_calls: int, networkx_time_limit_s: float) -> dict[str, Any]:
    """Time ``load_context`` on a cache that already contains the trees, then measure the latencies."""
    settings = Settings(cache_dir=cache_root)
    started = time.perf_counter()
    context = load_context(settings, warm=True)
    load_s = time.perf_counter() - started
    rss_loaded_mib = peak_rss_mib()

    specs = sample_calls(context.region, calls)
    in_process = measure_in_process(context, specs, warmup_calls)
    naive = measure_networkx(context, in_process["calls"], in_process["keys"], networkx_calls, networkx_time_limit_s)
    return {
        "imports_s": IMPORTS_DONE - PROCESS_STARTED,
        "load_context_s": load_s,
        "rss_load_peak_mib": rss_loaded_mib,
        "parse_and_recommend": in_process["parse_and_recommend"],
        "recommend": in_process["recommend"],
        "strategies": {k: int(v) for k, v in in_process["strategies"].items()},
        "networkx": naive,
        "rss_end_peak_mib": peak_rss_mib(),
    }


def run_child(mode: str, cache_root: Path, extra: list[str], timeout_s: float) -> dict[str, Any]:
    """Run this script in ``--child MODE`` and return the JSON it prints last."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--cache-dir", str(cache_root), *extra]
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as err:
        raise BenchmarkError(f"the {mode} child process timed out after {timeout_s:.0f} s") from err
    if result.returncode != 0:
        raise BenchmarkError(f"the {mode} child process failed with status {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_scale_test(region: Region, sizes: RunSizes, segment_m: float, work_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    network = build_densified_network(region, segment_m)
    build_s = time.perf_counter() - started
    cache_root = work_dir / "dense-cache"
    network_path = save_network(network, cache_root / "network")
    result: dict[str, Any] = {
        "segment_m": segment_m,
        "name": network.source.name,
        "build_s": build_s,
        "nodes": network.node_count,
        "edges": network.edge_count,
        "network_file_bytes": network_path.stat().st_size,
    }
    del network

    result["precompute"] = run_child("precompute", cache_root, [], timeout_s=1800)
    result["startup"] = run_child(
        "startup",
        cache_root,
        [
            "--calls", str(sizes.dense_calls), "--warmup-calls", str(sizes.warmup_calls),
            "--networkx-calls", str(sizes.networkx_calls_dense), "--networkx-time-limit", str(sizes.networkx_time_limit_s),
        ],
        timeout_s=1800,
    )
    return result


# ---------------------------------------------------------------------------
# HTTP: resurcor serve on 127.0.0.1, wrk and sequential requests

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""

_WRK_DURATION = re.compile(r"([\d.]+)(us|ms|s|m)\b")
_WRK_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _wrk_seconds(text: str) -> float:
    match = _WRK_DURATION.fullmatch(text.strip())
    if match is None:
        raise BenchmarkError(f"cannot read the wrk duration {text!r}")
    return float(match.group(1)) * _WRK_UNIT_S[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Read requests/s, latency percentiles and error counts from wrk's ``--latency`` output."""
    result: dict[str, Any] = {"non_2xx": 0, "socket_errors": 0}
    for line in output.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] in {"50%", "75%", "90%", "99%"}:
            result[f"p{fields[0].rstrip('%')}"] = _wrk_seconds(fields[1])
        elif fields[0] == "Latency" and len(fields) >= 4:
            result["mean"], result["max"] = _wrk_seconds(fields[1]), _wrk_seconds(fields[3])
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(fields[1])
        elif "requests in" in line:
            result["requests"] = int(fields[0])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            result["non_2xx"] = int(fields[-1])
        elif line.strip().startswith("Socket errors:"):
            result["socket_errors"] = sum(int(n) for n in re.findall(r"\d+", line))
    missing = [k for k in ("rps", "p50", "p99") if k not in result]
    if missing:
        raise BenchmarkError(f"wrk output lacks {missing}:\n{output}")
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resurcor_command() -> str:
    found = shutil.which("resurcor") or str(Path(sys.executable).with_name("resurcor"))
    if not Path(found).is_file():
        raise BenchmarkError("the resurcor command was not found: install the package with 'pip install -e .'")
    return found


def wait_for_health(url: str, server: subprocess.Popen, log_path: Path, timeout_s: float = 60.0) -> float:
    """Poll ``url`` until it returns 200; return the seconds waited. Raise if the server exits or times out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if server.poll() is not None:
            raise BenchmarkError(f"resurcor serve exited with status {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise BenchmarkError(f"resurcor serve timed out: no 200 response from {url} within {timeout_s:.0f} s")


def run_wrk(url: str, script: Path, connections: int, duration_s: int) -> dict[str, Any]:
    command = [
        "wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{duration_s}s",
        "--timeout", "5s", "--latency", "--script", str(script), url,
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=duration_s + 60)
    if result.returncode != 0:
        raise BenchmarkError(f"wrk failed with status {result.returncode}: {result.stderr.strip()}")
    parsed = parse_wrk(result.stdout)
    parsed["connections"] = connections
    parsed["duration_s"] = duration_s
    if parsed["non_2xx"] or parsed["socket_errors"]:
        raise BenchmarkError(f"wrk saw {parsed['non_2xx']} non-2xx responses and {parsed['socket_errors']} socket errors:\n{result.stdout}")
    return parsed


def sequential_requests(base_url: str, count: int, warmup: int = 20, time_limit_s: float = 120.0) -> dict[str, Any]:
    """POST the benchmark body ``count`` times, one at a time on one keep-alive connection.

    Uses httpx when it is importable, else the standard library's http.client.
    Returns the latency statistics, the client used and the last answer.
    """
    body = json.dumps(HTTP_BODY).encode()
    headers = {"Content-Type": "application/json"}
    try:
        import httpx
    except ImportError:
        httpx = None

    if httpx is not None:
        client_name = f"httpx {httpx.__version__}"
        client = httpx.Client(base_url=base_url, timeout=10.0)

        def post() -> tuple[int, bytes]:
            response = client.post("/api/v1/recommendations", content=body, headers=headers)
            return response.status_code, response.content

        close = client.close
    else:
        client_name = "http.client (httpx is not installed)"
        host, port = base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10.0)

        def post() -> tuple[int, bytes]:
            connection.request("POST", "/api/v1/recommendations", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()

        close = connection.close

    durations = []
    last_answer: dict[str, Any] = {}
    deadline = time.perf_counter() + time_limit_s
    try:
        for index in range(warmup + count):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            status, content = post()
            elapsed = time.perf_counter() - started
            if status != 200:
                raise BenchmarkError(f"POST /api/v1/recommendations returned {status}: {content[:500]!r}")
            if index >= warmup:
                durations.append(elapsed)
        last_answer = json.loads(content)
    finally:
        close()
    return {"client": client_name, "latency": summarize(durations), "answer": last_answer}


def run_http(region: Region, sizes: RunSizes, work_dir: Path, expected_key: tuple) -> dict[str, Any]:
    """Build a skeleton cache with the CLI, serve it on 127.0.0.1 and measure it; always stop the server."""
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is not installed: install the Debian package with 'apt-get install -y wrk'")
    command = resurcor_command()
    cache_root = work_dir / "http-cache"
    # The service records every answer in its registry, as in production; the registry
    # file goes to the run's own folder, never the user's.
    env = {**os.environ, "RESURCOR_CACHE_DIR": str(cache_root), "RESURCOR_STATE_DIR": str(work_dir / "http-state")}
    build = subprocess.run([command, "geodata", "build", "--skeleton"], check=False, env=env, capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        raise BenchmarkError(f"resurcor geodata build --skeleton failed with status {build.returncode}: {build.stderr.strip()}")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = work_dir / "serve.log"
    script = work_dir / "post_recommendation.lua"
    script.write_text(WRK_SCRIPT.format(body=json.dumps(HTTP_BODY)), encoding="utf-8")

    result: dict[str, Any] = {"port": port}
    with log_path.open("wb") as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            [command, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_health(f"{base_url}/api/v1/health", server, log_path)
            result["start_to_healthy_s"] = time.perf_counter() - started

            sequential = sequential_requests(base_url, sizes.sequential_requests)
            if answer_key(sequential["answer"]) != expected_key:
                raise BenchmarkError(f"the HTTP recommendation {answer_key(sequential['answer'])} differs from the in-process recommendation {expected_key}")
            result["sequential"] = {k: v for k, v in sequential.items() if k != "answer"}
            result["answer_key"] = list(expected_key)

            url = f"{base_url}/api/v1/recommendations"
            # An untimed run first, so that the server's thread pool has grown to the load.
            run_wrk(url, script, 8, sizes.wrk_warmup_s)
            result["wrk"] = [
                run_wrk(url, script, 1, sizes.wrk_single_duration_s),
                run_wrk(url, script, 4, sizes.wrk_duration_s),
                run_wrk(url, script, 8, sizes.wrk_duration_s),
                run_wrk(url, script, 16, sizes.wrk_duration_s),
            ]
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
    return result


# ---------------------------------------------------------------------------
# Report


def render_report(results: dict[str, Any]) -> str:
    sections = [f"# resurcor recommendation benchmark ({results['date']}, {'quick' if results['quick'] else 'full'} run)"]
    sections.append("## Machine\n\n" + markdown_table(["item", "value"], [[k, v] for k, v in results["machine"].items()]))

    skeleton = results["skeleton"]
    rows = [
        [name, stats["n"], format_duration(stats["p50"]), format_duration(stats["p99"]), format_duration(stats["mean"]), format_duration(stats["max"])]
        for name, stats in (("parse_call + recommend", skeleton["parse_and_recommend"]), ("recommend alone", skeleton["recommend"]))
    ]
    sections.append(
        f"## 1. In-process recommendation, skeleton network ({skeleton['nodes']} nodes, {skeleton['edges']} edges)\n\n"
        f"Calls at commune points drawn by population (seed {SEED}), onset 60-180 min before the call at "
        f"{CALL_TIME.isoformat()}. Strategies: {skeleton['strategies']}.\n\n"
        + markdown_table(["measurement", "calls", "p50", "p99", "mean", "max"], rows)
    )

    naive = skeleton["networkx"]
    trees_mean = skeleton["recommend"]["mean"]
    sections.append(
        "## 2. Precomputed trees against per-call networkx Dijkstra, skeleton network\n\n"
        f"Both columns run `recommend`; the networkx one computes two Dijkstra runs per call "
        f"(networkx graph built once in {format_duration(naive['graph_build_s'])}). "
        f"Strategy, destination and diagnosis-to-wire time were identical for all {naive['checked']} calls.\n\n"
        + markdown_table(
            ["method", "calls", "p50", "p99", "mean", "mean ratio"],
            [
                ["precomputed trees", skeleton["recommend"]["n"], format_duration(skeleton["recommend"]["p50"]), format_duration(skeleton["recommend"]["p99"]), format_duration(trees_mean), "1"],
                ["networkx per call", naive["latency"]["n"], format_duration(naive["latency"]["p50"]), format_duration(naive["latency"]["p99"]), format_duration(naive["latency"]["mean"]), f"{naive['latency']['mean'] / trees_mean:.1f}x slower"],
                ["of which the two Dijkstra runs", naive["dijkstra"]["n"], format_duration(naive["dijkstra"]["p50"]), format_duration(naive["dijkstra"]["p99"]), format_duration(naive["dijkstra"]["mean"]), ""],
            ],
        )
    )

    scale = results.get("scale")
    if scale:
        pre, start = scale["precompute"], scale["startup"]
        dense_naive = start["networkx"]
        ratio = dense_naive["latency"]["mean"] / start["recommend"]["mean"]
        rows = [
            ["nodes / directed edges", f"{scale['nodes']} / {scale['edges']}"],
            ["build (densify + assemble_network)", format_duration(scale["build_s"])],
            ["network cache file", f"{scale['network_file_bytes'] / 2**20:.1f} MiB"],
            [f"tree set precompute, cold ({pre['destinations']} reverse + {pre['bases']} forward trees)", format_duration(pre["compute_s"])],
            ["tree set of one scenario in memory", f"{pre['tree_bytes'] / 2**20:.1f} MiB"],
            ["first start-up: load_context computes and writes the tree sets it warms", f"{format_duration(pre['first_startup_s'])} ({pre['tree_files']} tree files, {pre['tree_cache_bytes'] / 2**20:.1f} MiB on disk)"],
            ["precompute process: peak RSS while loading / RSS loaded / peak RSS while computing", f"{format_mib(pre['rss_load_peak_mib'])} / {format_mib(pre['rss_loaded_mib'])} / {format_mib(pre['rss_compute_peak_mib'])}"],
            ["start-up: imports of the service modules", format_duration(start["imports_s"])],
            ["start-up: load_context, trees read from disk", format_duration(start["load_context_s"])],
            ["start-up process: peak RSS after load_context / at the end, with the networkx graphs", f"{format_mib(start['rss_load_peak_mib'])} / {format_mib(start['rss_end_peak_mib'])}"],
            [f"parse_call + recommend, p50 / p99 ({start['parse_and_recommend']['n']} calls)", f"{format_duration(start['parse_and_recommend']['p50'])} / {format_duration(start['parse_and_recommend']['p99'])}"],
            [f"recommend alone, p50 / p99 / mean ({start['recommend']['n']} calls)", f"{format_duration(start['recommend']['p50'])} / {format_duration(start['recommend']['p99'])} / {format_duration(start['recommend']['mean'])}"],
            ["networkx graph build (once)", format_duration(dense_naive["graph_build_s"])],
            [f"networkx per call, p50 / mean ({dense_naive['checked']} calls, answers identical)", f"{format_duration(dense_naive['latency']['p50'])} / {format_duration(dense_naive['latency']['mean'])}"],
            ["of which the two Dijkstra runs, mean", format_duration(dense_naive["dijkstra"]["mean"])],
            ["speed ratio (networkx mean / recommend mean)", f"{ratio:,.0f}x"],
        ]
        sections.append(
            f"## 3. Scale test: synthetic densified skeleton ({scale['name']})\n\n"
            f"Every skeleton edge is split into segments of about {scale['segment_m']:g} m of road length, with its time "
            "and length shared equally. This is a synthetic densification with the skeleton's topology and times; it only "
            "stands in for the node count of a real OSM network of the three départements. Each step runs in a child "
            "process; peak RSS is `VmHWM` of /proc/self/status, reset through /proc/self/clear_refs before the compute.\n\n"
            + markdown_table(["measurement", "value"], rows)
        )

    http = results.get("http")
    if http:
        wrk_rows = [
            [f"wrk, 1 thread, {w['connections']} connection(s), {w['duration_s']} s", f"{w['rps']:.0f}", format_duration(w["p50"]), format_duration(w.get("p90")), format_duration(w["p99"]), format_duration(w.get("max")), w["requests"]]
            for w in http["wrk"]
        ]
        sequential = http["sequential"]["latency"]
        wrk_rows.append([f"sequential, {http['sequential']['client']}", f"{1.0 / sequential['mean']:.0f}", format_duration(sequential["p50"]), "", format_duration(sequential["p99"]), format_duration(sequential["max"]), sequential["n"]])
        sections.append(
            "## 4. HTTP, `resurcor serve` (one uvicorn worker) on 127.0.0.1, skeleton network\n\n"
            f"POST /api/v1/recommendations with `{json.dumps(HTTP_BODY)}`; answer {tuple(http['answer_key'])}. "
            f"Server start to first healthy response: {format_duration(http['start_to_healthy_s'])}. "
            "wrk and the server share the machine's cores. The sequential requests and an untimed wrk run "
            "warm the server before the timed runs.\n\n"
            + markdown_table(["client", "requests/s", "p50", "p90", "p99", "max", "requests"], wrk_rows)
        )

    sections.append("## Targets\n\n" + markdown_table(["target", "measured", "met"], target_rows(results)))
    return "\n\n".join(sections) + "\n"


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    """Return one row per target: what was measured and whether it meets the target."""
    rows = []
    http = results.get("http")
    if http:
        by_connections = {w["connections"]: w for w in http["wrk"]}
        sequential = http["sequential"]
        p99_rows = [
            ("one request at a time, wrk 1 connection", by_connections[1]["p99"]),
            (f"one request at a time, {sequential['client']}", sequential["latency"]["p99"]),
            ("4 concurrent connections, wrk", by_connections[4]["p99"]),
            ("8 concurrent connections, wrk", by_connections[8]["p99"]),
        ]
        for label, p99 in p99_rows:
            rows.append([f"HTTP p99 under {TARGET_HTTP_P99_MS:g} ms ({label})", format_duration(p99), _yes(p99 * 1e3 < TARGET_HTTP_P99_MS)])
        # Both HTTP targets at once: one wrk run with the p99 under target and the rate above it.
        joint = [w for w in http["wrk"] if w["p99"] * 1e3 < TARGET_HTTP_P99_MS and w["rps"] >= TARGET_HTTP_RPS]
        best_joint = max(joint, key=lambda w: w["rps"]) if joint else None
        rows.append([
            f"p99 under {TARGET_HTTP_P99_MS:g} ms and at least {TARGET_HTTP_RPS:g} requests/s in the same wrk run",
            f"{best_joint['connections']} connections: {best_joint['rps']:.0f}/s, p99 {format_duration(best_joint['p99'])}" if best_joint else "none",
            _yes(best_joint is not None),
        ])
        best_rps = max(w["rps"] for w in http["wrk"])
        rows.append([f"at least {TARGET_HTTP_RPS:g} requests/s, one worker (best wrk run)", f"{best_rps:.0f}", _yes(best_rps >= TARGET_HTTP_RPS)])
    else:
        rows.append(["HTTP targets", "not measured", "no"])
    scale = results.get("scale")
    if scale:
        start = scale["startup"]
        rows.append([f"load_context under {TARGET_STARTUP_S:g} s, densified network, trees on disk", format_duration(start["load_context_s"]), _yes(start["load_context_s"] < TARGET_STARTUP_S)])
        ratio = start["networkx"]["latency"]["mean"] / start["recommend"]["mean"]
        rows.append([f"precomputed trees at least {TARGET_SCALE_RATIO:g}x faster than networkx, densified network", f"{ratio:,.0f}x", _yes(ratio >= TARGET_SCALE_RATIO)])
    else:
        rows.append(["scale targets", "not measured", "no"])
    return rows


def _yes(condition: bool) -> str:
    return "yes" if condition else "**no**"


# ---------------------------------------------------------------------------
# Entry point


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the resurcor recommendation (in-process, networkx, scale, HTTP).")
    parser.add_argument("--quick", action="store_true", help="fewer calls, 5 networkx calls on the densified network, 3 s wrk runs")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--json", type=Path, help="also write the raw measurements as JSON to this file")
    parser.add_argument("--segment-m", type=float, default=50.0, help="segment length of the densified skeleton, in metres (default 50)")
    parser.add_argument("--skip-scale", action="store_true", help="skip the densified-network scale test")
    parser.add_argument("--skip-http", action="store_true", help="skip the HTTP test (no server, no wrk)")
    # Internal: the scale test runs its steps in child processes of this script.
    parser.add_argument("--child", choices=["precompute", "startup"], help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=FULL.dense_calls, help=argparse.SUPPRESS)
    parser.add_argument("--warmup-calls", type=int, default=FULL.warmup_calls, help=argparse.SUPPRESS)
    parser.add_argument("--networkx-calls", type=int, default=FULL.networkx_calls_dense, help=argparse.SUPPRESS)
    parser.add_argument("--networkx-time-limit", type=float, default=FULL.networkx_time_limit_s, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_child_mode(args: argparse.Namespace) -> int:
    if args.child == "precompute":
        output = child_precompute(args.cache_dir)
    else:
        output = child_startup(args.cache_dir, args.calls, args.warmup_calls, args.networkx_calls, args.networkx_time_limit)
    print(json.dumps(output))
    return 0


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_child_mode(args)

    sizes = QUICK if args.quick else FULL
    cpu_at_start = CpuSnapshot.take()
    run_started = time.perf_counter()
    results: dict[str, Any] = {"date": date.today().isoformat(), "quick": args.quick, "machine": machine_info()}
    print(render_machine(results["machine"]), file=sys.stderr)

    failures = []
    with tempfile.TemporaryDirectory(prefix="resurcor-bench-") as tmp:
        work_dir = Path(tmp)
        region = load_region(Settings().region_dir, Settings().data_dir)

        step("skeleton: in-process latency")
        settings = skeleton_settings(work_dir / "skeleton-cache", region)
        context = load_context(settings, warm=False)
        specs = sample_calls(region, sizes.calls)
        in_process = measure_in_process(context, specs, sizes.warmup_calls)
        skeleton = {
            "nodes": context.network.node_count,
            "edges": context.network.edge_count,
            "parse_and_recommend": in_process["parse_and_recommend"],
            "recommend": in_process["recommend"],
            "strategies": {k: int(v) for k, v in in_process["strategies"].items()},
        }
        results["skeleton"] = skeleton

        step("skeleton: networkx per-call Dijkstra")
        skeleton["networkx"] = measure_networkx(
            context, in_process["calls"], in_process["keys"], sizes.networkx_calls_skeleton, sizes.networkx_time_limit_s
        )
        http_call = parse_call(region, now=CALL_TIME, lang="en", **HTTP_BODY)
        http_key = answer_key(recommend(context, http_call))
        del context, in_process

        if not args.skip_scale:
            step(f"scale test: densified skeleton, {args.segment_m:g} m segments")
            try:
                results["scale"] = run_scale_test(region, sizes, args.segment_m, work_dir)
            except BenchmarkError as err:
                failures.append(f"scale test: {err}")

        if not args.skip_http:
            step("HTTP: resurcor serve, sequential requests and wrk")
            try:
                results["http"] = run_http(region, sizes, work_dir, http_key)
            except BenchmarkError as err:
                failures.append(f"HTTP test: {err}")

    results["machine"]["load average (1, 5, 15 min) at end"] = load_average()
    results["machine"]["CPU used by other processes during the run"] = other_cpu_load(cpu_at_start, CpuSnapshot.take(), time.perf_counter() - run_started)
    report = render_report(results)
    if failures:
        report += "\n## Failures\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 1 if failures else 0


def render_machine(machine: dict[str, str]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in machine.items())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as err:
        print(f"bench_recommend: {err}", file=sys.stderr)
        sys.exit(1)

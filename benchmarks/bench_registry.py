"""Benchmark what the registry adds to a live recommendation, and the CSV import.

Run from a checkout with the package installed:

    python benchmarks/bench_registry.py [--calls N]

It prints a Markdown report with four parts:

1. ``answer_recommendation`` (the API's fast path without HTTP) on the skeleton network,
   without recording, then with the recorder (queue plus writer thread) on a SQLite file,
   with calls 2 ms apart and back to back;
2. the cost of recording inline instead: one SQLite insert and commit per answer;
3. how long the writer thread takes to store the queued answers after the last call;
4. the import of 4,000 synthetic cases (seed 1) on SQLite, and on PostgreSQL when
   ``postgresql://postgres@127.0.0.1:5432/postgres`` answers (in a database
   ``resurcor_test_bench_<random>`` created and dropped by the script).

Calls are drawn at commune points weighted by population (seed 20261204), at a fixed
winter call time. Every loop is bounded; temporary files are removed at exit.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import insert

from dispatch.api import answer_recommendation
from dispatch.registry.importer import import_csv
from dispatch.registry.models import RecommendationRecord
from dispatch.registry.recorder import Recorder, recommendation_row
from dispatch.registry.store import make_engine, upgrade
from dispatch.registry.synth import generate, write_csv
from dispatch.service import load_context
from dispatch.settings import Settings
from geodata.network import save_network
from geodata.skeleton import build_from_skeleton
from geodata.region import load_region

# Gap between paced calls: a busy desk's traffic leaves the writer thread idle time.
PACE_S = 0.002
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def percentiles_us(samples_s: list[float]) -> str:
    data = np.array(samples_s) * 1e6
    p50, p90, p99 = np.percentile(data, [50, 90, 99])
    return f"p50 {p50:.0f} µs, p90 {p90:.0f} µs, p99 {p99:.0f} µs, max {data.max():.0f} µs"


def call_bodies(region, count: int) -> list[bytes]:
    rng = np.random.default_rng(20261204)
    communes = list(region.communes.communes)
    weights = np.array([max(c.population, 1) for c in communes], dtype=float)
    weights /= weights.sum()
    bodies = []
    for index in rng.choice(len(communes), size=count, p=weights):
        commune = communes[int(index)]
        bodies.append(orjson.dumps({"lat": commune.lat, "lon": commune.lon, "onset": "2026-02-14T08:30+01:00", "at": "2026-02-14T10:00+01:00"}))
    return bodies


def time_answers(context, bodies: list[bytes], gap_s: float = 0.0) -> list[float]:
    """Time each call; with ``gap_s``, wait that long between calls, as a server between requests."""
    samples = []
    for body in bodies:
        started = time.perf_counter()
        answer_recommendation(context, body, None, "")
        samples.append(time.perf_counter() - started)
        if gap_s:
            time.sleep(gap_s)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="number of timed calls per mode")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="resurcor-bench-registry-"))
    settings = Settings(cache_dir=workdir / "cache", state_dir=workdir / "state")
    region = load_region(settings.region_dir, settings.data_dir)
    save_network(build_from_skeleton(region.skeleton_path, region.crs), settings.cache_dir / "network")
    context = load_context(settings)
    bodies = call_bodies(region, args.calls)
    print(f"# Registry benchmark\n\n{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, {args.calls} calls per mode\n")

    # 1. The fast path without and with the recorder.
    time_answers(context, bodies[:100])
    plain = time_answers(context, bodies)
    plain_paced = time_answers(context, bodies, PACE_S)
    engine = make_engine(f"sqlite:///{workdir / 'live.sqlite3'}")
    upgrade(engine)
    recorder = Recorder(engine, region.crs, workdir)
    recorder.start()
    context.registry_recorder = recorder
    recorded_paced = time_answers(context, bodies, PACE_S)
    recorder.flush(timeout_s=120)
    recorded = time_answers(context, bodies)
    drain_started = time.perf_counter()
    recorder.flush(timeout_s=120)
    drain_s = time.perf_counter() - drain_started
    context.registry_recorder = None
    recorder.stop()
    print("## answer_recommendation\n")
    print(f"- one call every {PACE_S * 1000:.0f} ms, without recording: {percentiles_us(plain_paced)}")
    print(f"- one call every {PACE_S * 1000:.0f} ms, with the recorder (queue + writer thread): {percentiles_us(recorded_paced)}")
    print(f"- back to back, without recording: {percentiles_us(plain)}")
    print(f"- back to back, with the recorder: {percentiles_us(recorded)}")
    print(f"- writer still busy {drain_s * 1000:.0f} ms after the last back-to-back call; {recorder.written} answers stored")
    print(f"- writer thread CPU time: {recorder.cpu_s / recorder.written * 1e6:.0f} µs per answer (time.thread_time)\n")

    # 2. Inline recording: what each request would pay.
    answers = [answer_recommendation(context, body, None, "")[1] for body in bodies[:500]]
    inline = []
    for answer in answers:
        started = time.perf_counter()
        row = recommendation_row(str(uuid.uuid4()), datetime.now(UTC), answer, region.crs)
        with engine.begin() as connection:
            connection.execute(insert(RecommendationRecord), [row])
        inline.append(time.perf_counter() - started)
    submit = []
    queue_only = Recorder(engine, region.crs, workdir)
    for answer in answers:
        started = time.perf_counter()
        queue_only.submit(answer)
        submit.append(time.perf_counter() - started)
    engine.dispose()
    print("## Recording one answer\n")
    print(f"- inline SQLite insert + commit (row built, position rounded): {percentiles_us(inline)}")
    print(f"- Recorder.submit (id + queue put): {percentiles_us(submit)}\n")

    # 3. Import of the synthetic registry.
    rows, _ = generate(region, 4000, seed=1)
    path = workdir / "cases.csv"
    write_csv(rows, path)
    print("## Import of 4,000 synthetic cases\n")
    targets = [("SQLite", f"sqlite:///{workdir / 'import.sqlite3'}", None)]
    try:
        import psycopg

        name = f"resurcor_test_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=2) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        targets.append(("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name))
    except Exception as err:  # noqa: BLE001 - any failure only skips the PostgreSQL row
        print(f"- PostgreSQL skipped: {err}")
    for label, url, database in targets:
        target = make_engine(url)
        upgrade(target)
        report = import_csv(target, path, region)
        target.dispose()
        print(f"- {label}: {report.imported} cases in {report.seconds:.2f} s")
        if database:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')

    for child in sorted(workdir.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

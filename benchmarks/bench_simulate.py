"""Benchmark of the planners' Monte-Carlo: simulated calls in process against the same calls over HTTP.

The script builds the skeleton network in a temporary cache, draws the scenario's calls
(seeded), and times:

1. the run in one process and in ``--workers`` forked processes, checking that both give
   the same result for every call;
2. the same run on a local Dask cluster (``--dask``), checked the same way;
3. a sample of the same calls sent one by one to ``resurcor serve`` on 127.0.0.1 over
   one kept-alive connection, extrapolated to the whole set.

It prints a Markdown report. Exit status 1 when two runs disagree or a step fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from datetime import datetime, time as clock_time, timedelta
from pathlib import Path

import numpy as np

from dispatch.service import load_context
from dispatch.settings import Settings
from geodata.network import save_network
from geodata.region import load_region
from geodata.skeleton import build_from_skeleton
from dispatch.planning.engine import STRATEGIES
from dispatch.planning.prepare import prepare
from dispatch.planning.run import dask_client
from dispatch.planning.scenario import load_scenario
from dispatch.planning.simulate import UNKNOWN_ONSET, draw_calls, run_dask, run_local

REPOSITORY = Path(__file__).resolve().parents[1]
HEALTH_TIMEOUT_S = 60


def same(first, second) -> bool:
    return all(np.array_equal(getattr(first, f.name), getattr(second, f.name)) for f in fields(first))


def best_of(repeats: int, function, *args, **kwargs):
    """Return the last result, every wall-clock duration (s) and every CPU time (s, this process) of ``repeats`` runs.

    CPU time does not grow when other programs share the cores, so it stands for the work
    when the machine is busy.
    """
    durations = []
    cpu_times = []
    result = None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        durations.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - started_cpu)
    return result, durations, cpu_times


def request_body(prepared, draws, index: int) -> dict:
    """Return the HTTP request of simulated call ``index``: its commune, call time, onset and flags."""
    commune = prepared.population.communes[int(draws.commune[index])]
    day = prepared.days[int(draws.day[index])]
    minute = int(draws.minute[index])
    at = datetime.combine(day, clock_time(minute // 60, minute % 60), tzinfo=prepared.context.region.timezone)
    body = {"commune": commune.insee, "at": at.isoformat(timespec="minutes")}
    delay = int(draws.onset_to_call_min[index])
    if delay != UNKNOWN_ONSET:
        body["onset"] = (at - timedelta(minutes=delay)).isoformat(timespec="minutes")
    age_75, shock, arrest, contraindicated = draws.flags[index].tolist()
    body["age"] = 80 if age_75 else 60
    body["shock"] = shock
    body["arrest"] = arrest
    if contraindicated:
        body["contraindication"] = "absolute"
    return body


def post(connection: http.client.HTTPConnection, body: dict) -> tuple[int, dict]:
    connection.request("POST", "/api/v1/recommendations", body=json.dumps(body), headers={"content-type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def start_server(port: int, cache_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "RESURCOR_CACHE_DIR": str(cache_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/api/v1/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"resurcor serve did not respond on 127.0.0.1:{port} within {HEALTH_TIMEOUT_S} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPOSITORY / "scenarios" / "winter-peak.yaml")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--http-sample", type=int, default=2000, help="calls sent over HTTP; the rest is extrapolated")
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    failures = []
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as temporary:
        cache_dir = Path(temporary)
        base = Settings()
        region = load_region(base.region_dir, base.data_dir)
        save_network(build_from_skeleton(region.skeleton_path, region.crs), cache_dir / "network")
        settings = base.model_copy(update={"cache_dir": cache_dir})

        started = time.perf_counter()
        context = load_context(settings, warm=False)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        prepared = prepare(context, load_scenario(args.scenario))
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        draws = draw_calls(prepared, args.calls)
        draw_s = time.perf_counter() - started

        # The first run computes the scenario's trees; it is left out of the timings.
        run_local(prepared, draw_calls(prepared, 1000), workers=1)
        single, single_s, single_cpu_s = best_of(args.repeats, run_local, prepared, draws, workers=1)
        parallel, parallel_s, _ = best_of(args.repeats, run_local, prepared, draws, workers=args.workers)
        if not same(single, parallel):
            failures.append("one process and forked processes disagree")

        rows = [
            ("load_context (no tree warm-up)", f"{load_s:.2f} s"),
            ("prepare the scenario (locate communes, bands, draws)", f"{prepare_s:.2f} s"),
            (f"draw {args.calls:,} calls", f"{draw_s:.2f} s"),
            (f"run, 1 process (min / median of {args.repeats})", f"{min(single_s):.2f} s / {statistics.median(single_s):.2f} s"),
            ("run, 1 process, CPU time (min)", f"{min(single_cpu_s):.2f} s"),
            (f"run, {args.workers} forked processes (min / median of {args.repeats})", f"{min(parallel_s):.2f} s / {statistics.median(parallel_s):.2f} s"),
            ("calls per second, forked processes (median)", f"{args.calls / statistics.median(parallel_s):,.0f}"),
            ("same result in both runs", "yes" if same(single, parallel) else "**no**"),
        ]

        if not args.skip_dask:
            started = time.perf_counter()
            with dask_client("local", args.workers) as client:
                cluster_s = time.perf_counter() - started
                run_dask(prepared, draw_calls(prepared, 1000), client)
                distributed, dask_s, _ = best_of(args.repeats, run_dask, prepared, draws, client)
            if not same(single, distributed):
                failures.append("Dask and local runs disagree")
            rows += [
                (f"local Dask cluster start ({args.workers} worker processes)", f"{cluster_s:.2f} s"),
                (f"run on it, after one warm-up chunk (min / median of {args.repeats})", f"{min(dask_s):.2f} s / {statistics.median(dask_s):.2f} s"),
                ("same result as the local run", "yes" if same(single, distributed) else "**no**"),
            ]

        if not args.skip_http:
            sample = min(args.http_sample, args.calls)
            server = start_server(args.port, cache_dir)
            agree = 0
            try:
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                for index in range(50):
                    post(connection, request_body(prepared, draws, index))
                started = time.perf_counter()
                for index in range(sample):
                    status, answer = post(connection, request_body(prepared, draws, index))
                    if status != 200:
                        failures.append(f"HTTP call {index} returned {status}: {str(answer)[:200]}")
                        break
                    destination = prepared.lab_ids[single.destination[index]] if single.destination[index] >= 0 else None
                    agree += (
                        answer["strategy"] == STRATEGIES[single.strategy[index]].value
                        and (answer["destination"] or {}).get("id") == destination
                        and answer["diagnosis_to_wire_min"] == int(single.diagnosis_to_wire_min[index])
                    )
                http_s = time.perf_counter() - started
                connection.close()
            finally:
                server.terminate()
                server.wait(timeout=10)
            per_call = http_s / sample
            rows += [
                (f"HTTP, {sample:,} of the calls one by one (http.client, one uvicorn worker)", f"{http_s:.2f} s ({1000 * per_call:.2f} ms per call)"),
                (f"HTTP, all {args.calls:,} calls (extrapolated from the sample)", f"{per_call * args.calls:.0f} s"),
                ("speed-up of the forked run over HTTP one by one", f"{per_call * args.calls / statistics.median(parallel_s):.0f}x"),
                ("same strategy, destination and diagnosis-to-wire minutes over HTTP as simulated (sample)", f"{agree / sample:.1%}"),
            ]

    lines.append(f"Scenario `{args.scenario.name}`, {args.calls:,} calls, seed {prepared.model.calls.seed}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average at the end {os.getloadavg()[0]:.2f}.")
    lines.append("")
    lines.append("| measurement | value |")
    lines.append("| --- | --- |")
    lines += [f"| {name} | {value} |" for name, value in rows]
    print("\n".join(lines))
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

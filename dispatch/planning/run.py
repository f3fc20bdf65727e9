"""A planning run: prepare a scenario, compute its coverage, simulate its calls, compare two runs.

The command line and the ``/planning`` page both call ``run_scenario`` and then
``planning.outputs.write_outputs``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from geodata.errors import InputError

from dispatch.service import ServiceContext
from dispatch.planning.coverage import Coverage, compute_coverage
from dispatch.planning.prepare import PreparedScenario, prepare
from dispatch.planning.scenario import ScenarioModel, load_scenario
from dispatch.planning.simulate import CallDraws, CallResults, draw_calls, per_commune, run_dask, run_local, summarise

logger = logging.getLogger(__name__)

# The --dask value that starts a Dask cluster on this machine instead of joining one.
LOCAL_DASK = "local"

# Seconds to wait for a remote Dask scheduler before giving up.
DASK_CONNECT_TIMEOUT_S = 10


@dataclass
class ScenarioRun:
    """Everything a run computed, with its timings in seconds."""

    prepared: PreparedScenario
    coverage: Coverage
    draws: CallDraws
    results: CallResults
    simulation: dict[str, Any]
    commune_simulation: dict[str, np.ndarray]
    timings_s: dict[str, float]

    @property
    def model(self) -> ScenarioModel:
        return self.prepared.model


@contextmanager
def dask_client(address: str, workers: int | None = None) -> Iterator[Any]:
    """Yield a Dask client: to the scheduler at ``address``, or to a local cluster on 127.0.0.1 for ``local``."""
    from distributed import Client, LocalCluster

    # distributed logs each worker's start and stop at INFO, which would break the
    # progress bar, so only its warnings and errors are shown.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address == LOCAL_DASK:
        # The dashboard takes a free port, so two runs on one machine do not compete for 8787.
        with LocalCluster(
            n_workers=workers or 2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as cluster:
            with Client(cluster) as client:
                yield client
        return
    try:
        client = Client(address, timeout=f"{DASK_CONNECT_TIMEOUT_S}s")
    except (OSError, ValueError) as err:
        raise InputError(
            "planning_dask_unreachable", f"dask: scheduler {address} unreachable: {err}", field="dask", value=address, seconds=DASK_CONNECT_TIMEOUT_S
        ) from err
    with client:
        yield client


def run_scenario(
    context: ServiceContext,
    scenario: ScenarioModel | PreparedScenario | Path,
    *,
    calls: int | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> ScenarioRun:
    """Prepare ``scenario`` (unless already prepared), compute its coverage and simulate its calls.

    ``calls`` replaces the scenario's call count; ``client`` (a dask.distributed Client)
    runs the calls on its cluster instead of local processes.
    """
    timings = {}
    started = time.perf_counter()
    if isinstance(scenario, PreparedScenario):
        prepared = scenario
    else:
        prepared = prepare(context, load_scenario(scenario) if isinstance(scenario, Path) else scenario)
    model = prepared.model
    timings["prepare"] = time.perf_counter() - started

    started = time.perf_counter()
    coverage = compute_coverage(prepared)
    timings["coverage"] = time.perf_counter() - started

    started = time.perf_counter()
    draws = draw_calls(prepared, calls)
    timings["draw"] = time.perf_counter() - started

    started = time.perf_counter()
    if client is not None:
        results = run_dask(prepared, draws, client, progress=progress)
    else:
        results = run_local(prepared, draws, workers=workers, progress=progress)
    timings["simulate"] = time.perf_counter() - started
    logger.info("scenario %s: %d calls simulated in %.2f s", model.name, len(draws), timings["simulate"])

    simulation = summarise(prepared, draws, results)
    return ScenarioRun(prepared, coverage, draws, results, simulation, per_commune(prepared, draws, results), timings)


def compare_runs(base: ScenarioRun, other: ScenarioRun, limit: int = 15) -> dict[str, Any]:
    """Return what changes from ``base`` to ``other``: summary deltas and the communes that lose most.

    A commune's loss is the growth of its daytime diagnosis-to-wire minutes by road or
    air, weighted by its present population in ``other``.
    """
    names = [c.name for c in base.prepared.population.communes]
    insee = [c.insee for c in base.prepared.population.communes]
    delta = {}
    for moment in ("day", "night"):
        column = f"{moment}_diagnosis_to_wire_road_or_air_min"
        first, second = base.coverage.columns[column], other.coverage.columns[column]
        delta[moment] = np.where((first >= 0) & (second >= 0), second - first, 0)
    present = other.coverage.columns["present_mean"]
    loss = np.maximum(delta["day"], delta["night"]) * present
    worst = [int(i) for i in np.argsort(-loss, kind="stable")[:limit] if loss[i] > 0]
    shares = {}
    for key, entry in base.coverage.summary["within"].items():
        shares[key] = {
            limit_key: {
                group: round(other.coverage.summary["within"][key][limit_key][group] - value, 4) for group, value in groups.items()
            }
            for limit_key, groups in entry.items()
        }
    simulation = {
        "strategy_shares": {k: round(other.simulation["strategy_shares"][k] - v, 5) for k, v in base.simulation["strategy_shares"].items()},
        "air_share": round(other.simulation["air_share"] - base.simulation["air_share"], 5),
        "diagnosis_to_wire_median_min": other.simulation["diagnosis_to_wire_min"].get("median", 0) - base.simulation["diagnosis_to_wire_min"].get("median", 0),
    }
    return {
        "base": base.model.name,
        "other": other.model.name,
        "coverage_share_delta": shares,
        "simulation_delta": simulation,
        "communes_losing_most": [
            {
                "insee": insee[i],
                "name": names[i],
                "day_delta_min": int(delta["day"][i]),
                "night_delta_min": int(delta["night"][i]),
                "present_mean": round(float(present[i])),
            }
            for i in worst
        ],
        "delta_day_min": delta["day"],
        "delta_night_min": delta["night"],
    }

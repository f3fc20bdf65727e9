"""Seeded Monte-Carlo of STEMI calls through the recommendation's plan and rule code.

The parent process draws every call from ``numpy.random.Generator`` streams seeded by
the scenario: commune and day in proportion to the present population, minute of the
day by the hour weights, onset-to-call delay, patient flags and the availability draw.
Calls are then grouped by their stage-1 key (location, season, time band, availability
draw) and the groups are split into chunks. A chunk's result depends only on its calls,
so any number of local processes, or a Dask cluster, gives the same result for the same
seed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dispatch.planning.engine import STRATEGIES, TRANSPORTS, RuleCache, build_call_plans, call_to_diagnosis_min
from dispatch.planning.prepare import MINUTES_PER_DAY, PreparedScenario, _in_window, _minute

logger = logging.getLogger(__name__)

# Relative STEMI call rate per local hour, 00 to 23: a morning peak and a night trough.
# NOTE: an estimate shaped on the circadian pattern of STEMI onset reported by
# registries (peak 06:00-12:00); calibrate it on the region's SAMU call records.
DEFAULT_HOUR_WEIGHTS = (
    0.6, 0.5, 0.5, 0.5, 0.6, 0.8, 1.1, 1.4, 1.6, 1.6, 1.5, 1.4,
    1.3, 1.2, 1.1, 1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7,
)

# z of the 90th percentile of a standard normal: sigma of a log-normal from its median and p90.
Z_P90 = 1.2815515655446004

# Chunks per worker: enough for a smooth progress bar and balanced workers.
CHUNKS_PER_WORKER = 8

UNKNOWN_ONSET = -1


@dataclass
class CallDraws:
    """The drawn calls, one entry per call in draw order."""

    commune: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    onset_to_call_min: np.ndarray
    flags: np.ndarray
    draw: np.ndarray

    def __len__(self) -> int:
        return int(self.commune.shape[0])


@dataclass
class CallResults:
    """The recommendation of every call, in draw order."""

    strategy: np.ndarray
    destination: np.ndarray
    transport: np.ndarray
    call_to_diagnosis_min: np.ndarray
    diagnosis_to_wire_min: np.ndarray

    @classmethod
    def empty(cls, count: int) -> CallResults:
        return cls(
            strategy=np.full(count, -1, dtype=np.int8),
            destination=np.full(count, -1, dtype=np.int16),
            transport=np.full(count, -1, dtype=np.int8),
            call_to_diagnosis_min=np.full(count, -1, dtype=np.int32),
            diagnosis_to_wire_min=np.full(count, -1, dtype=np.int32),
        )

    def fill(self, indices: np.ndarray, chunk: CallResults) -> None:
        for name in ("strategy", "destination", "transport", "call_to_diagnosis_min", "diagnosis_to_wire_min"):
            getattr(self, name)[indices] = getattr(chunk, name)


def minute_weights(prepared: PreparedScenario) -> np.ndarray:
    """Return the probability of each minute of the day for a call, within the scenario's hours."""
    calls = prepared.model.calls
    hourly = np.asarray(calls.hour_weights or DEFAULT_HOUR_WEIGHTS, dtype=np.float64)
    start, end = (_minute(t) for t in prepared.model.period.hours)
    minutes = np.arange(MINUTES_PER_DAY)
    inside = np.array([_in_window(m, start, end) for m in minutes])
    weights = hourly[minutes // 60] * inside
    return weights / weights.sum()


def draw_calls(prepared: PreparedScenario, count: int | None = None) -> CallDraws:
    """Draw the scenario's calls from its seed; the same seed gives the same calls."""
    model = prepared.model
    calls = model.calls
    count = calls.count if count is None else count
    rng = np.random.default_rng([calls.seed, 2])

    # Commune and day jointly, in proportion to the population present that day.
    located = prepared.commune_nodes >= 0
    present = np.array([prepared.population.present(day) * located for day in prepared.days])
    weights = present.ravel() / present.sum()
    flat = rng.choice(weights.size, size=count, p=weights)
    day, commune = np.divmod(flat, present.shape[1])

    minute = rng.choice(MINUTES_PER_DAY, size=count, p=minute_weights(prepared))

    onset = calls.onset_to_call
    sigma = np.log(onset.p90_min / onset.median_min) / Z_P90
    delay = np.rint(rng.lognormal(np.log(onset.median_min), sigma, size=count)).astype(np.int32)
    delay[rng.random(count) < onset.unknown_share] = UNKNOWN_ONSET

    patients = calls.patients
    shares = np.array(
        [patients.age_75_or_more_share, patients.cardiogenic_shock_share, patients.resuscitated_arrest_share, patients.absolute_contraindication_share]
    )
    flags = rng.random((count, 4)) < shares
    draw = rng.integers(0, calls.availability_draws, size=count)
    return CallDraws(commune.astype(np.int32), day.astype(np.int32), minute.astype(np.int32), delay, flags, draw.astype(np.int32))


def stage_keys(prepared: PreparedScenario, draws: CallDraws) -> np.ndarray:
    """Return one integer per call, equal for calls that share their stage-1 plans."""
    # The air plans read the commune's point, so each commune is a location of its own.
    location = draws.commune.astype(np.int64)
    season = np.array([prepared.season_key(day) for day in prepared.days])[draws.day]
    band = prepared.band_classes(draws.minute)
    draws_count = prepared.model.calls.availability_draws
    return ((location.astype(np.int64) * 64 + season) * len(prepared.bands) + band) * draws_count + draws.draw


def run_chunk(prepared: PreparedScenario, draws: CallDraws, rules: RuleCache | None = None) -> CallResults:
    """Recommend every call of a chunk; calls that share a key share their plans."""
    rules = rules or RuleCache(prepared)
    keys = stage_keys(prepared, draws)
    order = np.argsort(keys, kind="stable")
    boundaries = np.flatnonzero(np.diff(keys[order])) + 1
    results = CallResults.empty(len(draws))
    lab_index = {lab_id: i for i, lab_id in enumerate(prepared.lab_ids)}
    transport_index = {mode: i for i, mode in enumerate(TRANSPORTS)}
    strategy_index = {strategy: i for i, strategy in enumerate(STRATEGIES)}
    first_day = {}
    for index, day in enumerate(prepared.days):
        first_day.setdefault(prepared.season_key(day), index)
    onsets = draws.onset_to_call_min.tolist()
    flags = [tuple(row) for row in draws.flags.tolist()]

    for group in np.split(order, boundaries):
        if group.size == 0:
            continue
        head = int(group[0])
        commune = int(draws.commune[head])
        # The first day of the period in the call's season stands for every day of it.
        day = prepared.days[first_day[prepared.season_key(prepared.days[int(draws.day[head])])]]
        band = prepared.band_at(int(draws.minute[head]))
        options = build_call_plans(prepared, commune, day, band, int(draws.draw[head]))
        fastest = options.plans[0] if options.plans else None
        to_diagnosis = call_to_diagnosis_min(options)
        for call in group.tolist():
            onset = onsets[call]
            strategy = rules.strategy(options, None if onset == UNKNOWN_ONSET else onset, flags[call])
            results.strategy[call] = strategy_index[strategy]
            if fastest is None:
                continue
            # The chosen plan is the fastest or its lysis variant: same destination and mode.
            results.destination[call] = lab_index[fastest.destination.site.id]
            results.transport[call] = transport_index[fastest.mode]
            results.call_to_diagnosis_min[call] = to_diagnosis
            results.diagnosis_to_wire_min[call] = fastest.diagnosis_to_wire_min
    return results


def split_chunks(prepared: PreparedScenario, draws: CallDraws, count: int) -> list[np.ndarray]:
    """Split the calls into about ``count`` chunks of whole key groups, as call indices."""
    keys = stage_keys(prepared, draws)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    chunks = []
    cuts = np.linspace(0, len(order), count + 1).astype(np.int64)
    start = 0
    for cut in cuts[1:]:
        # Move each cut to the end of its key group, so that no group is split.
        end = int(np.searchsorted(sorted_keys, sorted_keys[cut - 1], side="right")) if cut > 0 else 0
        if end > start:
            chunks.append(np.sort(order[start:end]))
            start = end
    return chunks


def subset(draws: CallDraws, indices: np.ndarray) -> CallDraws:
    return CallDraws(*(getattr(draws, name)[indices] for name in ("commune", "day", "minute", "onset_to_call_min", "flags", "draw")))


# The prepared scenario of a forked worker, inherited from the parent.
_FORKED: PreparedScenario | None = None


# The rule cache of a worker process, kept across its chunks.
_WORKER_RULES: dict[int, RuleCache] = {}


def _worker_rules(prepared: PreparedScenario) -> RuleCache:
    rules = _WORKER_RULES.get(id(prepared))
    if rules is None:
        rules = _WORKER_RULES[id(prepared)] = RuleCache(prepared)
    return rules


def _default_sigterm() -> None:
    # Pool.terminate() ends its workers with SIGTERM and expects them to die at once. A
    # handler inherited from the parent (a page job's) would unwind a worker while it
    # holds the result queue's lock and hang the pool.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _forked_chunk(payload: tuple[int, CallDraws]) -> tuple[int, CallResults]:
    number, draws = payload
    return number, run_chunk(_FORKED, draws, _worker_rules(_FORKED))


def run_local(
    prepared: PreparedScenario, draws: CallDraws, *, workers: int | None = None, progress: Callable[[int], None] | None = None
) -> CallResults:
    """Run the calls in this process (``workers=1``) or in forked worker processes."""
    workers = workers or os.cpu_count() or 1
    chunks = split_chunks(prepared, draws, max(1, workers * CHUNKS_PER_WORKER))
    results = CallResults.empty(len(draws))
    if workers == 1 or len(chunks) == 1:
        rules = RuleCache(prepared)
        for indices in chunks:
            results.fill(indices, run_chunk(prepared, subset(draws, indices), rules))
            if progress:
                progress(len(indices))
        return results

    global _FORKED
    _FORKED = prepared
    try:
        # Forked workers share the parent's loaded network and trees without pickling them.
        with multiprocessing.get_context("fork").Pool(workers, initializer=_default_sigterm) as pool:
            payloads = ((number, subset(draws, indices)) for number, indices in enumerate(chunks))
            for number, chunk in pool.imap_unordered(_forked_chunk, payloads):
                results.fill(chunks[number], chunk)
                if progress:
                    progress(len(chunks[number]))
    finally:
        _FORKED = None
    return results


# Scenarios prepared in a Dask worker, by the digest of their settings and keys.
_WORKER_SCENARIOS: dict[str, PreparedScenario] = {}


def _dask_prepared(settings_json: str, scenario_data: dict[str, Any], digest: str) -> PreparedScenario:
    prepared = _WORKER_SCENARIOS.get(digest)
    if prepared is None:
        from dispatch.service import load_context
        from dispatch.settings import Settings
        from dispatch.planning.prepare import prepare
        from dispatch.planning.scenario import validate_scenario

        context = load_context(Settings.model_validate_json(settings_json), warm=False)
        prepared = prepare(context, validate_scenario(scenario_data))
        _WORKER_SCENARIOS[digest] = prepared
    return prepared


def _dask_chunk(settings_json: str, scenario_data: dict[str, Any], digest: str, draws: CallDraws) -> CallResults:
    prepared = _dask_prepared(settings_json, scenario_data, digest)
    return run_chunk(prepared, draws, _worker_rules(prepared))


def run_dask(
    prepared: PreparedScenario,
    draws: CallDraws,
    client: Any,
    *,
    progress: Callable[[int], None] | None = None,
) -> CallResults:
    """Run the calls on a Dask cluster; each worker loads the service and prepares the scenario once."""
    import hashlib
    import json

    from distributed import as_completed

    settings_json = prepared.context.settings.model_dump_json()
    scenario_data = prepared.model.model_dump(mode="json", by_alias=True)
    digest = hashlib.sha256((settings_json + json.dumps(scenario_data, sort_keys=True)).encode()).hexdigest()[:16]
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    chunks = split_chunks(prepared, draws, workers * CHUNKS_PER_WORKER)
    futures = {
        client.submit(_dask_chunk, settings_json, scenario_data, digest, subset(draws, indices), pure=False): number
        for number, indices in enumerate(chunks)
    }
    results = CallResults.empty(len(draws))
    for future in as_completed(futures):
        number = futures[future]
        results.fill(chunks[number], future.result())
        if progress:
            progress(len(chunks[number]))
    return results


def summarise(prepared: PreparedScenario, draws: CallDraws, results: CallResults) -> dict[str, Any]:
    """Return the shares and delay distributions of a run."""
    count = len(draws)
    strategies = {strategy.value: float(np.mean(results.strategy == i)) for i, strategy in enumerate(STRATEGIES)}
    transports = {mode.value: float(np.mean(results.transport == i)) for i, mode in enumerate(TRANSPORTS)}
    destinations = {lab: float(np.mean(results.destination == i)) for i, lab in enumerate(prepared.lab_ids)}
    return {
        "calls": count,
        "seed": prepared.model.calls.seed,
        "strategy_shares": strategies,
        "transport_shares": transports,
        "air_share": transports.get("helicopter", 0.0),
        "destination_shares": {k: v for k, v in sorted(destinations.items(), key=lambda item: -item[1]) if v > 0},
        "no_plan_share": float(np.mean(results.strategy < 0) + np.mean((results.strategy >= 0) & (results.destination < 0))),
        "call_to_diagnosis_min": distribution(results.call_to_diagnosis_min),
        "diagnosis_to_wire_min": distribution(results.diagnosis_to_wire_min),
        "diagnosis_to_wire_within": {
            str(limit): float(np.mean((results.diagnosis_to_wire_min >= 0) & (results.diagnosis_to_wire_min <= limit))) for limit in (60, 90, 120)
        },
    }


def distribution(values: np.ndarray) -> dict[str, Any]:
    """Return the percentiles and a 10-minute histogram of the valid (≥ 0) values."""
    valid = values[values >= 0]
    if valid.size == 0:
        return {"count": 0}
    edges = np.arange(0, int(valid.max()) + 11, 10)
    counts, _ = np.histogram(valid, bins=edges)
    percentiles = np.percentile(valid, [10, 25, 50, 75, 90])
    return {
        "count": int(valid.size),
        "mean": round(float(valid.mean()), 2),
        "p10": float(percentiles[0]),
        "p25": float(percentiles[1]),
        "median": float(percentiles[2]),
        "p75": float(percentiles[3]),
        "p90": float(percentiles[4]),
        "histogram": {"bin_min": 10, "edges": edges[:-1].tolist(), "counts": counts.tolist()},
    }


def per_commune(prepared: PreparedScenario, draws: CallDraws, results: CallResults) -> dict[str, np.ndarray]:
    """Return per commune: simulated calls, share of primary PCI and median diagnosis to wire."""
    size = len(prepared.population.communes)
    calls = np.bincount(draws.commune, minlength=size)
    pci = np.bincount(draws.commune, weights=(results.strategy == STRATEGIES.index(STRATEGIES[0])), minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        pci_share = np.where(calls > 0, pci / calls, np.nan)
    median = np.full(size, np.nan)
    order = np.argsort(draws.commune, kind="stable")
    bounds = np.searchsorted(draws.commune[order], np.arange(size + 1))
    wire = results.diagnosis_to_wire_min[order]
    for commune in np.flatnonzero(calls):
        values = wire[bounds[commune] : bounds[commune + 1]]
        values = values[values >= 0]
        if values.size:
            median[commune] = float(np.median(values))
    return {"calls": calls, "primary_pci_share": pci_share, "median_diagnosis_to_wire_min": median}


def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = clock.perf_counter()
    value = function(*args, **kwargs)
    return value, clock.perf_counter() - started


__all__ = ["CallDraws", "CallResults", "draw_calls", "per_commune", "run_chunk", "run_dask", "run_local", "summarise"]


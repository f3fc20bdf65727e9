"""Planning runs started from the web page, each in a child process so that the service keeps serving requests.

A job's scenario files are validated in the request and written into the job's folder.
A child process started with ``spawn`` then loads the service's data itself, runs the
scenario with local worker processes, writes the outputs and reports its progress in
``status.json``. The service process only reads that file. Jobs run one at
a time, and closing the runner terminates the running child.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dispatch.settings import Settings
from geodata.errors import InputError
from dispatch.planning.scenario import DATA_PREFIX, ScenarioError, load_scenario, parse_scenario_yaml

logger = logging.getLogger(__name__)

STATUS_FILE = "status.json"
SCENARIO_FILE = "scenario.yaml"
COMPARE_FILE = "compare.yaml"

# Jobs queued or running at once; more are rejected until one ends.
MAX_PENDING_JOBS = 3

# Calls a page request may ask for: above this, use the command line or a Dask cluster.
MAX_PAGE_CALLS = 1_000_000

# Progress is written at most this often, in seconds.
PROGRESS_INTERVAL_S = 0.5


# Seconds a job's process has to stop after SIGTERM before it is killed.
TERMINATE_GRACE_S = 10


def _write_status(job_dir: Path, **status: Any) -> None:
    path = job_dir / STATUS_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def run_job(settings_json: str, job_dir_text: str, calls: int | None, workers: int | None, lang: str) -> None:
    """Run a job in a child process: load the service, run the scenario(s), write the outputs."""
    from dispatch.service import load_context
    from dispatch.planning.outputs import write_outputs
    from dispatch.planning.run import compare_runs, run_scenario

    # SIGTERM from the service's shutdown unwinds the run, so the worker pool's context
    # terminates its processes instead of leaving them to fail on a closed pipe.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    job_dir = Path(job_dir_text)
    settings = Settings.model_validate_json(settings_json)
    compare_path = job_dir / COMPARE_FILE
    paths = [job_dir / SCENARIO_FILE] + ([compare_path] if compare_path.is_file() else [])
    models = [load_scenario(path) for path in paths]
    total = sum(calls or model.calls.count for model in models)
    done = 0
    last_write = 0.0

    def progress(count: int) -> None:
        nonlocal done, last_write
        done += count
        now = time.monotonic()
        if now - last_write >= PROGRESS_INTERVAL_S:
            _write_status(job_dir, state="running", done=done, total=total)
            last_write = now

    try:
        _write_status(job_dir, state="running", done=0, total=total)
        context = load_context(settings, warm=False)
        runs = [run_scenario(context, model, calls=calls, workers=workers, progress=progress) for model in models]
        other = runs[1] if len(runs) > 1 else None
        compare = compare_runs(runs[0], other) if other is not None else None
        files = write_outputs(runs[0], job_dir / "out", lang, other, compare)
        summary = json.loads((job_dir / "out" / "summary.json").read_text(encoding="utf-8"))
        _write_status(job_dir, state="done", done=total, total=total, files=sorted(files), summary=summary)
    except Exception as err:  # noqa: BLE001 - the page must show any failure of the child
        logger.exception("planning job %s failed", job_dir.name)
        _write_status(job_dir, state="failed", done=done, total=total, error=str(err))


def _scenario_text_data(text: str, field_name: str, scenarios_dir: Path) -> dict[str, Any]:
    """Parse a scenario posted as YAML text; its ``extends`` is read from the examples folder."""
    data = parse_scenario_yaml(text, field_name, field_name)
    if not isinstance(data, dict):
        raise ScenarioError("scenario_not_mapping", f"{field_name} must hold YAML keys", field=field_name, path=field_name)
    population = data.get("population")
    if isinstance(population, dict):
        for key in ("tourist_beds", "occupancy"):
            value = population.get(key)
            if value is not None and not (isinstance(value, str) and value.startswith(DATA_PREFIX)):
                # A page user may not make the service read a file of its machine.
                raise ScenarioError("scenario_path_forbidden", f"population.{key} must start with {DATA_PREFIX}", field=f"population.{key}")
    parent = data.get("extends")
    if isinstance(parent, str):
        # A posted file may only extend a file of the examples folder, by name.
        candidate = (scenarios_dir / parent).resolve()
        if candidate.parent != scenarios_dir.resolve():
            raise ScenarioError("scenario_not_found", f"extends {parent!r} is not an example scenario", field="extends", path=parent)
        data["extends"] = str(candidate)
    return data


@dataclass
class Job:
    id: str
    directory: Path
    created_at: float
    names: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None
    process: multiprocessing.process.BaseProcess | None = None

    @property
    def pending(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class PlanningJobs:
    """The planning runs of one service process, with one child process running them in turn."""

    def __init__(self, settings: Settings, scenarios_dir: Path):
        self.settings = settings
        self.scenarios_dir = scenarios_dir
        self.root = settings.cache_dir / "planning-runs"
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        # One job runs at a time: the machine's cores go to its worker processes.
        self._slot = threading.Semaphore(1)
        self._closed = False

    def examples(self) -> list[dict[str, Any]]:
        """Return the example scenarios: file name, scenario name and titles."""
        examples = []
        for path in sorted(self.scenarios_dir.glob("*.yaml")):
            try:
                model = load_scenario(path)
            except InputError as err:
                logger.warning("example scenario %s is invalid: %s", path, err)
                continue
            examples.append({"file": path.name, "name": model.name, "title": {lang: model.title_in(lang) for lang in ("fr", "en")}, "text": path.read_text(encoding="utf-8")})
        return examples

    def _scenario_data(self, value: str, field_name: str) -> dict[str, Any]:
        example = self.scenarios_dir / value
        if "\n" not in value and example.suffix == ".yaml" and example.resolve().parent == self.scenarios_dir.resolve() and example.is_file():
            return {"extends": str(example.resolve())}
        return _scenario_text_data(value, field_name, self.scenarios_dir)

    def submit(self, scenario: str, compare: str | None, calls: int | None, lang: str) -> Job:
        """Validate the scenario(s), then queue the run; raise ScenarioError or InputError naming the field."""
        if calls is not None and not 1 <= calls <= MAX_PAGE_CALLS:
            raise InputError("field_invalid", f"calls must be between 1 and {MAX_PAGE_CALLS}", field="calls", detail=f"1 ≤ calls ≤ {MAX_PAGE_CALLS}")
        with self._lock:
            pending = [job for job in self._jobs.values() if job.pending]
            if len(pending) >= MAX_PENDING_JOBS:
                raise InputError("planning_busy", f"{len(pending)} planning runs are pending", field="scenario", count=len(pending))
        job_id = secrets.token_hex(6)
        # NOTE: job folders stay in the cache directory until an operator removes them.
        directory = self.root / job_id
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        for value, field_name, file_name in ((scenario, "scenario", SCENARIO_FILE), (compare, "compare", COMPARE_FILE)):
            if not value:
                continue
            path = directory / file_name
            path.write_text(yaml.safe_dump(self._scenario_data(value, field_name), allow_unicode=True, sort_keys=False), encoding="utf-8")
            names.append(load_scenario(path).name)
        job = Job(id=job_id, directory=directory, created_at=time.time(), names=names)
        _write_status(directory, state="queued", done=0, total=0)
        job.thread = threading.Thread(target=self._run, args=(job, calls, lang), name=f"planning-{job_id}", daemon=True)
        with self._lock:
            self._jobs[job_id] = job
        job.thread.start()
        logger.info("planning job %s queued: %s", job_id, ", ".join(names))
        return job

    def _run(self, job: Job, calls: int | None, lang: str) -> None:
        """Wait for the slot, then run ``job`` in a child process and wait for it."""
        with self._slot:
            # spawn: the child must not inherit the server's threads and event loop. It is
            # not a daemon, because its own worker processes are its children.
            context = multiprocessing.get_context("spawn")
            process = context.Process(target=run_job, args=(self.settings.model_dump_json(), str(job.directory), calls, None, lang), name=f"planning-{job.id}")
            with self._lock:
                # The lock orders this start and close(): a closed runner starts nothing.
                if self._closed:
                    return
                process.start()
                job.process = process
            process.join()
        if job.process.exitcode != 0:
            logger.error("planning job %s ended with exit code %s", job.id, job.process.exitcode)

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise InputError("planning_job_unknown", f"planning run {job_id!r} is unknown", field="id", value=job_id)
        return job

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        try:
            status = json.loads((job.directory / STATUS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            status = {"state": "queued", "done": 0, "total": 0}
        ended = job.process is not None and job.process.exitcode is not None
        if ended and job.process.exitcode != 0 and status.get("state") not in ("done", "failed"):
            status = {**status, "state": "failed", "error": f"the run's process ended with exit code {job.process.exitcode}"}
        return {"id": job.id, "scenarios": job.names, **status}

    def file(self, job_id: str, name: str) -> Path:
        """Return the path of an output file of a finished job; raise InputError for any other name."""
        job = self.get(job_id)
        out = (job.directory / "out").resolve()
        path = (out / name).resolve()
        if out not in path.parents or not path.is_file():
            raise InputError("planning_file_unknown", f"file {name!r} is not an output of run {job_id}", field="name", value=name)
        return path

    def close(self) -> None:
        """Terminate the running job's process; queued jobs do not start."""
        with self._lock:
            self._closed = True
            running = [job for job in self._jobs.values() if job.process is not None]
        for job in running:
            process = job.process
            if process.exitcode is None:
                # The job's own thread joins (reaps) the process; a second join from this
                # thread could miss the exit code it collects, so wait for that thread.
                logger.info("planning job %s terminated with the service", job.id)
                process.terminate()
                job.thread.join(timeout=TERMINATE_GRACE_S)
                if job.thread.is_alive():
                    # On a loaded machine the child may take longer to stop its worker pool;
                    # SIGKILL cannot be caught, so the job's thread then ends.
                    logger.warning("planning job %s still running %d s after SIGTERM; killing it", job.id, TERMINATE_GRACE_S)
                    process.kill()
                    job.thread.join()

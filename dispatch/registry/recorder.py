"""Recording of live recommendations, off the request's hot path.

The API answers a recommendation in well under a millisecond; a SQLite insert and commit
per answer costs more than that (see docs/benchmarks.md). So the request only gives the
answer an id and puts it on a queue, and one writer thread stores queued answers in
batches, each batch in one transaction. Nothing is dropped. A failed batch is retried
until the recorder stops, and at the stop the queue is drained. Answers the database still
refuses, and malformed answers that give no row, are appended to a JSON-lines file in the
state directory, with an error log.
"""

from __future__ import annotations

import gc
import json
import logging
import queue
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from dispatch.registry.models import RecommendationRecord
from dispatch.registry.privacy import scrub_answer

logger = logging.getLogger(__name__)

BATCH_MAX = 500
GATHER_S = 0.05
# Rows per INSERT statement within a batch's transaction.
INSERT_ROWS = 10
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)
UNWRITTEN_FILE_NAME = "registry-unwritten.jsonl"

# Set by ``resurcor serve``, which freezes the loaded service before serving: the writer
# then freezes what each batch leaves behind. Tests and library use leave it off.
FREEZE_AFTER_WRITE = False


def recommendation_row(recommendation_id: str, recorded_at: datetime, answer: dict[str, Any], crs: str) -> dict[str, Any]:
    """Return the ``recommendations`` row of a live answer, its position rounded to 100 m."""
    scrubbed = scrub_answer(answer, crs)
    destination = answer.get("destination") or {}
    profile = answer.get("profile") or {}
    network = answer.get("network") or {}
    call_at = (answer.get("patient") or {}).get("at")
    return {
        "id": recommendation_id,
        "source": "live",
        "recorded_at": recorded_at,
        "call_at": datetime.fromisoformat(call_at) if call_at else None,
        "strategy": answer.get("strategy"),
        "destination": destination.get("id"),
        "transport": answer.get("transport"),
        "predicted_call_to_arrival_min": answer.get("call_to_arrival_min"),
        "predicted_diagnosis_to_wire_min": answer.get("diagnosis_to_wire_min"),
        "profile_name": profile.get("name"),
        "profile_version": None if profile.get("version") is None else str(profile.get("version")),
        "sites_version": answer.get("sites_version"),
        "network_version": network.get("version"),
        "answer": scrubbed,
    }


class Recorder:
    """A queue of answers and the thread that stores them; start() once, stop() at shutdown.

    TODO: move the writing to a process of its own: in the serving process the thread
    still costs about 30 % of throughput (docs/benchmarks.md).
    """

    def __init__(self, engine: Engine, crs: str, state_dir: Path, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S):
        self.engine = engine
        self.retry_delays_s = retry_delays_s
        self.crs = crs
        self.unwritten_path = state_dir / UNWRITTEN_FILE_NAME
        self._queue: queue.Queue[tuple[str, datetime, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.written = 0
        # CPU seconds the writer thread spent storing batches, for the benchmark.
        self.cpu_s = 0.0

    @property
    def pending(self) -> int:
        """Answers queued or being stored and not yet written."""
        return self._queue.unfinished_tasks

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="registry-recorder", daemon=True)
        self._thread.start()

    def submit(self, answer: dict[str, Any]) -> str:
        """Queue an answer for recording and return its new recommendation id."""
        recommendation_id = str(uuid.uuid4())
        self._queue.put((recommendation_id, datetime.now(UTC), answer))
        return recommendation_id

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every answer queued so far is stored; return False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def stop(self) -> None:
        """Store everything queued, then end the writer thread."""
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join()
        logger.info("registry recorder stopped after %d recommendations", self.written)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            # Gathering answers for a moment makes one transaction (one disk sync) of many
            # and leaves the GIL to the event loop meanwhile.
            if item is not None and not self._stopping.is_set():
                time.sleep(GATHER_S)
            batch = [item]
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = [entry for entry in batch if entry is not None]
            started = time.thread_time()
            try:
                if entries:
                    self._write(entries)
            except Exception as err:  # noqa: BLE001 - the writer must outlive any one bad batch
                logger.exception("registry: storing %d recommendations failed unexpectedly", len(entries))
                self._write_aside([self._aside_row(entry) for entry in entries], err)
            finally:
                self.cpu_s += time.thread_time() - started
                if entries and FREEZE_AFTER_WRITE:
                    # Each batch leaves long-lived objects behind, such as the ORM's compiled
                    # statements. Frozen, they stay out of the collector's full scans, whose
                    # 40-80 ms pauses were the HTTP tail measured in docs/benchmarks.md.
                    gc.freeze()
                for _ in batch:
                    self._queue.task_done()
            if self._stopping.is_set() and self._queue.empty():
                return

    def _write(self, entries: list[tuple[str, datetime, dict[str, Any]]]) -> None:
        # The writer shares the GIL with the event loop. A thread that wants the GIL waits up
        # to sys.getswitchinterval() (5 ms) for the holder, so the writer yields after each
        # row and each small INSERT, and a request waits for one row's work, not a batch's.
        rows = []
        for entry in entries:
            try:
                rows.append(recommendation_row(*entry, self.crs))
            except (KeyError, TypeError, ValueError) as err:
                # A malformed answer goes aside alone, so the rest of the batch is stored.
                self._write_aside([self._aside_row(entry)], err)
            time.sleep(0)
        if not rows:
            return
        attempt = 0
        while True:
            try:
                with self.engine.begin() as connection:
                    for start in range(0, len(rows), INSERT_ROWS):
                        connection.execute(insert(RecommendationRecord), rows[start : start + INSERT_ROWS])
                        time.sleep(0)
                self.written += len(rows)
                return
            except SQLAlchemyError as err:
                ids = ", ".join(row["id"] for row in rows[:3])
                if self._stopping.is_set() and attempt >= len(self.retry_delays_s):
                    self._write_aside(rows, err)
                    return
                delay = self.retry_delays_s[min(attempt, len(self.retry_delays_s) - 1)]
                logger.error("registry: storing %d recommendations (%s...) failed, retry in %.1f s: %s", len(rows), ids, delay, err)
                attempt += 1
                time.sleep(delay)

    def _aside_row(self, entry: tuple[str, datetime, dict[str, Any]]) -> dict[str, Any]:
        """Return the row of an answer for the aside file, or its id and the error when it cannot be built."""
        recommendation_id, recorded_at, answer = entry
        try:
            return recommendation_row(recommendation_id, recorded_at, answer, self.crs)
        except Exception as err:  # noqa: BLE001 - keep at least the id of a malformed answer
            return {"id": recommendation_id, "recorded_at": recorded_at, "error": f"{type(err).__name__}: {err}"}

    def _write_aside(self, rows: list[dict[str, Any]], err: Exception) -> None:
        self.unwritten_path.parent.mkdir(parents=True, exist_ok=True)
        with self.unwritten_path.open("a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        logger.error("registry: %d recommendations could not be stored (%s); written to %s", len(rows), err, self.unwritten_path)


def record_answer(context: Any, answer: dict[str, Any]) -> dict[str, Any]:
    """Give a live answer its recommendation id and queue it, when the service records answers.

    The answer must not change after this call: the writer thread reads it later.
    """
    recorder: Recorder | None = getattr(context, "registry_recorder", None)
    if recorder is not None:
        answer["recommendation_id"] = recorder.submit(answer)
    return answer

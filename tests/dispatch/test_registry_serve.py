"""``resurcor serve`` with the registry: answers queued during the run are all stored at shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from sqlalchemy import func, select

from dispatch.registry.models import RecommendationRecord
from dispatch.registry.store import make_engine

CALL = {"lat": 45.1885, "lon": 5.7245, "onset": "2008-01-10T08:30+01:00", "at": "2008-01-10T10:00+01:00"}
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_sigterm_stores_every_answer(settings, tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "RESURCOR_DATA_DIR": str(settings.data_dir),
        "RESURCOR_REGION_DIR": str(settings.region_dir),
        "RESURCOR_CACHE_DIR": str(settings.cache_dir),
        "RESURCOR_STATE_DIR": str(tmp_path),
    }
    environment.pop("RESURCOR_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        # Wait for the service, bounded.
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "resurcor serve did not start in time"
                time.sleep(0.2)

        ids = [post(f"http://127.0.0.1:{port}/api/v1/recommendations", CALL)["recommendation_id"] for _ in range(200)]
        # Stop at once: the last answers are still on the queue or in the 50 ms gathering window.
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then raises the captured signal again (seen in 0.55).
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stderr.close()

    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    with engine.connect() as connection:
        stored = set(connection.scalars(select(RecommendationRecord.id)))
        total = connection.scalar(select(func.count()).select_from(RecommendationRecord))
    engine.dispose()
    assert len(set(ids)) == 200
    assert stored == set(ids)
    assert total == 200

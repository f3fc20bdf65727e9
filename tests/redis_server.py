"""Throwaway redis-server processes for the outage and isolation tests.

Each server keeps nothing on disk, so stopping it loses every key, as a restart of a
Redis without persistence does. Its port is chosen at run time among ``PORTS``, so two
test runs on one machine each get their own server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

# Ports reserved for these servers; RESURCOR_TEST_REDIS_PORTS="first-last" sets another range.
_RANGE = os.environ.get("RESURCOR_TEST_REDIS_PORTS", "6396-6399")
PORTS = range(int(_RANGE.split("-")[0]), int(_RANGE.split("-")[1]) + 1)


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port`` and this process may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As redis-server does: a port left in TIME_WAIT by a stopped server is free to listen on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def closed_port() -> int:
    """Return a port of 127.0.0.1 where nothing listens, as a Redis that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server without persistence on the first free port of ``PORTS``."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._placeholder: socket.socket | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start on the port used before, or on the first free port; raise RuntimeError when none starts."""
        self._release_port()
        candidates = [self.port] if self.port is not None else [port for port in PORTS if port_is_free(port)]
        for port in candidates:
            if self._start_on(port):
                self.port = port
                return
        raise RuntimeError(f"no redis-server could start on 127.0.0.1 ports {PORTS.start}-{PORTS.stop - 1}; set RESURCOR_TEST_REDIS_PORTS")

    def _start_on(self, port: int) -> bool:
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                # A server that exits at once lost the port to another run between the check and the start.
                if process.poll() is not None:
                    return False
                try:
                    # Another run's server may answer on this port: only this process counts.
                    if int(client.info("server")["process_id"]) != process.pid:
                        break
                    self.process = process
                    return True
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        process.terminate()
        process.wait(timeout=10)
        return False

    def stop(self) -> None:
        """Stop the server and hold its port until ``start``, so another test run does not take it meanwhile."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
            self._hold_port()

    def close(self) -> None:
        """Stop the server for good and free its port."""
        self.stop()
        self._release_port()

    def _hold_port(self) -> None:
        # A listening socket makes the port look taken to port_is_free and to redis-server.
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            placeholder.bind(("127.0.0.1", self.port))
            placeholder.listen(1)
        except OSError:
            placeholder.close()
            return
        self._placeholder = placeholder

    def _release_port(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None


def started_server() -> RedisServer:
    """Return a started throwaway server; skip the test when redis-server is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the outage and isolation tests start their own")
    server = RedisServer()
    server.start()
    return server

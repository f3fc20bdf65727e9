"""Server-sent events from a real uvicorn server, and the CLI acting on it through --url."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import socket
import threading
import time

import pytest
import uvicorn

from dispatch.api import create_app
from dispatch.api_resources import GracefulServer
from dispatch.auth import Role, add_token
from dispatch.cli import main
from free_ports import listening_socket
from redis_server import closed_port

HOST = "127.0.0.1"


class LiveServer:
    """The service on a real socket, run by uvicorn in a thread."""

    def __init__(self, app):
        self.app = app
        self.socket = listening_socket(HOST)
        self.port = self.socket.getsockname()[1]
        self.server = GracefulServer(uvicorn.Config(app, host=HOST, port=self.port, log_level="warning", lifespan="on"), app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> float:
        """Ask the server to stop as SIGTERM does; return the seconds it took."""
        began = time.monotonic()
        self.server.handle_exit(signal.SIGTERM, None)
        self.thread.join(timeout=15)
        self.socket.close()
        return time.monotonic() - began


class EventReader:
    """Reads an event stream line by line in a thread."""

    def __init__(self, port: int, token: str):
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.connection.request("GET", "/api/v1/resources/events", headers={"Authorization": f"Bearer {token}"})
        self.response = self.connection.getresponse()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                self.lines.put(raw.decode("utf-8").rstrip("\n"))
        except (OSError, http.client.HTTPException):
            pass
        self.lines.put(None)

    def next_event(self, timeout_s: float = 10) -> dict:
        """Return the data of the next ``state`` event."""
        deadline = time.monotonic() + timeout_s
        event = None
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise AssertionError("the stream ended before a state event")
            if line == "event: state":
                event = "state"
            elif line.startswith("data: ") and event == "state":
                return json.loads(line[len("data: "):])
        raise AssertionError("no state event in time")

    def wait_line(self, wanted: str, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line == wanted:
                return
            if line is None:
                raise AssertionError(f"the stream ended before {wanted!r}")
        raise AssertionError(f"no {wanted!r} line in time")

    def ended(self, timeout_s: float = 10) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.lines.get(timeout=0.1) is None:
                    return True
            except queue.Empty:
                continue
        return False

    def close(self) -> None:
        # Shutting the socket down ends the reader's loop at end of stream, before the
        # connection object is torn down under it.
        if self.connection.sock is not None:
            try:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)
        self.connection.close()


@pytest.fixture()
def tokens(tmp_path):
    path = tmp_path / "tokens.yaml"
    return path, {role: add_token(path, f"{role.value}-desk", role) for role in Role}


@pytest.fixture()
def live(settings, context, tokens):
    path, made = tokens
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    app.state.sse_heartbeat_s = 0.3
    server = LiveServer(app)
    server.start()
    yield server, made
    if server.thread.is_alive():
        server.stop()


def _put(port: int, path: str, body: dict, token: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("PUT", path, body=json.dumps(body), headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def test_stream_sends_changes_and_heartbeats(live):
    server, made = live
    reader = EventReader(server.port, made[Role.PLANNER])
    try:
        assert reader.response.status == 200
        assert reader.response.getheader("content-type").startswith("text/event-stream")
        reader.wait_line(": connected")
        reader.wait_line("event: store")
        first_status = json.loads(reader.lines.get(timeout=5)[len("data: "):])
        assert first_status == {"name": "memory", "reachable": True, "since": None}
        status, _ = _put(server.port, "/api/v1/resources/helicopter/annecy-meythet-base", {"state": "grounded_weather"}, made[Role.REGULATOR])
        assert status == 200
        _put(server.port, "/api/v1/resources/cath_lab/annecy-change", {"state": "closed", "until": "08:00"}, made[Role.REGULATOR])
        first = reader.next_event()
        second = reader.next_event()
        assert (first["kind"], first["unit_id"], first["state"], first["set_by"]) == ("helicopter", "annecy-meythet-base", "grounded_weather", "regulator-desk")
        assert (second["kind"], second["state"]) == ("cath_lab", "closed")
        assert second["until"] is not None
        reader.wait_line(": heartbeat", timeout_s=5)
        reader.wait_line("event: store", timeout_s=1)
        assert json.loads(reader.lines.get(timeout=5)[len("data: "):])["reachable"] is True
    finally:
        reader.close()


def test_stream_needs_a_token(live):
    server, _ = live
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    connection.request("GET", "/api/v1/resources/events")
    response = connection.getresponse()
    assert response.status == 401
    assert json.loads(response.read())["error"]["code"] == "token_missing"
    connection.close()


def test_shutdown_ends_open_stream(live):
    server, made = live
    reader = EventReader(server.port, made[Role.PLANNER])
    try:
        reader.wait_line(": connected")
        took_s = server.stop()
        assert not server.thread.is_alive()
        assert took_s < 5
        assert reader.ended()
    finally:
        reader.close()


def test_cli_acts_through_url(live, capsys, monkeypatch):
    server, made = live
    url = f"http://{HOST}:{server.port}"
    monkeypatch.delenv("RESURCOR_REDIS_URL", raising=False)
    monkeypatch.setenv("RESURCOR_TOKEN", made[Role.REGULATOR])

    assert main(["resources", "claim", "smur", "annecy-change", "--call-id", "c-77", "--url", url]) == 0
    assert "c-77" in capsys.readouterr().out

    assert main(["resources", "claim", "smur", "annecy-change", "--call-id", "c-78", "--url", url]) == 1
    assert "c-77" in capsys.readouterr().err

    assert main(["resources", "set", "cath_lab", "annecy-change", "closed", "--url", url, "--token", made[Role.ADMIN]]) == 0
    capsys.readouterr()
    assert main(["resources", "list", "--json", "--url", url]) == 0
    units = {(u["kind"], u["unit_id"]): u for u in json.loads(capsys.readouterr().out)["units"]}
    assert units[("cath_lab", "annecy-change")]["set_by"] == "admin-desk"
    assert units[("smur", "annecy-change")]["call_id"] == "c-77"

    assert main(["resources", "set", "cath_lab", "annecy-change", "closed", "--url", url, "--token", made[Role.PLANNER]]) == 1
    assert "planner" in capsys.readouterr().err
    assert main(["resources", "set", "cath_lab", "nowhere", "closed", "--url", url]) == 2
    assert "annecy-change" in capsys.readouterr().err


@pytest.fixture()
def single_desk_live(settings, context):
    server = LiveServer(create_app(settings, context=context))
    server.start()
    yield server
    if server.thread.is_alive():
        server.stop()


def test_cli_by_reaches_single_desk(single_desk_live, capsys, monkeypatch):
    url = f"http://{HOST}:{single_desk_live.port}"
    monkeypatch.delenv("RESURCOR_REDIS_URL", raising=False)
    monkeypatch.delenv("RESURCOR_TOKEN", raising=False)

    assert main(["resources", "claim", "smur", "annecy-change", "--call-id", "c-77", "--by", "desk-a", "--url", url]) == 0
    assert "desk-a" in capsys.readouterr().out
    assert main(["resources", "claim", "smur", "annecy-change", "--call-id", "c-78", "--by", "desk-b", "--url", url]) == 1
    assert "desk-a" in capsys.readouterr().err
    assert main(["resources", "set", "cath_lab", "annecy-change", "closed", "--by", "cors-74", "--url", url]) == 0
    assert "cors-74" in capsys.readouterr().out


def test_cli_reports_unreachable_service(capsys):
    port = closed_port()
    assert main(["resources", "list", "--url", f"http://{HOST}:{port}"]) == 1
    assert str(port) in capsys.readouterr().err

"""The /planning page and API: a run in a child process, its status, files and errors."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app

POLL_LIMIT_S = 240


@pytest.fixture(scope="module")
def client(settings, context):
    with TestClient(create_app(settings, context=context)) as test_client:
        yield test_client


def _wait(client, url: str) -> dict:
    deadline = time.monotonic() + POLL_LIMIT_S
    while time.monotonic() < deadline:
        status = client.get(url).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"planning run at {url} did not end within {POLL_LIMIT_S} s")


def test_page_served_in_french(client):
    response = client.get("/planning")
    assert response.status_code == 200
    assert "Scénarios de planification" in response.text
    assert "http" not in response.text.split("<script>")[0].lower().replace('http-equiv', '')


def test_page_in_english(client):
    assert "Planning scenarios" in client.get("/planning?lang=en").text


def test_examples_listed(client):
    examples = client.get("/api/v1/planning/scenarios").json()
    assert {"winter-peak.yaml", "annecy-cath-lab-closed-night.yaml"} <= {e["file"] for e in examples}


def test_run_with_comparison_writes_maps(client):
    started = client.post(
        "/api/v1/planning/runs", json={"scenario": "winter-peak.yaml", "compare": "annecy-cath-lab-closed-night.yaml", "calls": 2000}
    )
    assert started.status_code == 202
    status = _wait(client, started.json()["status_url"])
    assert status["state"] == "done", status.get("error")
    assert status["summary"]["simulation"]["calls"] == 2000
    assert "compare" in status["summary"]
    for name in ("map_diagnosis_to_wire.png", "map_difference.png", "report.html", "communes.csv"):
        response = client.get(status["files"][name])
        assert response.status_code == 200
    assert client.get(status["files"]["map_difference.png"]).content[:4] == b"\x89PNG"


def test_service_answers_during_run(client):
    started = client.post("/api/v1/planning/runs", json={"scenario": "summer-peak.yaml", "calls": 20000})
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    recommendation = client.post("/api/v1/recommendations", json={"commune": "Chamonix", "onset": "2026-02-14T08:30+01:00", "at": "2026-02-14T10:00+01:00"})
    assert recommendation.status_code == 200
    assert _wait(client, started.json()["status_url"])["state"] == "done"


def test_posted_yaml_extends_example(client):
    text = "extends: winter-peak.yaml\nname: posted\nsmur: {availability: 0.5}\n"
    started = client.post("/api/v1/planning/runs", json={"scenario": text, "calls": 500})
    assert started.status_code == 202
    assert started.json()["scenarios"] == ["posted"]
    assert _wait(client, started.json()["status_url"])["state"] == "done"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"scenario": "name: x\n"}, "period", "scenario_missing_key"),
        ({"scenario": "extends: winter-peak.yaml\nname: x\nsmur: {availability: 2}\n"}, "smur.availability", "scenario_less_than_equal"),
        ({"scenario": "extends: ../pyproject.toml\nname: x\n"}, "extends", "scenario_not_found"),
        ({"scenario": "extends: winter-peak.yaml\nname: x\npopulation: {tourist_beds: /etc/hosts}\n"}, "population.tourist_beds", "scenario_path_forbidden"),
        ({"scenario": "winter-peak.yaml", "calls": 0}, "calls", "field_invalid"),
        ({"scenario": "extends: winter-peak.yaml\nname: x\nperiod: {start: 2027-02-30}\n"}, "period.start", "scenario_date_from_datetime_parsing"),
        ({"scenario": "name: x\nperiod: [unclosed\n"}, "scenario", "scenario_yaml"),
    ],
)
def test_bad_run_is_422_naming_key(client, body, field, code):
    response = client.post("/api/v1/planning/runs", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] == code


def test_unknown_run_is_422(client):
    response = client.get("/api/v1/planning/runs/nope")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "planning_job_unknown"


def test_planner_permission_required(settings, context, tmp_path):
    from dispatch.auth import Role, add_token

    tokens = tmp_path / "tokens.yaml"
    regulator = add_token(tokens, "desk", Role.REGULATOR)
    planner = add_token(tokens, "planner", Role.PLANNER)
    with TestClient(create_app(settings.model_copy(update={"tokens_file": tokens}), context=context)) as secured:
        assert secured.get("/api/v1/planning/scenarios").status_code == 401
        assert secured.get("/api/v1/planning/scenarios", headers={"authorization": f"Bearer {regulator}"}).status_code == 403
        assert secured.get("/api/v1/planning/scenarios", headers={"authorization": f"Bearer {planner}"}).status_code == 200


def test_closing_runner_ends_child(settings):
    from pathlib import Path

    from dispatch.planning.jobs import PlanningJobs

    jobs = PlanningJobs(settings, Path(__file__).resolve().parents[2] / "scenarios")
    job = jobs.submit("winter-peak.yaml", None, 1_000_000, "en")
    deadline = time.monotonic() + 60
    while job.process is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.process is not None
    jobs.close()
    assert job.process.exitcode is not None
    # The job's thread returns once its process has ended, which close() has waited for;
    # the generous timeout covers a machine loaded by other test runs.
    job.thread.join(timeout=60)
    assert not job.thread.is_alive()
    assert not job.pending

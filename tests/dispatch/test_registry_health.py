"""``GET /api/v1/health`` reports the registry database: backend, reachable, writes pending."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dispatch.api import create_app
from registry_support import create_postgres_database, drop_postgres_database

CALL = {"lat": 45.92412, "lon": 6.86987, "onset": "2008-06-14T08:30+02:00", "at": "2008-06-14T10:00+02:00", "age": 62}


def test_health_sqlite_registry_ok(settings, context, tmp_path: Path):
    app = create_app(settings.model_copy(update={"state_dir": tmp_path}), context=context)
    with TestClient(app) as client:
        body = client.get("/api/v1/health").json()

    assert body["status"] == "ok"
    assert body["registry"]["backend"] == "sqlite"
    assert body["registry"]["reachable"] is True
    assert body["registry"]["pending_writes"] == 0
    assert body["registry"]["error"] is None
    assert body["resources"]["reachable"] is True


def test_health_registry_never_opened(settings, context, tmp_path: Path):
    # Nothing listens on port 1: the registry cannot be opened at start-up.
    broken = settings.model_copy(update={"state_dir": tmp_path, "database_url": "postgresql://postgres@127.0.0.1:1/none"})
    with TestClient(create_app(broken, context=context)) as client:
        response = client.get("/api/v1/health?lang=en")
        french = client.get("/api/v1/health?lang=fr").json()

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["registry"]["backend"] == "postgresql"
    assert body["registry"]["reachable"] is False
    assert body["registry"]["error"] == "registry_unreachable"
    assert "registry database is unreachable" in body["message"]
    assert "base du registre est injoignable" in french["message"]
    # The resource store is still reported beside it.
    assert body["resources"]["reachable"] is True


def test_health_postgresql_database_lost(settings, context, tmp_path: Path, postgres_url):
    name, url = create_postgres_database(postgres_url)
    try:
        app = create_app(settings.model_copy(update={"state_dir": tmp_path, "database_url": url}), context=context)
        with TestClient(app) as client:
            recorder = client.app.state.context.registry_recorder
            recorder.retry_delays_s = (0.05,)
            assert client.get("/api/v1/health").json()["registry"] == {
                "backend": "postgresql", "reachable": True, "recording": True, "pending_writes": 0, "error": None,
            }

            # The database disappears under the running service: responses queue up.
            drop_postgres_database(postgres_url, name)
            assert client.post("/api/v1/recommendations", json=CALL).status_code == 200
            lost = client.get("/api/v1/health")

            assert lost.status_code == 200
            assert lost.json()["status"] == "degraded"
            assert lost.json()["registry"]["reachable"] is False
            assert lost.json()["registry"]["error"] == "registry_unreachable"
            assert lost.json()["registry"]["pending_writes"] >= 1
    finally:
        drop_postgres_database(postgres_url, name)

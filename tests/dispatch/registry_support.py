"""Shared test support for the registry: an empty registry on SQLite or on PostgreSQL.

Every test that takes ``registry_engine`` runs twice, once per backend. The PostgreSQL
database is created for the test (``resurcor_test_<random>``) and dropped after it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dispatch.registry.store import make_engine, upgrade


def create_postgres_database(base_url: str) -> tuple[str, str]:
    """Create an empty database on the server of ``base_url``; return its name and SQLAlchemy URL."""
    name = f"resurcor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, name: str) -> None:
    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path):
    """The URL of an empty database (no tables), on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite3'}"
        return
    base_url = request.getfixturevalue("postgres_url")
    name, url = create_postgres_database(base_url)
    try:
        yield url
    finally:
        drop_postgres_database(base_url, name)


@pytest.fixture
def registry_engine(registry_url: str):
    """An engine on a registry upgraded to the shipped schema."""
    engine = make_engine(registry_url)
    upgrade(engine)
    yield engine
    engine.dispose()

"""The registry database: URL from the settings, engine, Alembic upgrade, transactions.

SQLite by default (a file in the service's own state directory, created on first use),
PostgreSQL for a network through ``RESURCOR_DATABASE_URL``. The schema is created and
upgraded only by the Alembic migrations shipped in this package.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from dispatch.settings import Settings
from geodata.errors import DataError, InputError

logger = logging.getLogger(__name__)

SQLITE_FILE_NAME = "registry.sqlite3"
# Seconds a PostgreSQL connection attempt may take, unless the URL sets connect_timeout.
CONNECT_TIMEOUT_S = 5


class RegistryError(DataError):
    """The registry database URL is invalid, or the database cannot be opened or written."""


class RegistryInputError(RegistryError, InputError):
    """A file given to the registry is rejected whole: the user must correct it (exit status 2)."""


def database_url(settings: Settings) -> str:
    """Return the registry's SQLAlchemy URL: the setting, or the SQLite file in the state directory."""
    if settings.database_url:
        url = settings.database_url
        # psycopg (version 3) is the project's PostgreSQL driver; a plain postgresql:// URL means it.
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{settings.state_dir / SQLITE_FILE_NAME}"


def _configure_sqlite(dbapi_connection, _record) -> None:  # noqa: ANN001
    # Write-ahead logging lets the report read while the recorder or an import writes, and
    # a writer waits up to 10 s for another instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _json_text(value: Any) -> str:
    # orjson is several times faster than json.dumps on a whole recommendation answer.
    return orjson.dumps(value).decode("utf-8")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; raise RegistryError naming RESURCOR_DATABASE_URL when it is invalid."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise RegistryError("registry_url_invalid", f"invalid database URL {url!r}: {err}", field="RESURCOR_DATABASE_URL", url=url) from err
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=_json_text)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # A server that does not answer fails a connection after CONNECT_TIMEOUT_S instead of
    # the system's TCP timeout (minutes), so a health check or a command stays short.
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query else {}
    try:
        return create_engine(parsed, pool_pre_ping=True, json_serializer=_json_text, connect_args=connect_args)
    except (ArgumentError, ImportError) as err:
        raise RegistryError("registry_url_invalid", f"invalid database URL {url!r}: {err}", field="RESURCOR_DATABASE_URL", url=url) from err


def alembic_config() -> Config:
    """Return the Alembic configuration of the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("dispatch.registry").joinpath("migrations")))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Create or upgrade the registry's tables to the shipped head revision; return it."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as err:
        raise _unreachable(engine, err) from err
    revision = head_revision()
    logger.info("registry schema at revision %s on %s", revision, engine.url.render_as_string(hide_password=True))
    return revision


def open_registry(settings: Settings) -> Engine:
    """Return an engine on the registry, creating or upgrading its schema first."""
    engine = make_engine(database_url(settings))
    try:
        upgrade(engine)
    except RegistryError:
        engine.dispose()
        raise
    return engine


def is_reachable(engine: Engine) -> bool:
    """Return whether the registry database answers a query now."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        return False
    return True


def _unreachable(engine: Engine, err: SQLAlchemyError) -> RegistryError:
    url = engine.url.render_as_string(hide_password=True)
    return RegistryError(
        "registry_unreachable",
        f"the registry database {url} cannot be opened: {err.orig if hasattr(err, 'orig') else err}",
        field="RESURCOR_DATABASE_URL",
        url=url,
        detail=str(getattr(err, "orig", err)).strip(),
    )

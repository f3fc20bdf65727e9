"""Alembic environment: runs the registry's migrations on the connection the caller passes.

``dispatch.registry.store.upgrade`` passes an open connection in
``config.attributes["connection"]``; the ``alembic`` command line passes a URL in
``sqlalchemy.url`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dispatch.registry.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001
    # SQLite cannot alter a table in place: batch mode copies it, as later migrations need.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as opened:
        _run(opened)
    engine.dispose()

"""Alembic environment: always runs on a connection handed in by surveyor.store.db."""

from __future__ import annotations

from alembic import context

from surveyor.store.models import TABLES

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a bare `alembic` CLI call
    raise RuntimeError("run migrations through surveyor (surveyor.store.db), not bare alembic")

context.configure(
    connection=connection,
    target_metadata=TABLES,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

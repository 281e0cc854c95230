"""Alembic environment: runs on the connection dudao hands over (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context

from storage.migrate import include_name
from storage.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:  # pragma: no cover - `alembic` CLI use by developers
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()

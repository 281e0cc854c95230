"""INSERT … ON CONFLICT on both supported databases.

SQLite and PostgreSQL spell it the same way, but SQLAlchemy builds it from each dialect's own
``insert``: ``dialect_insert`` picks it (for ``ON CONFLICT DO UPDATE`` upserts).
``insert_ignoring_conflicts`` statements are cached per (dialect, table, conflict columns,
RETURNING columns): they sit on hot paths (every inbound message, every reminder claim), where
building a statement costs about ten times as much as executing a prebuilt one
(bench/README.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn: Connection, model: Any) -> Any:
    """``model``'s INSERT in the connection's dialect, which has ``on_conflict_do_update``."""
    return _insert_fn(conn.dialect.name)(model)


def _insert_fn(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    # storage/db.py accepts only these two
    raise NotImplementedError(f"ON CONFLICT is not supported on {dialect}")  # pragma: no cover


def insert_ignoring_conflicts(conn: Connection, model: Any, conflict: tuple[str, ...],
                              returning: tuple[str, ...] = ()) -> Any:
    """A prebuilt ``INSERT … ON CONFLICT (conflict) DO NOTHING [RETURNING returning]``.

    With RETURNING, only the rows this statement inserted come back, which is how callers learn
    whether they won a race (a reminder claim, a message first seen).
    """
    return _build(conn.dialect.name, model, conflict, returning)


@lru_cache(maxsize=64)
def _build(dialect: str, model: Any, conflict: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    stmt = _insert_fn(dialect)(model).on_conflict_do_nothing(index_elements=list(conflict))
    if returning:
        stmt = stmt.returning(*(getattr(model, c) for c in returning),
                              sort_by_parameter_order=False)
    return stmt

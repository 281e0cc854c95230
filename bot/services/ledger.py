"""Claiming ledger rows: the one mechanism behind "sent once, even across processes".

A scheduled message is written in the same transaction as the ledger row that records it, and
the row's unique key decides who writes it: ``INSERT … ON CONFLICT DO NOTHING … RETURNING``
returns only the rows this transaction inserted. On PostgreSQL a concurrent insert of the same
key waits for the first transaction and then does nothing; SQLite serialises writers with
BEGIN IMMEDIATE. So a repeated tick, a restart or a second process finds the row and sends
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from storage.upsert import insert_ignoring_conflicts


def insert_new(conn: Connection, model: Any, keys: Sequence[str],
               values: Sequence[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Insert ``values`` into ``model``'s table, skipping rows whose ``keys`` already exist.

    Returns the key tuples (in ``keys`` order) of the rows this call inserted.
    """
    if not values:
        return set()
    # One cached statement executed for many rows: SQLAlchemy's "insertmanyvalues" batches
    # them into multi-row INSERT … RETURNING on both drivers, and returns only inserted rows.
    stmt = insert_ignoring_conflicts(conn, model, tuple(keys), returning=tuple(keys))
    return {tuple(row) for row in conn.execute(stmt, list(values))}

"""Transaction-scoped PostgreSQL advisory locks, with every key in one place.

Several `dudao serve` processes may share one PostgreSQL database; where two of them must not do
the same one-off work at once (upgrade the schema, seed a fresh database, draft the weekly
bulletin, mark passed deadlines), the work runs under one of these locks, released at commit.
On SQLite one writer runs at a time already (BEGIN IMMEDIATE), so both calls are no-ops there.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import Connection, text


class LockKey(IntEnum):
    SCHEMA_UPGRADE = 0x6475_0000
    WEEKLY_BULLETIN = 0x6475_0001
    DAILY_DIGEST = 0x6475_0002
    PASSED_DEADLINES = 0x6475_0003
    FIRST_START_SEED = 0x6475_0004
    # Session-level, not transaction-level: held for a process's life (storage/service_lock.py).
    SERVICE = 0x6475_0005


def hold(conn: Connection, key: LockKey) -> None:
    """Wait for the lock; it is held until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(key)})


def try_hold(conn: Connection, key: LockKey) -> bool:
    """Take the lock if free (until this transaction ends); False if another holds it."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                             {"k": int(key)}).scalar_one())

"""The board's login limit: attempts per address and per login name, shared by every process.

An attempt is *reserved* before its password is checked, so parallel requests cannot all be
checked against a count none of them has raised yet (500 concurrent guesses were all checked
when the count was read first and raised after the check). For each key one atomic statement
counts the attempt only while the count stays within the limit, the way the WeChat quotas are
counted (``bot/services/api_quota.py``)::

    INSERT INTO login_attempts (key, window_start, used) VALUES (:key, :now, 1)
    ON CONFLICT (key) DO UPDATE SET
        used = CASE WHEN window_start <= :cutoff THEN 1 ELSE used + 1 END,
        window_start = CASE WHEN window_start <= :cutoff THEN :now ELSE window_start END
    WHERE window_start <= :cutoff OR used < :limit
    RETURNING used

A row back means the attempt may go ahead. On PostgreSQL a concurrent upsert of the same key
waits for the row lock and then evaluates its WHERE against the committed count; SQLite takes the
write lock at BEGIN (``storage/db.py``). The window is a minute from the first attempt in it.
Both keys (address, then login name: always in that order, so two transactions never wait on
each other in a cycle) are reserved in one transaction; a refusal of either counts neither.
A successful login gives its reservation back: failed attempts are what the limit counts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, delete, select, update

from storage.models import LoginAttempts
from storage.upsert import dialect_insert

WINDOW = timedelta(seconds=60)
# Rows of keys idle this long are deleted now and then (an attacker trying many names or
# addresses must not grow the table without bound).
STALE = timedelta(hours=1)


class TooManyAttempts(Exception):
    """The limit of one of the keys is used up; the caller's transaction must roll back."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"login limit reached; retry after {retry_after} s")
        self.retry_after = retry_after


def keys_for(address: str, login: str) -> tuple[str, str]:
    """The two keys an attempt counts against: the client address and the login name (hashed:
    the table holds no names, and any name fits the column)."""
    name = hashlib.sha256(login.strip().casefold().encode()).hexdigest()[:40]
    return f"addr:{address[:64]}", f"login:{name}"


def reserve(conn: Connection, keys: Sequence[str], *, limit: int, now: datetime) -> None:
    """Count one attempt against every key, or raise :class:`TooManyAttempts` (with the seconds
    until the first refusing key's window ends) and let the transaction roll back."""
    t = LoginAttempts.__table__
    cutoff = now - WINDOW
    for key in keys:
        ins = dialect_insert(conn, LoginAttempts).values(key=key, window_start=now, used=1)
        expired = t.c.window_start <= cutoff
        stmt = ins.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={"used": case((expired, 1), else_=t.c.used + 1),
                  "window_start": case((expired, ins.excluded.window_start),
                                       else_=t.c.window_start)},
            where=expired | (t.c.used < limit),
        ).returning(t.c.used)
        if conn.execute(stmt).first() is None:
            start = conn.execute(select(LoginAttempts.window_start)
                                 .where(LoginAttempts.key == key)).scalar_one()
            raise TooManyAttempts(max(1, math.ceil((start + WINDOW - now).total_seconds())))


def give_back(conn: Connection, keys: Sequence[str]) -> None:
    """Return the reservation of an attempt that succeeded."""
    conn.execute(update(LoginAttempts).where(LoginAttempts.key.in_(list(keys)),
                                             LoginAttempts.used > 0)
                 .values(used=LoginAttempts.used - 1))


def forget_stale(conn: Connection, *, now: datetime) -> int:
    """Delete the rows of keys idle for an hour. Rows another transaction holds are skipped
    (``SKIP LOCKED``): this never waits, so it never takes part in a deadlock."""
    stale = (select(LoginAttempts.key).where(LoginAttempts.window_start < now - STALE)
             .limit(1000).with_for_update(skip_locked=True))
    result = conn.execute(delete(LoginAttempts).where(LoginAttempts.key.in_(stale)))
    return int(result.rowcount or 0)

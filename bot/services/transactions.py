"""How one piece of work runs inside a shared transaction, and what a database failure means.

The dispatcher commits a whole batch of events at once; each event's work runs in its own
savepoint (``isolated``), so a failing event rolls back alone, and runs once more when another
process's transaction got in the way (a deadlock, a serialization failure, two processes
numbering the same thing). ``DatabaseUnavailable`` (raised by ``Database.run``) and
``connection_lost`` tell a lost database apart from a failing handler: the first fails the
whole batch ("系统繁忙"), the second only its event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from storage.db import DatabaseUnavailable, is_transient_conflict, savepoint

log = logging.getLogger("dudao.dispatch")

__all__ = ["DatabaseUnavailable", "connection_lost", "isolated"]


def isolated(conn: Connection, work: Callable[[], None], *, retries: int, what: str,
             before_retry: Callable[[], None]) -> None:
    """Run ``work`` (the event ``what``) in a savepoint; after a transient conflict call
    ``before_retry`` (to drop what the attempt produced) and run it again, at most ``retries``
    more times."""
    for attempt in range(1, retries + 2):
        try:
            with savepoint(conn):
                work()
            return
        except DBAPIError as exc:
            if attempt > retries or not is_transient_conflict(exc):
                raise
            log.info("event %s met a concurrent write (%s); trying again", what,
                     getattr(exc.orig, "sqlstate", "?"))
            before_retry()


def connection_lost(exc: BaseException, conn: Connection) -> bool:
    """Whether ``exc`` means the database went away (not that the work itself failed)."""
    return isinstance(exc, DatabaseUnavailable) or (
        isinstance(exc, DBAPIError) and (exc.connection_invalidated or conn.invalidated))

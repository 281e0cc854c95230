"""Engine, connection pragmas and the way every unit of work runs.

Why synchronous transactions on a DB thread instead of SQLAlchemy's asyncio extension: measured
on the project's 2-core machine, a 3-statement transaction costs ~1,700 µs through
``sqlite+aiosqlite`` (one thread hop per statement plus greenlet switches) and ~130 µs as plain
synchronous SQLAlchemy Core; the bench README shows the same effect (aiosqlite ×4 CPU per event).
So a unit of work is a plain function ``fn(conn) -> T`` that runs as ONE transaction on a worker
thread: one hop per unit of work, not per statement. SQLite gets a single worker (it has one
writer anyway, and this removes "database is locked" inside a process); PostgreSQL gets a pool
of ``pool_size`` workers over psycopg 3. The event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool

log = logging.getLogger("dudao.db")

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database could not be reached or refused to commit; nothing was acknowledged."""


def normalise_url(url: str) -> URL:
    """Accept the URLs people write and pick the driver this code runs on."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r} (sqlite or postgresql)")


def make_engine(url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 5) -> Engine:
    u = normalise_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            u,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            poolclass=QueuePool,
            pool_size=2,
            max_overflow=2,
        )
        _install_sqlite_pragmas(engine, busy_timeout_ms)
        return engine
    return create_engine(
        u,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a restarted PostgreSQL leaves dead pooled connections behind
        pool_timeout=10,
        # Named, so that `dudao restore` (and an operator reading pg_stat_activity) can tell
        # what is connected to the database.
        connect_args={"connect_timeout": 5, "application_name": "dudao"},
    )


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is disabled so SAVEPOINTs and BEGIN IMMEDIATE work
        # as written (SQLAlchemy's documented recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock at BEGIN, so two processes wait on busy_timeout instead
        # of failing with SQLITE_BUSY when a reader tries to upgrade to a writer mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and the worker threads that run units of work."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        workers = 1 if self.is_sqlite else max(1, pool_size)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dudao-db")
        self._closed = False
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def transaction(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction on the calling thread (CLI and worker threads)."""
        try:
            with self.engine.begin() as conn:
                return fn(conn)
        except (OperationalError, DBAPIError) as exc:
            if _is_connectivity_error(exc):
                raise DatabaseUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc
            raise

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` as one transaction on a DB worker thread and await its result."""
        if self._closed:
            raise DatabaseUnavailable("database closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.transaction, fn)

    async def ping(self) -> bool:
        def _ping(conn: Connection) -> bool:
            conn.exec_driver_sql("SELECT 1")
            return True

        try:
            return await self.run(_ping)
        except Exception:
            return False

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._executor.shutdown(wait=True)
        self.engine.dispose()


@contextmanager
def savepoint(conn: Connection, name: str = "dudao_unit") -> Iterator[None]:
    """A SAVEPOINT around one piece of work inside the open transaction, rolled back on error.

    The dispatcher takes one per inbound event. ``Connection.begin_nested()`` compiles a new
    SAVEPOINT clause every time (≈42 µs here, the largest single cost of handling a message);
    the same SQL as plain text costs ≈11 µs. Savepoints with one name nest like a stack on both
    SQLite and PostgreSQL, and SQLAlchemy's own nested transactions inside still work.
    """
    conn.exec_driver_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
        conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
        raise
    conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")


# PostgreSQL SQLSTATEs of conflicts between concurrent transactions that a retry resolves:
# deadlock detected, serialization failure, unique violation (two processes numbering the same
# thing at once).
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "23505"})


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether the error is another transaction getting in the way, worth one more try."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


def _is_connectivity_error(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    text = str(exc.orig or exc).lower()
    markers = (
        "connection",
        "could not connect",
        "server closed",
        "terminating",
        "database is locked",
        "unable to open",
        "disk i/o",
        "the database system is",
    )
    return any(m in text for m in markers)

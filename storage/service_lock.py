"""Who holds the database: every dudao process shares it, a restore takes it alone.

``dudao serve``, ``dudao console`` and the admin commands hold a *shared* lock on their database
for as long as they have it open; ``dudao restore`` takes it *exclusively* and without waiting, so
it refuses to replace a database that any of them is using, and none of them starts while a
restore runs. The lock is the operating system's or the database server's, never a marker file
or a row that a crashed process could leave behind:

- SQLite: ``flock`` on ``<database>.lock`` next to the database file. The kernel drops it when the
  holding process exits, however it exits (``kill -9`` included).
- PostgreSQL: a session-level advisory lock (``LockKey.SERVICE`` in storage/locks.py) on a
  dedicated connection; the server drops it when that session ends. Several ``dudao serve``
  processes share one database, so they all hold it shared. If the server restarts, the session
  is gone and ``keep()`` takes the lock again on a new one; in that window the other check of
  ``exclusive()`` still sees the service: it also refuses while any other session is connected
  to the database (a service's pool reconnects within seconds).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import make_url

from storage.db import normalise_url
from storage.locks import LockKey

log = logging.getLogger("dudao.db")

APPLICATION_NAME = "dudao"


class LockError(Exception):
    """The lock could not be taken: the database could not be reached (or the lock file opened)."""


class LockBusy(LockError):
    """The lock is held by another process.

    ``restoring`` is True when a restore holds the database (a shared lock was refused);
    ``holders`` names what else is connected (PostgreSQL: application names and counts).
    """

    def __init__(self, message: str, *, restoring: bool, holders: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.restoring = restoring
        self.holders = holders


class ServiceLock(Protocol):
    def keep(self) -> None:
        """Make sure the lock is still held (PostgreSQL: after a lost connection)."""

    def release(self) -> None: ...


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for an in-memory database or another backend."""
    u = normalise_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def lock_path(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".lock")


def take_shared(url: str) -> ServiceLock:
    """The lock of a process that uses the database. Raises LockBusy while a restore runs."""
    return _take(url, shared=True)


def take_exclusive(url: str) -> ServiceLock:
    """The lock of a restore. Raises LockBusy while any dudao process (or session) uses it."""
    return _take(url, shared=False)


def _take(url: str, *, shared: bool) -> ServiceLock:
    backend = normalise_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        return _NoLock() if path is None else _FileLock(lock_path(path), shared=shared)
    return _AdvisoryLock(url, shared=shared)


class _NoLock:
    """An in-memory SQLite database belongs to one process: nothing to share."""

    def keep(self) -> None:
        pass

    def release(self) -> None:
        pass


class _FileLock:
    def __init__(self, path: Path, *, shared: bool) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockError(f"cannot open the lock file {path}: {exc}") from exc
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if shared:
                raise LockBusy(f"{path} is held exclusively (a restore is running)",
                               restoring=True) from None
            raise LockBusy(f"{path} is held by a running dudao process", restoring=False,
                           holders=("dudao",)) from None
        except OSError as exc:  # a file system without flock
            os.close(fd)
            raise LockError(f"cannot lock {path}: {exc}") from exc
        self._fd: int | None = fd

    def keep(self) -> None:
        pass  # held by the kernel until released or the process exits

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def _dsn(url: str, application: str) -> str:
    """A libpq URI for psycopg, naming the session (as ``pg_stat_activity`` shows it)."""
    u = make_url(url).set(drivername="postgresql")
    return u.update_query_dict({"application_name": application}).render_as_string(
        hide_password=False)


class _AdvisoryLock:
    def __init__(self, url: str, *, shared: bool) -> None:
        self._dsn = _dsn(url, APPLICATION_NAME + ("" if shared else "-restore"))
        self._shared = shared
        self._conn: Any = None
        # keep() runs on a worker thread; release() must not race it into a fresh session.
        self._mutex = threading.Lock()
        self._released = False
        self._take()

    def _take(self) -> None:
        import psycopg

        try:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise LockError(f"cannot connect to the database to take its lock: {exc}") from exc
        try:
            fn = "pg_try_advisory_lock_shared" if self._shared else "pg_try_advisory_lock"
            got = conn.execute(f"SELECT {fn}(%s)", (int(LockKey.SERVICE),)).fetchone()
            if not (got and got[0]):
                if self._shared:
                    raise LockBusy("the database is held exclusively (a restore is running)",
                                   restoring=True)
                raise LockBusy("the database is held by a running dudao process",
                               restoring=False, holders=("dudao",))
            if not self._shared:
                others = _other_sessions(conn)
                if others:
                    raise LockBusy("other sessions are connected to the database: "
                                   + ", ".join(others), restoring=False, holders=others)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def keep(self) -> None:
        with self._mutex:
            if self._released:
                return
            conn = self._conn
            if conn is not None:
                try:
                    conn.execute("SELECT 1")
                    return
                except Exception:  # the server restarted or the connection broke: lock gone
                    with contextlib.suppress(Exception):
                        conn.close()
                    self._conn = None
            try:
                self._take()
                log.info("database service lock taken again after a lost connection")
            except Exception as exc:
                log.warning("database service lock not held (will retry): %s", exc)

    def release(self) -> None:
        with self._mutex:
            self._released = True
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()  # ending the session releases its advisory locks


def _other_sessions(conn: Any) -> tuple[str, ...]:
    """Client sessions on this database other than ours, as "name ×count"."""
    rows = conn.execute(
        "SELECT coalesce(nullif(application_name, ''), 'unnamed'), count(*)"
        " FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'"
        " GROUP BY 1 ORDER BY 1").fetchall()
    return tuple(f"{name} ×{n}" for name, n in rows)

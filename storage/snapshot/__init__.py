"""A consistent copy of the database, what it holds, and putting a copy back.

Backups are archives of two things: a copy of the database and the attachment files it refers to
(bot/services/backup.py). This package is the database half, for both backends (``sqlite``: the
online backup API; ``postgres``: pg_dump, pg_restore and psql):

- :func:`take` writes a copy of the live database to a file and returns, read in the *same*
  transaction as the copy, the schema revision, the row count of every table and the sha256 of
  every attachment the database refers to;
- :func:`inspect` opens such a copy and reads its revision and row counts, to verify it;
- :func:`has_data` says whether a database already holds anything;
- :func:`place` replaces the configured database with a copy.
"""

from __future__ import annotations

from pathlib import Path

from storage.db import normalise_url
from storage.snapshot import postgres, sqlite
from storage.snapshot.common import (
    POSTGRESQL,
    REVISION_TABLE,
    SQLITE,
    CopyInfo,
    Progress,
    Snapshot,
    SnapshotError,
    ToolMissing,
)

__all__ = [
    "POSTGRESQL",
    "REVISION_TABLE",
    "SQLITE",
    "CopyInfo",
    "Progress",
    "Snapshot",
    "SnapshotError",
    "ToolMissing",
    "copy_name",
    "dialect_of",
    "exists",
    "has_data",
    "inspect",
    "place",
    "take",
]


def dialect_of(url: str) -> str:
    return SQLITE if normalise_url(url).get_backend_name() == "sqlite" else POSTGRESQL


def copy_name(dialect: str) -> str:
    """The file name of a copy: a SQLite database, or a pg_dump custom-format archive."""
    return "dudao.db" if dialect == SQLITE else "dudao.pgdump"


def take(url: str, dest: Path, *, progress: Progress | None = None,
         busy_timeout_ms: int = 5000) -> Snapshot:
    """Copy the live database at ``url`` to ``dest`` (consistent while other processes write)."""
    if dialect_of(url) == SQLITE:
        return sqlite.take(_sqlite_file(url), dest, progress=progress,
                           busy_timeout_ms=busy_timeout_ms)
    return postgres.take(url, dest)


def inspect(dialect: str, copy: Path, *, schema: str | None = None) -> CopyInfo:
    """Open a copy and read its schema revision and row counts; SnapshotError if unreadable."""
    if dialect == SQLITE:
        return sqlite.inspect(copy)
    return postgres.inspect(copy, schema=schema)


def exists(url: str) -> bool:
    """Whether there is a database to copy (SQLite: the file; a PostgreSQL server: assumed)."""
    return dialect_of(url) != SQLITE or _sqlite_file(url).is_file()


def has_data(url: str) -> bool:
    """Whether the database exists and any of its tables (the revision aside) has a row."""
    if dialect_of(url) == SQLITE:
        return sqlite.has_data(_sqlite_file(url))
    return postgres.has_data(url)


def place(url: str, copy: Path, *, stamp: str) -> Path | None:
    """Make ``copy`` the database at ``url``. The caller holds the exclusive service lock.

    SQLite: the file it replaces (with its WAL) is moved aside as ``<name>.before-restore-<stamp>``
    and that path is returned. PostgreSQL: one transaction drops dudao's tables and loads the
    dump, so a failure changes nothing; returns None.
    """
    if dialect_of(url) == SQLITE:
        return sqlite.place(copy, _sqlite_file(url), stamp=stamp)
    postgres.place(url, copy)
    return None


def _sqlite_file(url: str) -> Path:
    database = normalise_url(url).database
    if not database or database == ":memory:":
        raise SnapshotError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)

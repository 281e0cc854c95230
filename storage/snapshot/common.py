"""What the two backends of storage/snapshot share: results, errors, table reading."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# (done, total) of the step running: pages of a SQLite copy.
Progress = Callable[[int, int], None]

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
REVISION_TABLE = "alembic_version"
# The attachments table names every stored file by its content hash (storage/models.Attachment).
BLOBS_SQL = "SELECT DISTINCT sha256 FROM attachments ORDER BY sha256"


class SnapshotError(Exception):
    """The copy could not be made, read or put in place (message in English, for logs)."""


class ToolMissing(SnapshotError):
    """A PostgreSQL client program (pg_dump, pg_restore, psql) is not installed."""

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} not found on PATH")
        self.tool = tool


@dataclass(frozen=True, slots=True)
class Snapshot:
    dialect: str
    revision: str | None
    tables: dict[str, int]
    blobs: tuple[str, ...]  # sha256 of the attachments referenced, sorted, each once
    schema: str | None = None  # PostgreSQL: the schema the tables were counted in


@dataclass(frozen=True, slots=True)
class CopyInfo:
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)


def quote_ident(name: str) -> str:
    """A table name from the catalogue as an SQL identifier (both dialects)."""
    return '"' + name.replace('"', '""') + '"'


def select_from(what: str, table: str, *, schema: str | None = None, tail: str = "") -> str:
    """``SELECT what FROM table``: the names come from the database's own catalogue, quoted."""
    where = f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)
    return f"SELECT {what} FROM {where}{tail}"  # noqa: S608 - catalogue names, quoted

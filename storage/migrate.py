"""Create or upgrade the schema with Alembic, from the first revision on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage import locks
from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


# Made by migrations in SQL and not declared in storage/models.py: the cases' full-text index
# (migration 0007: an FTS5 table and its shadow tables on SQLite; a generated tsvector column
# and its GIN index on PostgreSQL). Schema comparisons leave them out.
_UNDECLARED = re.compile(r"cases_fts(_\w+)?|ix_cases_search|search_vector")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: compare everything but the undeclared search index."""
    return not (name and type_ in ("table", "index", "column") and _UNDECLARED.fullmatch(name))


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> bool:
    """Bring the schema to the newest revision. Returns True if anything was applied."""
    cfg = alembic_config(db)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return False
    # Our SQLite "begin" hook issues BEGIN IMMEDIATE; Alembic manages its own transaction on
    # this connection.
    with db.engine.connect() as conn, sqlite_foreign_keys_off(conn), conn.begin():
        # Several processes started together on a fresh database would all create the tables
        # and all but one would crash (tests/fault: started together). One upgrades; the others
        # wait here and then find the schema current.
        locks.hold(conn, locks.LockKey.SCHEMA_UPGRADE)
        if MigrationContext.configure(conn).get_current_revision() == head:
            return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        _check_foreign_keys(conn)
    return True


@contextmanager
def sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite's procedure for changing a table's definition (lang_altertable.html#otheralter):
    foreign keys off while the table is rebuilt (copied, dropped, renamed), checked before the
    commit (:func:`_check_foreign_keys`), then on again.

    With them on, dropping the old copy of a table that other tables refer to would delete
    their rows (ON DELETE CASCADE) or fail. The pragma is a no-op inside a transaction, so it is
    set on the driver's connection before the upgrade's transaction begins.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    """Refuse (roll back) an upgrade that left a row referring to nothing (SQLite)."""
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL checks every constraint as it goes
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"schema upgrade left rows with broken references: {broken[:5]}")


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (a newer dudao's is not)."""
    try:
        return _scripts().get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for unknown or malformed ids
        return False

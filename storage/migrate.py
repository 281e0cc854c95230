"""Create or upgrade the schema with Alembic, from the first revision on."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage import locks
from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


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
    with db.engine.begin() as conn:
        # Several processes started together on a fresh database would all create the tables
        # and all but one would crash (tests/fault: started together). One upgrades; the others
        # wait here and then find the schema current.
        locks.hold(conn, locks.LockKey.SCHEMA_UPGRADE)
        if MigrationContext.configure(conn).get_current_revision() == head:
            return False
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True


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

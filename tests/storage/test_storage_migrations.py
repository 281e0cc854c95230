"""Every revision after 0001 upgrades a 0001 database on SQLite and PostgreSQL to the head, leaves
the schema exactly as storage/models.py declares it, and downgrades back to 0001."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Base
from tests.support.pg import pg_url


def _to(db: Database, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _check(url: str) -> None:
    db = Database(url)
    try:
        _to(db, "0001")
        assert "web_sessions" not in inspect(db.engine).get_table_names()
        assert upgrade(db)  # what `dudao serve` does on start
        with db.engine.connect() as conn:
            head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        _to(db, "0001", down=True)
        names = inspect(db.engine).get_table_names()
        assert "web_sessions" not in names and "login_attempts" not in names
        assert "documents" not in names
        assert upgrade(db)
    finally:
        db.close()


def test_storage_migrations_upgrade_and_downgrade_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path}/m.db")


@pytest.mark.postgres
def test_storage_migrations_upgrade_and_downgrade_postgres() -> None:
    _check(pg_url("dudao_test_migrations"))

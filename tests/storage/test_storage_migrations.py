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
from storage.migrate import alembic_config, include_name, sqlite_foreign_keys_off, upgrade
from storage.models import Base
from tests.support.pg import pg_url


def _to(db: Database, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(db)
    # As storage/migrate.upgrade does: a rebuilt table must not take the rows referring to it.
    with db.engine.connect() as conn, sqlite_foreign_keys_off(conn), conn.begin():
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
            ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
            assert compare_metadata(ctx, Base.metadata) == []
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


def _keeps_rows(url: str) -> None:
    """0004 rebuilds ``tasks`` on SQLite (its foreign key changes): the assignments,
    submissions, flags and reminder claims that refer to tasks survive the upgrade."""
    from sqlalchemy import text

    db = Database(url)
    try:
        _to(db, "0006")
        with db.engine.begin() as conn:
            now = "2026-07-01 01:00:00"
            conn.execute(text(
                "INSERT INTO units (id, code, name, short_name, kind, active, created_at) "
                "VALUES (1, '410100', '郑州市', '郑州', 'city', true, :now)"), {"now": now})
            conn.execute(text(
                "INSERT INTO tasks (id, title, description, materials, system, due, recurrence, "
                "reminder_policy, status, created_at) VALUES (7, '三季度调研报告', '', '', "
                "'supervision', :now, 'quarterly', '', 'open', :now)"), {"now": now})
            conn.execute(text("INSERT INTO task_units (task_id, unit_id, state) "
                              "VALUES (7, 1, 'received')"))
            conn.execute(text(
                "INSERT INTO submissions (id, task_id, unit_id, version, text, status, "
                "submitted_at, late, channel) VALUES (3, 7, 1, 1, '见附件', 'received', :now, "
                "false, 'chat')"), {"now": now})
            conn.execute(text(
                "INSERT INTO flags (unit_id, task_id, color, reason, source, current, set_at) "
                "VALUES (1, 7, 'red', '', 'rule', true, :now)"), {"now": now})
            conn.execute(text("INSERT INTO reminder_ledger (task_id, unit_id, stage, sent_at) "
                              "VALUES (7, 1, 'pre-3', :now)"), {"now": now})
        assert upgrade(db)
        with db.engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("tasks", "task_units", "submissions", "flags", "reminder_ledger")}
            assert counts == dict.fromkeys(counts, 1)
            row = conn.execute(text("SELECT title, period, series_id FROM tasks")).one()
            assert tuple(row) == ("三季度调研报告", None, None)
            ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
            assert compare_metadata(ctx, Base.metadata) == []
        fks = inspect(db.engine).get_foreign_keys("tasks")
        assert {fk["referred_table"] for fk in fks if fk["constrained_columns"] == ["series_id"]} \
            == {"series"}
        _to(db, "0006", down=True)  # and back, keeping them too
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM task_units")).scalar_one() == 1
            assert conn.execute(text("SELECT recurrence FROM tasks")).scalar_one() == "none"
    finally:
        db.close()


def test_storage_migration_0004_keeps_rows_referring_to_tasks_sqlite(tmp_path: Path) -> None:
    _keeps_rows(f"sqlite:///{tmp_path}/m.db")


@pytest.mark.postgres
def test_storage_migration_0004_keeps_rows_referring_to_tasks_postgres() -> None:
    _keeps_rows(pg_url("dudao_test_migrations_rows"))

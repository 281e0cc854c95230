"""The admin session every `dudao` command runs in: opened together, closed however it ends."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli.session import admin_session
from storage import service_lock


def _args(tmp_path: Path, *command: str) -> argparse.Namespace:
    config = tmp_path / "dudao.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nroster = ""\n'
                      '[nlu]\nenabled = false\n', encoding="utf-8")
    return build_parser().parse_args(["--config", str(config), *command])


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'data' / 'dudao.db').as_posix()}"


def test_the_lock_is_let_go_when_the_command_fails(tmp_path: Path) -> None:
    args = _args(tmp_path, "unit", "list")

    def command() -> None:
        with admin_session(args) as admin:
            # Held while the command runs: a restore is refused.
            with pytest.raises(service_lock.LockBusy):
                service_lock.take_exclusive(admin.settings.database_url)
            raise RuntimeError("the command failed half-way")

    with pytest.raises(RuntimeError):
        command()
    # Released at once, not when the garbage collector gets round to it.
    service_lock.take_exclusive(_url(tmp_path)).release()


def test_a_session_that_does_not_prepare_leaves_the_schema_alone(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    sqlite3.connect(tmp_path / "data" / "dudao.db").close()  # an empty database file
    with admin_session(_args(tmp_path, "unit", "list"), prepare=False):
        pass
    with sqlite3.connect(tmp_path / "data" / "dudao.db") as conn:
        assert conn.execute("select name from sqlite_master").fetchall() == []
    with admin_session(_args(tmp_path, "unit", "list")) as admin:
        assert admin.run(lambda c: c.exec_driver_sql(
            "select count(*) from alembic_version").scalar_one()) == 1

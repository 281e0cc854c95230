"""`dudao backup` and `dudao restore` on PostgreSQL: pg_dump of one snapshot, restore in one
transaction, refused while a service or any other session holds the database."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

from bench.bench_backup import build_world
from bot.services.backup import PG_DUMP_MISSING
from storage import service_lock
from storage.db import normalise_url
from tests.backup.conftest import Site, members, sqlite_site
from tests.support.pg import pg_url

pytestmark = pytest.mark.postgres


def _pg_site(tmp_path: Path, name: str, dbname: str) -> Site:
    root = tmp_path / name
    root.mkdir()
    return Site(root, pg_url(dbname))


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))]
            return {n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one())
                    for n in names}
    finally:
        engine.dispose()


@pytest.fixture
def pg_source(tmp_path: Path) -> Site:
    s = _pg_site(tmp_path, "source", "dudao_bk_src")
    build_world(s.url, s.data, submissions=300, tasks=6, files=20)
    return s


def test_round_trip_through_pg_dump_into_an_empty_database(
        pg_source: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "pg.tar"
    assert pg_source.run("backup", "--out", str(archive), "--json") == 0
    made = json_out()
    assert made["database"]["dialect"] == "postgresql"
    assert set(members(archive)) >= {"database/dudao.pgdump", "manifest.json"}
    at_backup = made["database"]["tables"]
    assert at_backup["submissions"] == 300

    target = _pg_site(tmp_path, "target", "dudao_bk_dst")
    assert target.run("restore", str(archive), "--json") == 0
    restored = json_out()
    assert restored["files"]["restored"] == made["files"]["count"] > 0
    assert _counts(target.url) == {**at_backup, "audit_log": at_backup["audit_log"] + 1}

    # A second restore over it needs --force, and then replaces everything in one go: the
    # task added after the backup is gone.
    assert target.run("task", "add", "--title", "恢复后新增", "--due",
                      "2027-01-10T18:00+08:00") == 0
    capsys.readouterr()
    assert target.run("restore", str(archive)) == 2
    assert "目标数据库已有数据" in capsys.readouterr().err
    assert target.run("restore", str(archive), "--force", "--json") == 0
    json_out()
    assert _counts(target.url)["tasks"] == at_backup["tasks"]

    # A restore that fails half-way (here: when it creates the submissions table) changes
    # nothing: the tables it had already dropped and recreated are rolled back with it.
    assert target.run("task", "add", "--title", "失败前的任务", "--due",
                      "2027-01-10T18:00+08:00") == 0
    capsys.readouterr()
    before = _counts(target.url)
    dsn = normalise_url(target.url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""
            CREATE FUNCTION refuse_submissions() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                         WHERE object_identity = 'public.submissions') THEN
                RAISE EXCEPTION 'no space left on device (simulated)';
              END IF;
            END $$""")
        conn.execute("CREATE EVENT TRIGGER refuse_submissions ON ddl_command_end"
                     " WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION refuse_submissions()")
    try:
        assert target.run("restore", str(archive), "--force") == 1
        err = capsys.readouterr().err
        assert "恢复数据库失败，数据库未改变" in err and "simulated" in err
        assert _counts(target.url) == before
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP EVENT TRIGGER refuse_submissions")

    # pg_restore dying half-way through its script (disk error, out of memory), at a statement
    # boundary: psql has run every statement it got (tables dropped and created, some filled;
    # units not yet), but the COMMIT is only sent after a clean exit, so nothing changes.
    real = shutil.which("pg_restore")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "pg_restore").write_text(
        "#!/bin/sh\n"
        'case "$*" in *--clean*) "' + str(real) + '" "$@"'
        " | sed -n '1,/^-- Data for Name: units;/p'; exit 1;; esac\n"
        'exec "' + str(real) + '" "$@"\n')
    (fake_bin / "pg_restore").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    assert target.run("restore", str(archive), "--force") == 1
    assert "pg_restore exited 1 (nothing was changed)" in capsys.readouterr().err
    assert _counts(target.url) == before
    monkeypatch.undo()

    # A PostgreSQL backup does not go into SQLite.
    sqlite_target = sqlite_site(tmp_path, "sqlite")
    assert sqlite_target.run("restore", str(archive)) == 2
    assert "只能恢复到同一种数据库" in capsys.readouterr().err


def test_restore_is_refused_while_a_service_or_another_session_holds_it(
        pg_source: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "pg.tar"
    assert pg_source.run("backup", "--out", str(archive), "--json") == 0
    json_out()
    before = _counts(pg_source.url)

    serving = service_lock.take_shared(pg_source.url)  # what every `dudao serve` holds
    try:
        assert pg_source.run("restore", str(archive), "--force") == 2
        assert "正被运行中的 dudao 使用" in capsys.readouterr().err
    finally:
        serving.release()

    dsn = normalise_url(pg_source.url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(dsn, application_name="psql"):  # an operator's session
        assert pg_source.run("restore", str(archive), "--force") == 2
        err = capsys.readouterr().err
        assert "数据库还有其他连接（psql ×1）" in err
    assert _counts(pg_source.url) == before

    restoring = service_lock.take_exclusive(pg_source.url)
    try:
        assert pg_source.run("task", "list") == 2  # as `dudao serve` would be
        assert "数据库正在恢复" in capsys.readouterr().err
    finally:
        restoring.release()
    assert pg_source.run("restore", str(archive), "--force", "--json") == 0


def test_the_service_lock_is_taken_again_after_its_session_dies(pg_source: Site) -> None:
    held = service_lock.take_shared(pg_source.url)
    try:
        admin = normalise_url(pg_source.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = current_database() AND application_name = 'dudao'"
                         " AND pid <> pg_backend_pid()")
        # The lock went with the session: a restore could take it now …
        service_lock.take_exclusive(pg_source.url).release()
        held.keep()  # … until the service's next check takes it back.
        with pytest.raises(service_lock.LockBusy):
            service_lock.take_exclusive(pg_source.url)
    finally:
        held.release()


def test_without_pg_dump_the_message_says_how_to_back_up(
        pg_source: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    out = tmp_path / "pg.tar"
    assert pg_source.run("backup", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert "未找到 pg_dump" in err and "pg_dump --format=custom" in err
    assert PG_DUMP_MISSING.splitlines()[0] in err
    assert not out.exists() and list(tmp_path.glob(".pg.tar*")) == []

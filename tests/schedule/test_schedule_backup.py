"""The daily backup job: at [backup] at, once a day across processes, keeps the last N, and a
failure is logged in English and told to the admin groups."""

from __future__ import annotations

import asyncio
import logging
import tarfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.core.env import ServiceEnv
from bot.scheduler import JOB_BACKUP, run_due_jobs
from config.settings import load_settings
from storage.db import Database
from storage.models import AuditEntry, JobLedger
from tests.schedule.conftest import ADMIN_GROUP, TZ, World, at, outbox


def _env(world: World, **backup: Any) -> ServiceEnv:
    settings = load_settings(None, {}, cwd=world.path,
                             overrides={"backup": {"enabled": True, **backup}})
    return ServiceEnv(settings=settings, clock=world.clock, calendar=world.env.calendar, tz=TZ,
                      board_url=world.env.board_url)


async def _run(world: World, env: ServiceEnv, when: str) -> Any:
    world.clock.set(at(when))
    return await run_due_jobs(world.db, env, at(when))


def _archives(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("dudao-backup-*.tar"))


async def test_once_a_day_at_the_configured_time(world: World, tmp_path: Path) -> None:
    env = _env(world, at="03:00", directory=str(tmp_path / "backups"))
    r = await _run(world, env, "2026-07-02 02:59")
    assert JOB_BACKUP not in r.ran and not (tmp_path / "backups").exists()
    r = await _run(world, env, "2026-07-02 03:00")
    assert JOB_BACKUP in r.ran and r.ok
    assert _archives(tmp_path / "backups") == ["dudao-backup-20260702-0300.tar"]
    assert r.backup == str(tmp_path / "backups" / "dudao-backup-20260702-0300.tar")
    with tarfile.open(tmp_path / "backups" / "dudao-backup-20260702-0300.tar") as tar:
        assert {"database/dudao.db.gz", "manifest.json"} <= set(tar.getnames())
    r = await _run(world, env, "2026-07-02 03:01")
    assert JOB_BACKUP not in r.ran
    assert _archives(tmp_path / "backups") == ["dudao-backup-20260702-0300.tar"]
    assert world.tx(lambda c: c.execute(select(JobLedger.period).where(
        JobLedger.job == "daily_backup")).scalars().all()) == ["2026-07-02"]
    audit = world.tx(lambda c: c.execute(select(AuditEntry.action, AuditEntry.target).where(
        AuditEntry.action == "backup.daily")).all())
    assert [tuple(a) for a in audit] == [("backup.daily", "backup:2026-07-02")]


async def test_off_by_default(world: World, tmp_path: Path) -> None:
    r = await _run(world, world.env, "2026-07-02 03:00")
    assert JOB_BACKUP not in r.ran
    assert not (world.env.settings.backup.enabled or (tmp_path / "data" / "backups").exists())


async def test_a_service_that_was_down_catches_up_and_only_n_are_kept(
        world: World, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "notes.txt").write_text("not ours")
    (backups / "dudao-backup-manual.tar").write_text("not a daily name")
    env = _env(world, at="03:00", directory=str(backups), keep=2)
    for when in ("2026-07-01 03:00", "2026-07-02 10:17", "2026-07-03 03:05", "2026-07-04 03:00"):
        r = await _run(world, env, when)
        assert JOB_BACKUP in r.ran, r.summary()
    assert _archives(backups) == ["dudao-backup-20260703-0305.tar",
                                  "dudao-backup-20260704-0300.tar", "dudao-backup-manual.tar"]
    assert (backups / "notes.txt").exists()


async def test_two_processes_at_the_same_minute_make_one_backup(
        world: World, tmp_path: Path) -> None:
    env = _env(world, at="03:00", directory=str(tmp_path / "backups"))
    other = Database(world.db.url)  # a second process's connection to the same database
    try:
        world.clock.set(at("2026-07-02 03:00"))
        a, b = await asyncio.gather(run_due_jobs(world.db, env, at("2026-07-02 03:00")),
                                    run_due_jobs(other, env, at("2026-07-02 03:00")))
    finally:
        other.close()
    assert [JOB_BACKUP in a.ran, JOB_BACKUP in b.ran].count(True) == 1
    assert len(_archives(tmp_path / "backups")) == 1


async def test_a_failure_is_logged_and_told_to_the_admins_once(
        world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = _env(world, at="03:00", directory=str(blocker / "backups"))  # cannot be created
    with caplog.at_level(logging.ERROR, logger="dudao.scheduler"):
        r = await _run(world, env, "2026-07-02 03:00")
    assert JOB_BACKUP not in r.ran and JOB_BACKUP in r.errors
    assert "cannot create the backup directory" in r.errors[JOB_BACKUP]
    logged = [rec.getMessage() for rec in caplog.records]
    assert any(m.startswith("daily backup for 2026-07-02 failed: cannot create the backup "
                            "directory") for m in logged), logged
    alerts = [m for m in outbox(world.db) if m.kind == "alert"]
    assert [m.chat for m in alerts] == [ADMIN_GROUP]
    assert alerts[0].text.startswith("【备份失败】2026-07-02 的每日备份没有完成：无法创建备份目录")
    assert "dudao backup --out" in alerts[0].text
    # Not retried every minute (the admins were told; a backup by hand is the way out).
    r = await _run(world, env, "2026-07-02 03:01")
    assert JOB_BACKUP not in r.ran and JOB_BACKUP not in r.errors
    assert len([m for m in outbox(world.db) if m.kind == "alert"]) == 1


async def test_attachments_missing_from_the_file_store_are_told(
        world: World, tmp_path: Path) -> None:
    from bot.core.event import StoredFile
    from bot.services import submissions

    sha = "ab" * 32  # recorded, but the file never reached the file store
    task = world.add_task("附件任务", at("2026-07-20 18:00"))
    world.tx(lambda c: submissions.submit(
        c, task_id=task, unit_id=world.unit["郑州市"], person_id=None, text="见附件",
        now=at("2026-07-01 10:00"), files=(StoredFile("报告.pdf", sha, 10, f"/nowhere/{sha}"),)))
    env = _env(world, at="03:00", directory=str(tmp_path / "backups"))
    r = await _run(world, env, "2026-07-02 03:00")
    assert JOB_BACKUP in r.ran
    alerts = [m for m in outbox(world.db) if m.kind == "alert"]
    assert len(alerts) == 1 and alerts[0].text.startswith("【备份提醒】")
    assert "1 个附件缺失" in alerts[0].text


def test_dudao_tick_runs_it_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "dudao.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path}/data"\nroster = ""\n'
                      f'[backup]\nenabled = true\nat = "03:00"\n', encoding="utf-8")
    for _ in range(2):
        assert main(["--config", str(config), "tick", "--at", "2026-07-02T03:30+08:00",
                     "--json"]) == 0
    capsys.readouterr()
    assert _archives(tmp_path / "data" / "backups") == ["dudao-backup-20260702-0330.tar"]

"""The daily backup (``[backup]`` in the configuration), run by the scheduler and ``dudao tick``.

Once a day at or after ``[backup] at`` the first process to look claims the day in
``job_ledger`` (``daily_backup`` / ``2026-12-01``, bot/services/ledger.py), so several processes
on one database, a restart, or ``dudao tick`` for the same moment make one backup a day. The
claim is committed before the backup starts: the backup is long and must not hold a write
transaction (on SQLite that would stop every other writer). A day whose backup failed is not
tried again (a failure every minute would bury the admin group); the admins are told at once and
``dudao backup`` makes one by hand.

After a verified backup, the oldest archives beyond ``keep`` are deleted; only files named like
the job's own (``dudao-backup-YYYYMMDD-HHMM.tar``) are ever touched.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.domain.errors import DomainError
from bot.services import alerts, audit, ledger
from bot.services import backup as backup_svc
from storage.models import JobLedger

log = logging.getLogger("dudao.backup")

JOB = "daily_backup"
_NAME = re.compile(r"dudao-backup-\d{8}-\d{4}\.tar")
# Work files a backup interrupted by a crash leaves beside its output (bot/services/backup.py).
_LEFTOVER = re.compile(r"\.dudao-backup-\d{8}-\d{4}\.tar\.\d+\.(?:tmp|work)")


@dataclass(frozen=True, slots=True)
class DailyBackup:
    period: str
    result: backup_svc.BackupResult
    pruned: tuple[Path, ...]


def due_from(env: ServiceEnv, at: datetime) -> datetime:
    """The moment today's backup becomes due."""
    return datetime.combine(env.local(at).date(), env.settings.backup.at, tzinfo=env.tz)


def is_due(env: ServiceEnv, at: datetime) -> bool:
    return env.settings.backup.enabled and at >= due_from(env, at)


def period(env: ServiceEnv, at: datetime) -> str:
    return env.local(at).date().isoformat()


def claim(conn: Connection, env: ServiceEnv, at: datetime) -> bool:
    """Take today's backup for this process; False if it was taken already (anywhere)."""
    got = ledger.insert_new(conn, JobLedger, ("job", "period"),
                            [{"job": JOB, "period": period(env, at), "at": at}])
    return bool(got)


def archive_name(env: ServiceEnv, at: datetime) -> str:
    return f"dudao-backup-{env.local(at):%Y%m%d-%H%M}.tar"


def run(env: ServiceEnv, url: str, at: datetime) -> DailyBackup:
    """Write today's backup and prune old ones. Blocking: run it off the event loop."""
    settings = env.settings
    directory = settings.backup_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise backup_svc.BackupFailed(
            f"无法创建备份目录“{directory}”：{exc.strerror or exc}",
            log=f"cannot create the backup directory {directory}: {exc}") from exc
    _remove_leftovers(directory)
    result = backup_svc.create(url, settings.service.data_dir, directory / archive_name(env, at),
                               now=env.clock.now(),
                               busy_timeout_ms=settings.database.busy_timeout_ms)
    return DailyBackup(period(env, at), result, prune(directory, settings.backup.keep))


def prune(directory: Path, keep: int) -> tuple[Path, ...]:
    """Delete the daily archives beyond the newest ``keep`` (names sort by time)."""
    ours = sorted(p for p in directory.iterdir() if _NAME.fullmatch(p.name) and p.is_file())
    doomed = ours[:-keep] if keep > 0 else ours
    removed = []
    for path in doomed:
        try:
            path.unlink()
            removed.append(path)
        except OSError as exc:
            log.warning("could not delete the old backup %s: %s", path, exc)
    return tuple(removed)


def _remove_leftovers(directory: Path) -> None:
    import shutil

    for path in directory.iterdir():
        if _LEFTOVER.fullmatch(path.name):
            log.info("removing %s left by an interrupted backup", path)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def record(conn: Connection, env: ServiceEnv, at: datetime, done: DailyBackup) -> None:
    """Audit the backup; tell the admins if attachments were missing from the file store."""
    r = done.result
    audit.record(conn, at=at, actor="system", channel="system", action="backup.daily",
                 target=f"backup:{done.period}",
                 detail={"path": str(r.path), "bytes": r.size, "rows": sum(r.tables.values()),
                         "files": r.files, "missing": len(r.missing), "damaged": len(r.damaged),
                         "pruned": [p.name for p in done.pruned]})
    if r.missing or r.damaged:
        alerts.tell_admins(conn, (
            f"【备份提醒】{done.period} 的每日备份已完成（{r.path.name}），但文件库中有 "
            f"{len(r.missing)} 个附件缺失、{len(r.damaged)} 个附件内容与记录不符，"
            "这些附件无法从备份恢复。清单见备份中的 manifest.json。"),
            now=at, cause=f"backup:{done.period}")


def failure_text(env: ServiceEnv, at: datetime, exc: BaseException) -> str:
    reason = exc.message if isinstance(exc, DomainError) else f"程序错误（{type(exc).__name__}），详见日志"
    return (f"【备份失败】{period(env, at)} 的每日备份没有完成：{reason}\n"
            f"今天不会自动重试。请检查备份目录 {env.settings.backup_dir} 和磁盘空间，"
            "并手动运行 dudao backup --out 文件名 备份一次。")


def alert_failure(conn: Connection, at: datetime, text: str) -> None:
    if not alerts.tell_admins(conn, text, now=at, cause="backup"):
        log.warning("no admin group registered: the backup failure is only in this log")

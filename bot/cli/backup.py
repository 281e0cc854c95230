"""``dudao backup`` and ``dudao restore`` (the work is in bot/services/backup.py and restore.py).

Exit status: 0 done; 2 refused before anything changed (bad input, a damaged archive, a running
service, a target that has data); 1 the work itself failed (a backup that did not verify: no
file was left at ``--out``; a restore whose database load failed: the database is as it was).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from bot.cli.common import Subcommands, leaf, load
from bot.cli.session import AdminSession, admin_session
from config.masking import mask_url

log = logging.getLogger("dudao.backup")

STAGES = {"database": "复制数据库", "files": "复制附件", "verify": "校验备份"}


class ProgressLine:
    """One line on stderr for long work: redrawn in place on a terminal, else every few seconds.

    Quiet for the first second, so a small database backs up without noise.
    """

    def __init__(self, out: TextIO, *, enabled: bool, quiet_s: float = 1.0,
                 every_s: float = 5.0) -> None:
        self._out = out
        self._enabled = enabled
        self._tty = out.isatty()
        self._started = time.monotonic()
        self._quiet_s = quiet_s
        self._every_s = every_s
        self._last_print = 0.0
        self._stage = ""
        self._drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._started < self._quiet_s:
            return
        changed = stage != self._stage
        if not self._tty and not changed and now - self._last_print < self._every_s \
                and done < total:
            return
        self._stage, self._last_print = stage, now
        text = f"{STAGES.get(stage, stage)} {100 * done / total:.0f}%" if total \
            else STAGES.get(stage, stage)
        if stage == "files":
            text += f"（{done}/{total} 个）"
        elif stage == "verify":
            text += f"（{_size(done)} / {_size(total)}）"
        if self._tty:
            self._out.write(f"\r\x1b[K{text}")
            self._drawn = True
        else:
            self._out.write(text + "\n")
        self._out.flush()

    def end(self) -> None:
        if self._drawn:
            self._out.write("\n")
            self._out.flush()
            self._drawn = False


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.services import backup as backup_svc

    settings = load(args)
    out = backup_svc.check_out(Path(args.out))  # bad input fails before the database is touched
    # Held shared like any dudao process: a backup runs beside `dudao serve`, never during a
    # restore. The schema is left as it is: a backup copies the database as it finds it.
    with admin_session(args, settings, prepare=False) as admin:
        progress = ProgressLine(sys.stderr, enabled=not args.json)
        try:
            result = backup_svc.create(settings.database_url, settings.service.data_dir, out,
                                       now=admin.env.clock.now(), progress=progress,
                                       busy_timeout_ms=settings.database.busy_timeout_ms)
        except backup_svc.BackupFailed as exc:
            print(f"错误：{exc.message}", file=sys.stderr)
            return 1
        finally:
            progress.end()
        _audit_backup(admin, result)
        rows = sum(result.tables.values())
        text = (f"已备份到 {result.path}（{_size(result.size)}，用时 {result.seconds:.1f} 秒）："
                f"数据库 {len(result.tables)} 张表 {rows} 行（结构版本 {result.schema_revision}），"
                f"附件 {result.files} 个（{_size(result.file_bytes)}）；已校验")
        if result.missing or result.damaged:
            print(f"警告：数据库引用的附件中有 {len(result.missing)} 个在文件库中缺失、"
                  f"{len(result.damaged)} 个内容与记录不符，已记入备份清单", file=sys.stderr)
        admin.emit(_backup_record(result), text)
    return 0


def _backup_record(r: Any) -> dict[str, Any]:
    return {"path": str(r.path), "size": r.size, "seconds": round(r.seconds, 3),
            "created_at": r.created_at, "verified": True,
            "database": {"dialect": r.dialect, "schema_revision": r.schema_revision,
                         "tables": r.tables},
            "files": {"count": r.files, "bytes": r.file_bytes, "missing": list(r.missing),
                      "damaged": list(r.damaged)}}


def _audit_backup(admin: AdminSession, result: Any) -> None:
    """Record the backup in the audit log (the archive is written and verified either way)."""
    try:
        admin.run(lambda conn: admin.audit(
            conn, "backup.create", f"backup:{result.path.name}",
            {"path": str(result.path), "bytes": result.size,
             "rows": sum(result.tables.values()), "files": result.files,
             "missing": len(result.missing)}, at=result.created_at))
    except Exception as exc:
        log.warning("backup not recorded in the audit log: %s", exc)


def cmd_restore(args: argparse.Namespace) -> int:
    from bot.app import make_env
    from bot.services import restore as restore_svc

    settings = load(args)
    env = make_env(settings)
    progress = ProgressLine(sys.stderr, enabled=not args.json)
    try:
        # Not in an admin session: the restore takes the service lock alone, itself.
        result = restore_svc.restore(settings.database_url, settings.service.data_dir,
                                     Path(args.file), force=args.force, now=env.clock.now(),
                                     progress=progress)
    except restore_svc.RestoreFailed as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    finally:
        progress.end()
    # Opening it as every command does brings the schema up to date and records the restore.
    with admin_session(args, settings) as admin:
        admin.run(lambda conn: admin.audit(
            conn, "backup.restore", f"backup:{result.archive.name}",
            {"created_at": result.created_at, "dudao_version": result.dudao_version,
             "rows": sum(result.tables.values()), "files": result.files_restored,
             "replaced": str(result.moved_aside) if result.moved_aside else None}))
        rows = sum(result.tables.values())
        text = (f"已从 {result.archive} 恢复（备份于 {result.created_at}，"
                f"dudao {result.dudao_version}）：数据库 {mask_url(settings.database_url)}，"
                f"{len(result.tables)} 张表 {rows} 行；附件写入 {result.files_restored} 个，"
                f"已有 {result.files_present} 个")
        if result.moved_aside:
            text += f"\n原数据库已保留为 {result.moved_aside}"
        admin.emit({"archive": str(result.archive), "created_at": result.created_at,
                    "dudao_version": result.dudao_version, "dialect": result.dialect,
                    "schema_revision": result.schema_revision, "tables": result.tables,
                    "files": {"restored": result.files_restored,
                              "present": result.files_present},
                    "data_files": list(result.data_files),
                    "moved_aside": str(result.moved_aside) if result.moved_aside else None,
                    "seconds": round(result.seconds, 3)}, text)
    return 0


def register(sub: Subcommands) -> None:
    b = leaf(sub, "backup", cmd_backup,
             "备份数据库和附件到一个文件（服务运行时也可备份；写完即校验）")
    b.add_argument("--out", required=True, help="备份文件，如 dudao-20261201.tar")
    r = leaf(sub, "restore", cmd_restore,
             "从备份文件恢复数据库和附件（须先停止 dudao serve）")
    r.add_argument("file", help="dudao backup 写出的备份文件")
    r.add_argument("--force", action="store_true",
                   help="目标数据库已有数据时仍然覆盖（SQLite 原文件会保留）")

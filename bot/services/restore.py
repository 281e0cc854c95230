"""Restoring a backup into the configured database and data directory.

In order, stopping at the first refusal (each is a Chinese message and changes nothing):

1. take the database's service lock exclusively (storage/service_lock.py): refused while
   ``dudao serve``, ``dudao console`` or another dudao command has the database open; while the
   restore holds it, none of them can start;
2. refuse a target that already holds data, unless ``force``;
3. verify the whole archive (bot/services/backup_archive.py: every sha256, the manifest, the
   database copy's revision and row counts), extracting it into a staging directory inside the
   data directory (so that attachments are moved, not copied, into place);
4. check that the copy fits: same kind of database, a schema revision this code knows;
5. put the database in place (SQLite: the old file is kept as ``…before-restore-<time>``;
   PostgreSQL: one transaction), then the attachments that are not already in the file store,
   then the board's key file (if the target has none, or with ``force``).

The schema is brought up to date by the next dudao command or ``dudao serve``, as after an
upgrade of dudao itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.domain.errors import Conflict, DomainError, InvalidInput
from bot.services import backup_archive as archive
from storage import service_lock, snapshot
from storage.blobs import blob_path, files_root
from storage.migrate import is_known_revision

log = logging.getLogger("dudao.backup")

DIALECT_NAMES = {snapshot.SQLITE: "SQLite", snapshot.POSTGRESQL: "PostgreSQL"}


class RestoreFailed(DomainError):
    """Putting the backup in place failed (the database is as it was)."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    archive: Path
    created_at: str
    dudao_version: str
    dialect: str
    schema_revision: str | None
    tables: dict[str, int]
    files_restored: int  # attachments written to the file store
    files_present: int  # attachments it already had
    data_files: tuple[str, ...]  # data-directory files restored (the board's key)
    moved_aside: Path | None  # SQLite: where the database it replaced was kept
    seconds: float


def restore(url: str, data_dir: Path, source: Path, *, force: bool, now: datetime,
            progress: archive.Progress | None = None) -> RestoreResult:
    started = time.monotonic()
    if not source.is_file():
        raise InvalidInput(f"备份文件“{source}”不存在", log=f"restore: {source} not found")
    dialect = snapshot.dialect_of(url)
    lock = _lock(url)
    staging = data_dir / f".restore-{os.getpid()}"
    try:
        try:
            occupied = snapshot.has_data(url)
        except snapshot.SnapshotError as exc:
            raise RestoreFailed(f"无法读取目标数据库：{exc}", log=f"restore: {exc}") from exc
        if occupied and not force:
            raise Conflict("目标数据库已有数据，没有恢复。确认要用备份覆盖它，请加 --force"
                           + ("（原数据库文件会保留为 …before-restore-时间）"
                              if dialect == snapshot.SQLITE else ""),
                           log="restore: target has data and --force was not given")
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            verified = archive.verify(source, staging, extract_files=True, progress=progress)
        except snapshot.ToolMissing as exc:
            raise RestoreFailed(f"未找到 {exc.tool}：恢复 PostgreSQL 备份需要 PostgreSQL 客户端"
                                "（pg_restore 与 psql）", log=f"restore: {exc}") from exc
        except OSError as exc:
            raise RestoreFailed(f"无法在数据目录“{data_dir}”中展开备份（{exc.strerror or exc}），"
                                "没有恢复：请检查磁盘空间和权限",
                                log=f"restore: staging in {staging} failed: {exc}") from exc
        manifest = verified.manifest
        _check_fits(manifest, dialect)
        stamp = now.strftime("%Y%m%dT%H%M%S")
        try:
            aside = snapshot.place(url, verified.database, stamp=stamp)
        except snapshot.ToolMissing as exc:
            raise RestoreFailed(f"未找到 {exc.tool}：恢复 PostgreSQL 备份需要 PostgreSQL 客户端"
                                "（pg_restore 与 psql）", log=f"restore: {exc}") from exc
        except snapshot.SnapshotError as exc:
            raise RestoreFailed(f"恢复数据库失败，数据库未改变：{exc}", log=f"restore: {exc}") from exc
        try:
            restored, present = _place_blobs(verified.blobs, files_root(data_dir))
            data_files = _place_data_files(verified.data_files, data_dir, force=force)
        except OSError as exc:
            raise RestoreFailed(f"数据库已恢复，但附件写入失败（{exc.strerror or exc}）：请检查"
                                f"“{files_root(data_dir)}”的磁盘空间和权限后，用 --force 再恢复一次",
                                log=f"restore: writing attachments failed: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        lock.release()
    result = RestoreResult(source, manifest.created_at, manifest.dudao_version, dialect,
                           manifest.revision, manifest.tables, restored, present, data_files,
                           aside, time.monotonic() - started)
    log.info("restored %s (made %s by dudao %s): revision %s, %d rows, %d attachments written, "
             "%d already present%s", source, manifest.created_at, manifest.dudao_version,
             manifest.revision, sum(manifest.tables.values()), restored, present,
             f"; the replaced database is kept as {aside}" if aside else "")
    return result


def _lock(url: str) -> service_lock.ServiceLock:
    try:
        return service_lock.take_exclusive(url)
    except service_lock.LockBusy as exc:
        if exc.restoring or not exc.holders or exc.holders == ("dudao",):
            raise Conflict("数据库正被运行中的 dudao 使用（dudao serve、console 或其他命令），没有恢复。"
                           "请先停止服务，再运行 dudao restore", log=f"restore refused: {exc}") from exc
        raise Conflict(f"数据库还有其他连接（{'、'.join(exc.holders)}），没有恢复。"
                       "请先停止 dudao serve 并断开其他连接，再运行 dudao restore",
                       log=f"restore refused: {exc}") from exc
    except service_lock.LockError as exc:
        raise RestoreFailed(f"无法锁定目标数据库：{exc}", log=f"restore: {exc}") from exc


def _check_fits(manifest: archive.Manifest, dialect: str) -> None:
    if manifest.dialect != dialect:
        raise InvalidInput(
            f"这是 {DIALECT_NAMES.get(manifest.dialect, manifest.dialect)} 数据库的备份，"
            f"而当前配置的是 {DIALECT_NAMES[dialect]}：只能恢复到同一种数据库",
            log=f"restore: {manifest.dialect} backup into {dialect}")
    if manifest.revision is None or not is_known_revision(manifest.revision):
        raise InvalidInput(
            f"备份的数据库结构版本 {manifest.revision!r} 本程序不认识"
            f"（备份由 dudao {manifest.dudao_version} 生成）：请用该版本或更新的 dudao 恢复",
            log=f"restore: unknown schema revision {manifest.revision!r}")


def _place_blobs(blobs: dict[str, Path], root: Path) -> tuple[int, int]:
    restored = present = 0
    for sha, staged in blobs.items():
        dest = blob_path(root, sha)
        if dest.exists():
            present += 1  # content-addressed: the same name is the same content
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        _move_into(staged, dest)
        restored += 1
    return restored, present


def _place_data_files(files: dict[str, Path], data_dir: Path, *, force: bool) -> tuple[str, ...]:
    placed = []
    for name, staged in files.items():
        dest = data_dir / name
        if dest.exists() and not force:
            log.info("restore: kept the existing %s (use --force to replace it)", dest)
            continue
        os.chmod(staged, 0o600)
        _move_into(staged, dest)
        placed.append(name)
    return tuple(placed)


def _move_into(src: Path, dest: Path) -> None:
    """Rename when on one file system; otherwise copy beside ``dest`` and rename (atomic)."""
    try:
        os.replace(src, dest)
    except OSError:
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

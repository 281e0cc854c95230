"""Making a backup: a consistent copy of the database and its attachments in one verified archive.

Steps (``dudao backup --out FILE`` and the daily job both run :func:`create`):

1. copy the database (storage/snapshot: SQLite's online backup API, or pg_dump), reading in the
   same transaction its schema revision, its row counts and the attachments it refers to;
2. write the archive (bot/services/backup_archive.py) to a temporary file beside ``FILE``: the
   copy, the board's key file, every referenced attachment from the file store (a referenced file
   that is not there is listed in the manifest as missing; one whose content no longer matches
   its hash as damaged), and the manifest;
3. verify it: read the temporary file back, check every member's sha256, open the database
   copy and compare its revision and row counts with the manifest;
4. only then rename it to ``FILE``. A backup that fails anywhere leaves no ``FILE`` behind (and
   no temporary file): nothing that looks like a valid backup and is not.

Attachments are written once and never change or disappear while the service runs (content-
addressed, bot/services/files.py), and one is stored before the row that refers to it commits, so every
file the copied database refers to is on disk when step 2 reads it.
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

from bot import __version__
from bot.domain.errors import DomainError, InvalidInput
from bot.services import backup_archive as archive
from storage import snapshot
from storage.blobs import blob_path, files_root

log = logging.getLogger("dudao.backup")

Progress = archive.Progress


class BackupFailed(DomainError):
    """The backup could not be made or did not verify; nothing was left at the output path."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    created_at: datetime
    dialect: str
    schema_revision: str | None
    tables: dict[str, int]
    files: int  # attachments written
    file_bytes: int
    missing: tuple[str, ...]  # referenced attachments not in the file store
    damaged: tuple[str, ...]  # stored attachments whose content no longer matches their hash


def check_out(out: Path) -> Path:
    """Refuse an output path that cannot be a new backup (before any work is done)."""
    if not out.parent.is_dir():
        raise InvalidInput(f"目录“{out.parent}”不存在", log=f"backup dir {out.parent} missing")
    if out.is_dir():
        raise InvalidInput(f"“{out}”是一个目录，请给出备份文件名", log=f"backup to a directory {out}")
    return out


def create(url: str, data_dir: Path, out: Path, *, now: datetime,
           progress: Progress | None = None, busy_timeout_ms: int = 5000) -> BackupResult:
    """Write a verified backup of the database at ``url`` and ``data_dir``'s attachments."""
    started = time.monotonic()
    check_out(out)
    out = out.resolve()
    if not snapshot.exists(url):
        raise InvalidInput("没有可备份的数据库：数据库文件不存在", log=f"backup: no database for {out}")
    _refuse_database_path(url, out)
    dialect = snapshot.dialect_of(url)
    work = out.with_name(f".{out.name}.{os.getpid()}.work")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        copy = work / snapshot.copy_name(dialect)

        def pages(done: int, total: int) -> None:
            if progress is not None:
                progress("database", done, total)

        try:
            snap = snapshot.take(url, copy, progress=pages, busy_timeout_ms=busy_timeout_ms)
        except snapshot.ToolMissing:
            raise BackupFailed(PG_DUMP_MISSING, log="backup: pg_dump is not installed") from None
        except snapshot.SnapshotError as exc:
            raise BackupFailed(f"复制数据库失败：{exc}", log=f"backup: {exc}") from exc
        missing, damaged, written = _write_archive(tmp, copy, snap, data_dir, now=now,
                                                   progress=progress)
        try:
            archive.verify(tmp, work, extract_files=False, progress=progress)
        except archive.BadArchive as exc:
            raise BackupFailed(f"备份校验失败，没有生成备份文件：{exc.message}",
                               log=f"backup verification failed: {exc.log}") from exc
        except snapshot.ToolMissing as exc:
            raise BackupFailed(f"无法校验备份：未找到 {exc.tool}", log=f"backup: {exc}") from exc
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        raise BackupFailed(f"写入备份失败：{exc.strerror or exc}",
                           log=f"backup: writing {out} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    result = BackupResult(out, out.stat().st_size, time.monotonic() - started, now, snap.dialect,
                          snap.revision, snap.tables, len(snap.blobs) - len(missing), written,
                          missing, damaged)
    log.info("backup written to %s: %d bytes, %d rows in %d tables, %d attachments "
             "(%d missing) in %.1f s", out, result.size, sum(snap.tables.values()),
             len(snap.tables), result.files, len(missing), result.seconds)
    if missing or damaged:
        log.warning("backup %s: %d referenced attachments missing from the file store, %d damaged",
                    out, len(missing), len(damaged))
    return result


def _write_archive(tmp: Path, copy: Path, snap: snapshot.Snapshot, data_dir: Path, *,
                   now: datetime, progress: Progress | None
                   ) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """Database copy, data files, attachments, manifest. Returns (missing, damaged, bytes)."""
    writer = archive.ArchiveWriter(tmp, mtime=now.timestamp())
    try:
        member = archive.DATABASE_MEMBERS[snap.dialect]
        if snap.dialect == snapshot.SQLITE:
            packed = copy.with_name(copy.name + ".gz")
            archive.gzip_file(copy, packed)
            copy.unlink()  # the space is needed for the archive
            writer.add_file(member, packed)
            packed.unlink()
        else:
            writer.add_file(member, copy)
            copy.unlink()
        for name in archive.DATA_FILES:
            if (data_dir / name).is_file():
                writer.add_file(f"data/{name}", data_dir / name)
        missing, damaged, written = _add_blobs(writer, files_root(data_dir), snap.blobs,
                                               progress)
        writer.finish(archive.Manifest(
            created_at=now.isoformat(), dudao_version=__version__, dialect=snap.dialect,
            schema=snap.schema, revision=snap.revision, tables=snap.tables,
            files={"referenced": len(snap.blobs), "included": len(snap.blobs) - len(missing),
                   "bytes": written, "missing": list(missing), "damaged": list(damaged)},
            members=writer.members))
    except BaseException:
        writer.abort()
        raise
    return missing, damaged, written


PG_DUMP_MISSING = (
    "未找到 pg_dump，无法备份 PostgreSQL 数据库。请安装与服务器版本相同的 PostgreSQL 客户端"
    "（如 apt install postgresql-client），或用数据库自己的工具备份：\n"
    "  pg_dump --format=custom --file=dudao.pgdump \"postgresql://用户@主机/库名\"\n"
    "并另外备份数据目录下的 files/ 目录（附件）。详见 README 的“备份与恢复”。")


def _add_blobs(writer: archive.ArchiveWriter, root: Path, blobs: tuple[str, ...],
               progress: Progress | None) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    missing: list[str] = []
    damaged: list[str] = []
    written = 0
    last = 0.0
    for i, sha in enumerate(blobs, 1):
        path = blob_path(root, sha)
        try:
            actual = writer.add_file(f"files/{sha[:2]}/{sha}", path)
        except FileNotFoundError:
            missing.append(sha)
            continue
        written += writer.members[f"files/{sha[:2]}/{sha}"]["size"]
        if actual != sha:
            damaged.append(sha)
        now = time.monotonic()
        if progress is not None and (now - last >= 0.2 or i == len(blobs)):
            last = now
            progress("files", i, len(blobs))
    return tuple(missing), tuple(damaged), written


def _refuse_database_path(url: str, out: Path) -> None:
    """Never let the archive's final rename replace the database itself."""
    if snapshot.dialect_of(url) != snapshot.SQLITE:
        return
    from storage.service_lock import lock_path, sqlite_path

    db_file = sqlite_path(url)
    if db_file is None:
        return
    db_file = db_file.resolve()
    guarded = {db_file, lock_path(db_file)} | {Path(f"{db_file}{s}") for s in ("-wal", "-shm")}
    if out in guarded:
        raise InvalidInput(f"备份文件不能写到数据库文件“{out}”上", log=f"backup over the database {out}")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

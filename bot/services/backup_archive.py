"""The backup archive: what it holds, how it is written and how it is checked.

One uncompressed tar file (``tar -tvf`` lists it), members in this order:

- ``database/dudao.db.gz``: the SQLite copy, gzip-compressed (database pages compress well), or
  ``database/dudao.pgdump``: a pg_dump custom-format archive (compressed already);
- ``data/web_secret.key``: the board's generated signing key, when there is one, so that sessions
  and read-only links stay valid after a restore;
- ``files/ab/ab12…``: each attachment, stored as it is (content-addressed; mostly compressed
  formats), under the same layout as the file store;
- ``manifest.json`` last: format, dudao version, creation time, the database's schema revision
  and row counts per table, the attachments referenced, missing or damaged, and the sha256 and
  size of every other member, plus a checksum of the manifest itself.

An archive cut short has no manifest, and any changed byte changes a member's sha256 (or the
manifest's checksum): :func:`verify` reads the whole archive and refuses both, then opens the
database copy and checks its revision and row counts against the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.domain.errors import InvalidInput
from storage import snapshot

FORMAT = "dudao-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {snapshot.SQLITE: "database/dudao.db.gz",
                    snapshot.POSTGRESQL: "database/dudao.pgdump"}
# Files of the data directory that belong with the database (bot/web/security.py KEY_FILE).
DATA_FILES = ("web_secret.key",)
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
GZIP_LEVEL = 6

_MEMBER = re.compile(r"database/dudao\.(?:db\.gz|pgdump)|files/([0-9a-f]{2})/\1[0-9a-f]{62}|data/(?:"
                     + "|".join(re.escape(n) for n in DATA_FILES) + ")")

# (stage, done, total): "verify" counts bytes of the archive read.
Progress = Callable[[str, int, int], None]


class BadArchive(InvalidInput):
    """Not a usable dudao backup (message in Chinese for people, ``log`` in English)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str
    dudao_version: str
    dialect: str
    schema: str | None
    revision: str | None
    tables: dict[str, int]
    files: dict[str, Any]
    members: dict[str, dict[str, Any]]

    def to_json(self) -> bytes:
        body = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "created_at": self.created_at, "dudao_version": self.dudao_version,
            "database": {"dialect": self.dialect, "member": DATABASE_MEMBERS[self.dialect],
                         "schema": self.schema, "schema_revision": self.revision,
                         "tables": self.tables},
            "files": self.files,
            "members": self.members,
        }
        body["checksum"] = _checksum(body)
        return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or body.get("format") != FORMAT:
                raise BadArchive("这不是督导的备份文件（清单格式不对）", log="manifest: wrong format")
            if body.get("format_version") != FORMAT_VERSION:
                raise BadArchive(
                    f"备份格式版本 {body.get('format_version')!r} 不受支持（本程序读取版本 "
                    f"{FORMAT_VERSION}），请用生成它的 dudao 版本恢复",
                    log=f"manifest: format version {body.get('format_version')!r}")
            claimed = body.pop("checksum", None)
            if claimed != _checksum(body):
                raise BadArchive("备份清单已损坏（校验和不符）", log="manifest: checksum mismatch")
            db = body["database"]
            return cls(str(body["created_at"]), str(body["dudao_version"]), str(db["dialect"]),
                       db.get("schema"), db.get("schema_revision"),
                       {str(k): int(v) for k, v in db["tables"].items()}, dict(body["files"]),
                       {str(k): dict(v) for k, v in body["members"].items()})
        except BadArchive:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadArchive("备份清单无法读取，文件已损坏", log=f"manifest unreadable: {exc}") from exc


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------- writing


class _HashingReader:
    """Reads a file for tarfile while hashing what passes through."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.sha.update(data)
        return data


class ArchiveWriter:
    """Writes members to a new tar file; :meth:`finish` adds the manifest and syncs to disk."""

    def __init__(self, path: Path, *, mtime: float) -> None:
        self.path = path
        self.members: dict[str, dict[str, Any]] = {}
        self._mtime = mtime
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds secrets
        self._fh = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._fh, mode="w",  # noqa: SIM115 - see finish()
                                 format=tarfile.PAX_FORMAT)

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(self._mtime)
        return info

    def add_file(self, name: str, src: Path) -> str:
        """Add ``src`` as ``name``; returns the sha256 of what was written."""
        with open(src, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            reader = _HashingReader(fh)
            self._tar.addfile(self._info(name, size), reader)
        digest = reader.sha.hexdigest()
        self.members[name] = {"sha256": digest, "size": size}
        return digest

    def finish(self, manifest: Manifest) -> None:
        raw = manifest.to_json()
        self._tar.addfile(self._info(MANIFEST, len(raw)), io.BytesIO(raw))
        self._tar.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()

    def abort(self) -> None:
        try:
            self._tar.close()
        finally:
            self._fh.close()


def gzip_file(src: Path, dest: Path) -> None:
    with open(src, "rb") as fin, open(dest, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as out:
        while chunk := fin.read(CHUNK):
            out.write(chunk)


# ------------------------------------------------------------------------------------- reading


@dataclass(slots=True)
class Verified:
    """A checked archive: its manifest and the members extracted into the work directory."""

    manifest: Manifest
    database: Path  # the database copy, decompressed
    blobs: dict[str, Path] = field(default_factory=dict)  # sha256 → extracted file
    data_files: dict[str, Path] = field(default_factory=dict)  # name → extracted file
    archive_bytes: int = 0


def verify(archive: Path, work: Path, *, extract_files: bool,
           progress: Progress | None = None) -> Verified:
    """Read the whole archive, check every member's sha256 and the database copy.

    The database copy (and, with ``extract_files``, the attachments and data files) are written
    to ``work``, which must exist and be empty. Raises :class:`BadArchive`.
    """
    try:
        total = archive.stat().st_size
    except OSError as exc:
        raise BadArchive(f"无法读取备份文件“{archive}”：{exc.strerror or exc}",
                         log=f"cannot read {archive}: {exc}") from exc
    found: dict[str, dict[str, Any]] = {}
    manifest_raw: bytes | None = None
    db_member: str | None = None
    db_path: Path | None = None
    blobs: dict[str, Path] = {}
    data_files: dict[str, Path] = {}
    ticker = _Ticker(progress, total)
    try:
        with open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
            while (info := tar.next()) is not None:
                name = info.name
                if manifest_raw is not None:
                    raise BadArchive("备份文件在清单之后还有内容，不是督导写出的备份",
                                     log=f"member {name!r} after the manifest")
                if not info.isfile():
                    raise BadArchive(f"备份中有不认识的条目“{name}”", log=f"non-file member {name!r}")
                src = tar.extractfile(info)
                assert src is not None
                if name == MANIFEST:
                    if info.size > MAX_MANIFEST_BYTES:
                        raise BadArchive("备份清单大得不正常，文件已损坏", log="manifest too large")
                    manifest_raw = src.read()
                    if len(manifest_raw) != info.size:
                        raise BadArchive("备份文件不完整（清单被截断）", log="manifest truncated")
                    continue
                if not _MEMBER.fullmatch(name) or name in found:
                    raise BadArchive(f"备份中有不认识的文件“{name}”", log=f"unexpected member {name!r}")
                dest: Path | None = None
                gunzip = False
                if name.startswith("database/"):
                    if db_member is not None:
                        raise BadArchive("备份中有两份数据库", log="two database members")
                    dest, gunzip = work / snapshot.copy_name(_dialect_of(name)), name.endswith(".gz")
                    db_member, db_path = name, dest
                elif name.startswith("data/"):
                    dest = work / "data" / name.removeprefix("data/") if extract_files else None
                    if dest is not None:
                        data_files[name.removeprefix("data/")] = dest
                elif extract_files:
                    dest = work / name.removeprefix("files/").replace("/", "_")
                    blobs[name.rsplit("/", 1)[1]] = dest
                found[name] = _copy_member(src, info.size, dest, gunzip=gunzip, ticker=ticker)
    except BadArchive:
        raise
    except _WriteFailed as exc:  # our disk, not the archive: say so (disk full…)
        raise exc.error from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise BadArchive("备份文件已损坏或不完整（可能被截断），无法读取",
                         log=f"{archive}: unreadable archive: {exc}") from exc
    if manifest_raw is None:
        raise BadArchive("备份文件不完整：没有找到清单（文件可能被截断，或不是督导的备份）",
                         log=f"{archive}: no manifest")
    manifest = Manifest.from_json(manifest_raw)
    _compare_members(manifest, found)
    if db_path is None or db_member != DATABASE_MEMBERS.get(manifest.dialect):
        raise BadArchive("备份中没有数据库", log=f"no database member for {manifest.dialect!r}")
    _check_database(manifest, db_path)
    ticker.done()
    return Verified(manifest, db_path, blobs, data_files, total)


def _dialect_of(member: str) -> str:
    return snapshot.SQLITE if member.endswith(".db.gz") else snapshot.POSTGRESQL


class _Ticker:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self._total = total
        self._done = 0
        self._last = 0.0

    def add(self, n: int) -> None:
        self._done += n
        now = time.monotonic()
        if self._progress is not None and now - self._last >= 0.2:
            self._last = now
            self._progress("verify", self._done, self._total)

    def done(self) -> None:
        if self._progress is not None:
            self._progress("verify", self._total, self._total)


class _WriteFailed(Exception):
    """Writing an extracted member to the work directory failed (an OSError of ours)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _copy_member(src: IO[bytes], size: int, dest: Path | None, *, gunzip: bool,
                 ticker: _Ticker) -> dict[str, Any]:
    sha = hashlib.sha256()
    seen = 0
    out = None
    if dest is not None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = open(dest, "wb")  # noqa: SIM115 - closed below, also on error
        except OSError as exc:
            raise _WriteFailed(exc) from exc
    inflate = zlib.decompressobj(wbits=31) if gunzip else None
    unpacked = True
    try:
        while chunk := src.read(CHUNK):
            sha.update(chunk)
            seen += len(chunk)
            ticker.add(len(chunk))
            if out is None or not unpacked:
                continue
            try:
                data = chunk if inflate is None else inflate.decompress(chunk)
            except zlib.error:
                # Keep hashing: a damaged member is reported by its sha256 like any other.
                unpacked = False
                continue
            _write(out, data)
        if inflate is not None and out is not None and unpacked:
            _write(out, inflate.flush())
            unpacked = inflate.eof
    finally:
        if out is not None:
            try:
                out.close()
            except OSError as exc:
                raise _WriteFailed(exc) from exc
    if seen != size:
        raise BadArchive("备份文件不完整（可能被截断）", log=f"member short: {seen} of {size} bytes")
    return {"sha256": sha.hexdigest(), "size": size, "unpacked": unpacked}


def _write(out: IO[bytes], data: bytes) -> None:
    try:
        out.write(data)
    except OSError as exc:
        raise _WriteFailed(exc) from exc


def _compare_members(manifest: Manifest, found: dict[str, dict[str, Any]]) -> None:
    listed = manifest.members
    missing = sorted(set(listed) - set(found))
    extra = sorted(set(found) - set(listed))
    if missing:
        raise BadArchive(f"备份文件不完整：缺少 {len(missing)} 个文件（如 {missing[0]}）",
                         log=f"members missing: {missing[:5]}")
    if extra:
        raise BadArchive(f"备份中有清单没有列出的文件（如 {extra[0]}）",
                         log=f"members not in the manifest: {extra[:5]}")
    bad = sorted(n for n in listed if listed[n].get("sha256") != found[n]["sha256"]
                 or listed[n].get("size") != found[n]["size"])
    if bad:
        raise BadArchive(f"备份文件已损坏：{len(bad)} 个文件的 sha256 校验不符（如 {bad[0]}）",
                         log=f"sha256 mismatch: {bad[:5]}")
    packed = sorted(n for n in found if not found[n]["unpacked"])
    if packed:  # the hashes match: the archive was written so (not by dudao, or by a bug)
        raise BadArchive("备份中的数据库副本无法解压", log=f"{packed[0]}: not a complete gzip stream")


def _check_database(manifest: Manifest, copy: Path) -> None:
    try:
        info = snapshot.inspect(manifest.dialect, copy, schema=manifest.schema)
    except snapshot.ToolMissing:
        raise
    except snapshot.SnapshotError as exc:
        raise BadArchive("备份中的数据库副本无法打开", log=f"database copy: {exc}") from exc
    if info.revision != manifest.revision:
        raise BadArchive(f"数据库副本的结构版本（{info.revision}）与清单（{manifest.revision}）不符",
                         log=f"revision {info.revision!r} != manifest {manifest.revision!r}")
    wrong = sorted(t for t in set(manifest.tables) | set(info.tables)
                   if manifest.tables.get(t) != info.tables.get(t))
    if wrong:
        t = wrong[0]
        raise BadArchive(f"数据库副本的行数与清单不符（{t}：副本 {info.tables.get(t)}，"
                         f"清单 {manifest.tables.get(t)}）", log=f"row counts differ: {wrong[:5]}")

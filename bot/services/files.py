"""Attachments kept by content hash under ``<data_dir>/files``.

Platform file handles expire within hours (onebot.md §6), so files are fetched when the message
arrives and stored here; a submission records name, sha256 and size. A download streams into an
:class:`Incoming` file: a temporary file in the store's own directory (same file system, so the
final rename is atomic), hashed while it is written, renamed to its hash on ``commit``. A crash
never leaves a half-written file under a hash; memory holds at most one buffer per download.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from bot.core.event import StoredFile
from storage.blobs import blob_path, is_sha256

_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")
FLUSH_BYTES = 1024 * 1024
TEMP_PREFIX = ".incoming-"


def safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._")[:120] or "file"


class Incoming:
    """One attachment being written (see the module docstring). Writes go to disk in a thread,
    a buffer of ``FLUSH_BYTES`` at a time."""

    def __init__(self, root: Path, name: str) -> None:
        self._root = root
        self._name = safe_name(name)
        self._buf = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self._file: IO[bytes] | None = None
        self._tmp: Path | None = None
        self._done = False

    async def write(self, chunk: bytes) -> None:
        if self._done:
            raise RuntimeError("attachment already committed or discarded")
        if not self._buf and len(chunk) >= FLUSH_BYTES:
            await asyncio.to_thread(self._write_sync, chunk)  # a large piece: no copy
            return
        self._buf += chunk
        if len(self._buf) >= FLUSH_BYTES:
            data = bytes(self._buf)
            self._buf.clear()
            await asyncio.to_thread(self._write_sync, data)

    async def commit(self) -> StoredFile:
        if self._done:
            raise RuntimeError("attachment already committed or discarded")
        data = bytes(self._buf)
        self._buf.clear()
        try:
            return await asyncio.to_thread(self._commit_sync, data)
        finally:
            self._done = True

    async def discard(self) -> None:
        self._done = True
        self._buf.clear()
        await asyncio.to_thread(self._discard_sync)

    # --- on the worker thread -------------------------------------------------------------------

    def _write_sync(self, data: bytes) -> None:
        if self._file is None:
            self._root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._root, prefix=TEMP_PREFIX)
            self._file, self._tmp = os.fdopen(fd, "wb"), Path(tmp)
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    def _commit_sync(self, rest: bytes) -> StoredFile:
        try:
            self._write_sync(rest)  # also creates the file of an empty attachment
            assert self._file is not None
            assert self._tmp is not None
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            digest = self._hash.hexdigest()
            path = blob_path(self._root, digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                self._tmp.unlink()  # the same bytes are already stored
            else:
                self._tmp.replace(path)
            self._tmp = None
            return StoredFile(name=self._name, sha256=digest, size=self._size, path=str(path))
        except BaseException:
            self._discard_sync()
            raise

    def _discard_sync(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            self._tmp = None


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def writer(self, name: str) -> Incoming:
        return Incoming(self.root, name)

    async def put(self, name: str, data: bytes) -> StoredFile:
        incoming = self.writer(name)
        await incoming.write(data)
        return await incoming.commit()

    def open_path(self, sha256: str) -> Path | None:
        if not is_sha256(sha256):
            return None
        path = blob_path(self.root, sha256)
        return path if path.exists() else None

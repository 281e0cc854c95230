"""Attachments kept by content hash under ``<data_dir>/files``.

Platform file handles expire within hours (onebot.md §6), so files are fetched when the message
arrives and stored here; a submission records name, sha256 and size.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path

from bot.core.event import StoredFile
from storage.blobs import blob_path, is_sha256

_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _write(self, name: str, data: bytes) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        path = blob_path(self.root, digest)
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = folder / f".{digest}.{os.getpid()}.tmp"
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a crash never leaves a half-written file under the hash
        safe = _UNSAFE.sub("_", name).strip("._")[:120] or "file"
        return StoredFile(name=safe, sha256=digest, size=len(data), path=str(path))

    async def put(self, name: str, data: bytes) -> StoredFile:
        return await asyncio.to_thread(self._write, name, data)

    def open_path(self, sha256: str) -> Path | None:
        if not is_sha256(sha256):
            return None
        path = blob_path(self.root, sha256)
        return path if path.exists() else None

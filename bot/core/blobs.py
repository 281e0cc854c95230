"""Where downloaded attachments are written: a store that takes the bytes as they arrive.

Adapters stream an attachment into a :class:`BlobWriter` instead of holding it in memory (a
48 MB file is 48 MB per message otherwise); the store decides where it lands (``bot.files``
writes a temporary file next to the stored ones, hashes it while writing and renames it into
place on ``commit``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.core.event import StoredFile


class BlobWriter(Protocol):
    async def write(self, chunk: bytes) -> None: ...

    async def commit(self) -> StoredFile:
        """Keep what was written: the stored file, named by its sha256."""
        ...

    async def discard(self) -> None:
        """Forget what was written (a failed or refused download). Safe to call twice."""
        ...


NewBlob = Callable[[], BlobWriter]
"""Opens a writer for one attachment (its name already chosen by the caller)."""

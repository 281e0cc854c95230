"""Where downloaded attachments are written: a store that takes the bytes as they arrive.

Adapters stream an attachment into a :class:`BlobWriter` instead of holding it in memory (a
48 MB file is 48 MB per message otherwise); the store decides where it lands (the service's
file store writes a temporary file next to the stored ones, hashes it while writing and renames
it into place on ``commit``). :func:`keep_attachments` is the one loop every adapter's
``resolve_attachments`` runs: each attachment is fetched and stored, or named as missing so the
handler can ask for it again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from bot.core.event import File, Image, MessageEvent, StoredFile

log = logging.getLogger("dudao.files")


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


class BlobStore(Protocol):
    """The service's file store, as adapters see it."""

    def writer(self, name: str) -> BlobWriter:
        """A writer for one attachment called ``name``."""
        ...

    def open_path(self, sha256: str) -> Path | None:
        """The stored file with this hash, or None."""
        ...


Fetch = Callable[[Image | File, NewBlob], Awaitable[StoredFile | None]]
"""Downloads one attachment into the writer it opens; None when it could not."""


def default_name(seg: Image | File) -> str:
    return seg.name or (seg.file if isinstance(seg, Image) else "") or "file"


async def keep_attachments(event: MessageEvent, store: BlobStore, fetch: Fetch, *,
                           name_of: Callable[[Image | File], str] = default_name
                           ) -> MessageEvent:
    """``event`` with its attachments stored (``files``) or named as missing (``missing_files``).

    Nothing is lost: a failed download leaves the message as it is and the name of what could
    not be fetched, which the handler turns into "please send it again".
    """
    stored: list[StoredFile] = []
    missing: list[str] = []
    for seg in event.attachments:
        name = name_of(seg)
        try:
            kept = await fetch(seg, functools.partial(store.writer, name))
        except Exception as exc:
            log.warning("attachment %r of %s not fetched: %s", name, event.dedupe_key, exc)
            kept = None
        if kept is None:
            missing.append(name)
        else:
            stored.append(kept)
    return replace(event, files=tuple(stored), missing_files=tuple(missing))

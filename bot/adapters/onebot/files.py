"""Downloading attachments while their handles are still valid.

Implementations forget media and file handles quickly (NapCat: 24 h, 5000 entries; image URLs
carry an expiring ``rkey``: https://github.com/NapNeko/NapCatQQ/issues/190), so the bytes are
fetched when the event
arrives. Order of attempts: the segment's own http(s) URL; then ``get_file`` (base64 or URL in
the answer); then, for group files, ``get_group_file_url``. Paths on the implementation's host are
never read: in split deployments they are not ours. Every URL goes through the
:class:`~bot.adapters.download.Downloader` (allowed addresses only, bounded, streamed to
disk); the implementation's own address counts as allowed, as its file server is often on the
same host. Failures give None, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Protocol

from bot.adapters.download import Downloader
from bot.adapters.onebot.errors import OneBotError
from bot.adapters.url_policy import IPAddress, parse_ip
from bot.core.blobs import NewBlob
from bot.core.event import ChatKind, ChatRef, File, Image, StoredFile

log = logging.getLogger("dudao.onebot")


class ActionCaller(Protocol):
    """The part of ``OneBotAdapter`` a fetcher needs."""

    async def call(self, self_id: str, action: str, params: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any: ...  # noqa: ASYNC109

    def protocol_of(self, self_id: str) -> str | None: ...

    def peer_of(self, self_id: str) -> str | None:
        """The address the account's implementation connects from (None if unknown)."""
        ...


class FileFetcher(Protocol):
    async def fetch(self, adapter: ActionCaller, self_id: str, chat: ChatRef,
                    segment: File | Image, new_blob: NewBlob) -> StoredFile | None: ...


class HttpFileFetcher:
    """The default ``FileFetcher``: the ``Downloader`` for URLs, OneBot actions for handles."""

    def __init__(self, downloader: Downloader | None = None) -> None:
        self.downloader = downloader or Downloader()

    async def fetch(self, adapter: ActionCaller, self_id: str, chat: ChatRef,
                    segment: File | Image, new_blob: NewBlob) -> StoredFile | None:
        impl = parse_ip(adapter.peer_of(self_id))
        url = segment.url or (segment.file if isinstance(segment, Image) else "")
        if _is_http(url):
            stored = await self.downloader.download(url, new_blob, impl=impl)
            if stored is not None:
                return stored
        handle = segment.file if isinstance(segment, Image) else segment.file_id
        if handle:
            stored = await self._via_get_file(adapter, self_id, handle, new_blob, impl)
            if stored is not None:
                return stored
        if (isinstance(segment, File) and segment.file_id and chat.kind is ChatKind.GROUP
                and adapter.protocol_of(self_id) == "v11"):
            params: dict[str, Any] = {"group_id": _num(chat.id), "file_id": segment.file_id}
            if segment.busid:
                params["busid"] = _num(segment.busid)
            answer = await _try_call(adapter, self_id, "get_group_file_url", params)
            if isinstance(answer, dict) and _is_http(str(answer.get("url", ""))):
                return await self.downloader.download(str(answer["url"]), new_blob, impl=impl)
        log.warning("could not fetch attachment %r for account %s in %s",
                    getattr(segment, "name", "") or handle, self_id, chat)
        return None

    async def _via_get_file(self, adapter: ActionCaller, self_id: str, handle: str,
                            new_blob: NewBlob, impl: IPAddress | None) -> StoredFile | None:
        if adapter.protocol_of(self_id) == "v12":
            answer = await _try_call(adapter, self_id, "get_file",
                                     {"file_id": handle, "type": "url"})
        else:
            # NapCat/LLOneBot read either key; images are known by ``file``, files by ``file_id``.
            answer = await _try_call(adapter, self_id, "get_file",
                                     {"file_id": handle, "file": handle})
        if not isinstance(answer, dict):
            return None
        encoded = answer.get("base64") or answer.get("data")
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded.removeprefix("base64://"), validate=True)
            except (binascii.Error, ValueError):
                log.warning("get_file answered with invalid base64")
            else:
                return await self.downloader.store(data, new_blob)
        url = answer.get("url")
        if isinstance(url, str) and _is_http(url):
            return await self.downloader.download(url, new_blob, impl=impl)
        return None


async def _try_call(adapter: ActionCaller, self_id: str, action: str,
                    params: dict[str, Any]) -> Any:
    try:
        return await adapter.call(self_id, action, params)
    except OneBotError as exc:
        log.info("%s for an attachment failed: %s", action, exc)
        return None


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _num(value: str) -> int | str:
    return int(value) if value.isdigit() else value

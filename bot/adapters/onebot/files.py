"""Downloading attachments while their handles are still valid.

Implementations forget media and file handles quickly (NapCat: 24 h, 5000 entries; image URLs
carry an expiring ``rkey`` — onebot.md §6, §7.5), so the bytes are fetched when the event
arrives. Order of attempts: the segment's own http(s) URL; then ``get_file`` (base64 or URL in
the answer); then, for group files, ``get_group_file_url``. Paths on the implementation's host are
never read: in split deployments they are not ours. Failures give None, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from bot.adapters.onebot.errors import OneBotError
from bot.core.event import ChatKind, ChatRef, File, Image

log = logging.getLogger("dudao.onebot")

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
_CHUNK = 64 * 1024


class ActionCaller(Protocol):
    """The part of ``OneBotAdapter`` a fetcher needs."""

    async def call(self, self_id: str, action: str, params: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any: ...  # noqa: ASYNC109

    def protocol_of(self, self_id: str) -> str | None: ...


class FileFetcher(Protocol):
    async def fetch(self, adapter: ActionCaller, self_id: str, chat: ChatRef,
                    segment: File | Image) -> bytes | None: ...


class TooLarge(Exception):
    pass


class HttpFileFetcher:
    """The default ``FileFetcher``: aiohttp for URLs, OneBot actions for handles.

    ``session`` is borrowed when given (the app's shared ClientSession); otherwise one is made
    per fetch, which is fine at attachment rates.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None, *,
                 max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = 60.0) -> None:
        self._session = session
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def fetch(self, adapter: ActionCaller, self_id: str, chat: ChatRef,
                    segment: File | Image) -> bytes | None:
        url = segment.url or (segment.file if isinstance(segment, Image) else "")
        if _is_http(url):
            data = await self.download(url)
            if data is not None:
                return data
        handle = segment.file if isinstance(segment, Image) else segment.file_id
        if handle:
            data = await self._via_get_file(adapter, self_id, handle)
            if data is not None:
                return data
        if (isinstance(segment, File) and segment.file_id and chat.kind is ChatKind.GROUP
                and adapter.protocol_of(self_id) == "v11"):
            params: dict[str, Any] = {"group_id": _num(chat.id), "file_id": segment.file_id}
            if segment.busid:
                params["busid"] = _num(segment.busid)
            answer = await _try_call(adapter, self_id, "get_group_file_url", params)
            if isinstance(answer, dict) and _is_http(str(answer.get("url", ""))):
                return await self.download(str(answer["url"]))
        log.warning("could not fetch attachment %r for account %s in %s",
                    getattr(segment, "name", "") or handle, self_id, chat)
        return None

    async def _via_get_file(self, adapter: ActionCaller, self_id: str,
                            handle: str) -> bytes | None:
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
                return base64.b64decode(encoded.removeprefix("base64://"), validate=True)
            except (binascii.Error, ValueError):
                log.warning("get_file answered with invalid base64")
        url = answer.get("url")
        if isinstance(url, str) and _is_http(url):
            return await self.download(url)
        return None

    async def download(self, url: str) -> bytes | None:
        """GET ``url`` (http/https only) into memory, refusing bodies over the size cap."""
        if not _is_http(url):
            return None
        host = urlsplit(url).hostname  # log the host only: query strings carry access keys
        try:
            if self._session is not None:
                return await self._get(self._session, url)
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                return await self._get(session, url)
        except TooLarge:
            log.warning("attachment from %s exceeds %d bytes; not downloaded", host,
                        self._max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("attachment download from %s failed: %s", host, type(exc).__name__)
        return None

    async def _get(self, session: aiohttp.ClientSession, url: str) -> bytes:
        async with session.get(url, timeout=self._timeout) as resp:
            resp.raise_for_status()
            if resp.content_length is not None and resp.content_length > self._max_bytes:
                raise TooLarge
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                buf += chunk
                if len(buf) > self._max_bytes:
                    raise TooLarge
            return bytes(buf)


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

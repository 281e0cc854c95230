"""The OneBot adapter: QQ (OneBot 11) and WeChat bridges (OneBot 12) behind one Adapter.

It serves the v11 and v12 endpoints (``v11.py``, ``v12.py``, over the shared transport of
``hub.py``), hands every decoded event to the host, downloads attachments when the host asks
(their handles expire within hours: https://napneko.github.io/develop/file), and sends the
outbox's envelopes on the account that should speak, mapping the implementation's failures to
what the outbox understands (:class:`~bot.core.adapter.SendError`). It reacts to messages with
an emoji, and posts offered documents as group files, where the implementation behind the
account can (``capabilities.py``; learnt once per account, ``Connection.app_names``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.adapters.download import Downloader
from bot.adapters.onebot import capabilities, codec_v11
from bot.adapters.onebot.errors import (
    ActionFailed,
    ActionTimeout,
    ConnectionLost,
    NotConnected,
)
from bot.adapters.onebot.files import FileFetcher, HttpFileFetcher
from bot.adapters.onebot.hub import MAX_FRAME_BYTES, Hub
from bot.adapters.onebot.store import DEFAULT_TIMEOUT
from bot.adapters.onebot.transport import Connection
from bot.adapters.onebot.v11 import PUSH_CONCURRENCY, PUSH_MAX_BYTES, V11
from bot.adapters.onebot.v12 import V12
from bot.adapters.url_policy import UrlPolicy
from bot.core.adapter import Envelope, Host, SendError
from bot.core.blobs import BlobStore, NewBlob, keep_attachments
from bot.core.event import (
    ChatKind,
    ChatRef,
    Event,
    Face,
    File,
    Image,
    MessageEvent,
    Reply,
    StoredFile,
)
from bot.core.message import OutgoingMessage

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger("dudao.onebot")

MiB = 1024 * 1024
# The implementation downloads the file before it answers an upload.
UPLOAD_TIMEOUT = 120.0


class OneBotAdapter(V11, V12):
    name = "onebot"
    platforms = ("qq", "wx")

    def __init__(self, *, access_token: str = "", secret: str = "",
                 sink: Callable[[Event], None], max_frame_bytes: int = MAX_FRAME_BYTES,
                 downloader: FileFetcher | None = None, heartbeat: float = 30.0,
                 call_timeout: float = DEFAULT_TIMEOUT, files: BlobStore | None = None,
                 push_max_bytes: int = PUSH_MAX_BYTES,
                 push_concurrency: int = PUSH_CONCURRENCY,
                 forward_urls: tuple[str, ...] = ()) -> None:
        Hub.__init__(self, access_token=access_token, sink=sink,
                     max_frame_bytes=max_frame_bytes, heartbeat=heartbeat,
                     call_timeout=call_timeout, pictures=files)
        self._setup_v11(secret=secret, push_max_bytes=push_max_bytes,
                        push_concurrency=push_concurrency)
        self._files = files
        self._downloader = downloader
        self._forward_urls = forward_urls

    # --- the Adapter protocol -----------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return self._v11_routes() + self._v12_routes()

    async def start(self) -> None:
        # Implementations that only offer a forward WebSocket (NapCat "WebSocket 服务器",
        # go-cqhttp's ws server): we connect out and reconnect with capped back-off.
        for url in self._forward_urls:
            self.start_forward(url)

    async def stop(self) -> None:
        await self.close()

    def health(self) -> list[dict[str, Any]]:
        return [{
            "platform": acc.platform, "self_id": acc.self_id, "protocol": acc.protocol,
            "connected": acc.connected, "online": acc.online,
            "last_heartbeat": acc.last_heartbeat.isoformat() if acc.last_heartbeat else None,
            "frames_in": acc.frames_in, "bad_frames": acc.bad_frames,
        } for acc in self.accounts().values()]

    def available_accounts(self, platform: str) -> list[str]:
        return [sid for sid, acc in self._accounts.items()
                if acc.connected and acc.platform == platform]

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        if self._files is None:
            return event

        async def fetch(seg: Image | File, new_blob: NewBlob) -> StoredFile | None:
            return await self.fetch_attachment(event.self_id, event.chat, seg, new_blob)

        return await keep_attachments(event, self._files, fetch)

    def _account_for(self, envelope: Envelope) -> str:
        if envelope.account:
            return envelope.account
        accounts = self.available_accounts(envelope.chat.platform)
        if not accounts:
            raise SendError(f"no {envelope.chat.platform} account connected", unavailable=True)
        return accounts[0]

    async def send(self, envelope: Envelope) -> str:
        account = self._account_for(envelope)
        with _as_send_error():
            return await self.send_message(account, envelope.message)

    async def react(self, envelope: Envelope) -> bool:
        """React to the message the envelope's ``Reply`` names with its ``Face``, where the
        implementation behind the account can (``capabilities.py``); else send nothing."""
        reply = next((s for s in envelope.message.segments if isinstance(s, Reply)), None)
        face = next((s for s in envelope.message.segments if isinstance(s, Face)), None)
        if reply is None or face is None:
            return False
        account = self._account_for(envelope)
        conn = self._by_self.get(account)
        if conn is None:
            raise SendError(f"account {account} is not connected", unavailable=True)
        if conn.protocol != "v11":
            return False
        with _as_send_error():
            if not capabilities.can_react(await self._app_name(conn, account)):
                return False
            await self.call(account, "set_msg_emoji_like",
                            {"message_id": codec_v11.id_param(reply.message_id),
                             "emoji_id": face.id})
        return True

    async def _app_name(self, conn: Connection, account: str) -> str:
        name = conn.app_names.get(account)
        if name is None:
            try:
                info = await self.call(account, "get_version_info")
            except (ActionFailed, ActionTimeout) as exc:
                log.info("account %s: get_version_info failed (%s); taking it for a plain "
                         "OneBot 11 implementation", account, exc)
                info = None
            name = str(info.get("app_name", "")) if isinstance(info, dict) else ""
            conn.app_names[account] = name
            log.info("account %s runs on %s", account, name or "an unnamed implementation")
        return name

    async def can_send_file(self, chat: ChatRef, account: str | None) -> bool:
        """The ``FileSender`` capability: a group on an implementation that uploads from a URL
        (``capabilities.py``)."""
        if chat.kind is not ChatKind.GROUP:
            return False
        self_id = account or next(iter(self.available_accounts(chat.platform)), None)
        conn = self._by_self.get(self_id) if self_id else None
        if self_id is None or conn is None or conn.protocol != "v11":
            return False
        try:
            name = await self._app_name(conn, self_id)
        except NotConnected:
            return False  # gone meanwhile: the link goes out instead, nothing is cached
        return capabilities.can_upload_from_url(name)

    # --- sending and fetching -----------------------------------------------------------------

    async def send_message(self, account_self_id: str, msg: OutgoingMessage) -> str:
        """Send ``msg`` from the account; the platform message id, or "" when none is given
        (ComWeChat answers ``data: true``). Raises the OneBot errors (``bot/adapters/onebot/
        errors.py``); :meth:`send` is the outbox's view of this."""
        conn = self._by_self.get(account_self_id)
        if conn is None:
            raise NotConnected(f"account {account_self_id} is not connected")
        if conn.protocol == "v12":
            action, params = await self._encode_v12(account_self_id, msg)
        else:
            action, params = await self._encode_v11(msg)
        timeout = UPLOAD_TIMEOUT if action == "upload_group_file" else None
        data = await self.call(account_self_id, action, params, timeout=timeout)
        if isinstance(data, dict):
            if action == "upload_group_file":  # NapCat/LLOneBot answer {file_id}; others null
                return str(data.get("file_id") or "")
            mid = data.get("message_id")
            return "" if mid is None else str(mid)
        return ""

    async def fetch_attachment(self, self_id: str, chat: ChatRef, segment: File | Image,
                               new_blob: NewBlob) -> StoredFile | None:
        """Download an inbound attachment into ``new_blob()`` via the configured
        ``FileFetcher``; None when it could not be fetched (or no fetcher is configured)."""
        if self._downloader is None:
            return None
        return await self._downloader.fetch(self, self_id, chat, segment, new_blob)


@contextlib.contextmanager
def _as_send_error() -> Iterator[None]:
    """The OneBot errors of a send or a reaction, as the outbox understands them."""
    try:
        yield
    except ConnectionLost as exc:
        raise SendError(str(exc), unconfirmed=True) from exc
    except NotConnected as exc:
        raise SendError(str(exc), unavailable=True) from exc
    except ActionTimeout as exc:
        # A timed-out send may have gone out (go-cqhttp reports failures of messages it
        # delivered: https://github.com/Mrs4s/go-cqhttp/issues/382): treat it like risk
        # control rather than resending at once.
        raise SendError(f"timeout: {exc}", risk_control=True) from exc
    except ActionFailed as exc:
        raise SendError(str(exc), risk_control=exc.risk_control) from exc


def create(settings: Settings, host: Host) -> OneBotAdapter:
    """The OneBot endpoints are always served: an implementation may connect at any time."""
    ob = settings.onebot
    policy = UrlPolicy.build(own_port=settings.http.port, public_url=settings.http.public_url,
                             allow=ob.download_allow_hosts,
                             trust_impl_host=ob.download_trust_impl_host)
    downloads = Downloader(policy=policy, max_bytes=ob.download_max_mb * MiB,
                           concurrency=ob.download_concurrency,
                           inflight_bytes=ob.download_inflight_mb * MiB)
    return OneBotAdapter(access_token=ob.access_token, secret=ob.secret, sink=host.submit,
                         max_frame_bytes=ob.max_frame_mb * MiB,
                         downloader=HttpFileFetcher(downloads), call_timeout=ob.action_timeout_s,
                         files=host.files, push_max_bytes=ob.push_max_kb * 1024,
                         push_concurrency=settings.http.max_unauthenticated_reads,
                         forward_urls=ob.forward_urls)

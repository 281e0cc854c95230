"""OneBot 12 (WeChat bridges such as ComWeChat): its endpoint, frames and media.

Reverse WebSocket at ``/onebot/v12/ws``. The bots behind a socket are named by the ``connect``
and ``status_update`` meta events and by each event's ``self``; every action carries the
``self`` of the account it is for, and media go out by ``file_id`` after ``upload_file``.
Spec: https://12.onebot.dev/
"""

from __future__ import annotations

import base64
import logging
from dataclasses import replace
from typing import Any

from aiohttp import web

from bot.adapters.onebot import codec_v12
from bot.adapters.onebot.errors import ActionFailed, OneBotError
from bot.adapters.onebot.hub import Hub, utc_now
from bot.adapters.onebot.transport import Connection
from bot.core import media
from bot.core.event import File, Image, Segment, StoredImage
from bot.core.message import OutgoingMessage

log = logging.getLogger("dudao.onebot")


class V12(Hub):
    """The v12 side of the adapter (see the module docstring)."""

    def _v12_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/onebot/v12/ws", self._ws_v12, allow_head=False),
            web.get("/onebot/v12/ws/", self._ws_v12, allow_head=False),
        ]

    async def _encode_v12(self, self_id: str, msg: OutgoingMessage) -> tuple[str, dict[str, Any]]:
        msg = await media.attach_pictures(msg, lambda seg: self._stored_picture_v12(self_id, seg))
        msg = await self._upload_media_v12(self_id, msg)
        return codec_v12.encode_send(msg)

    # --- reverse WebSocket ----------------------------------------------------------------------

    async def _ws_v12(self, request: web.Request) -> web.StreamResponse:
        refused = await self._refuse(request)
        if refused is not None:
            return refused
        # v12 reverse WS offers "12.<impl>"; answer it or strict clients drop the handshake.
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                   if p.strip()]
        chosen = next((p for p in offered if p.startswith("12.")), offered[0] if offered else None)
        ws = self._ws_response((chosen,) if chosen else ())
        await ws.prepare(request)
        conn = Connection(ws, "v12", request.remote or "?", peer=request.remote)
        self._conns.add(conn)
        # Bots are named by the connect/status_update meta events and each event's ``self``.
        header_self = request.headers.get("X-Self-ID", "").strip()
        if header_self:
            self._bind_v12(conn, header_self, {"platform": codec_v12.DEFAULT_PLATFORM})
        log.info("v12 socket connected from %s (%s)", conn.remote, chosen or "no subprotocol")
        try:
            await self._read(conn, self._on_v12_text)
        finally:
            self._drop(conn)
        return ws

    # --- frames ---------------------------------------------------------------------------------

    def _on_v12_text(self, conn: Connection, data: str) -> None:
        self._count(conn)
        frame = self._parse(conn, data)
        if frame is None:
            return
        etype = frame.get("type")
        if etype is None:
            conn.store.resolve(frame)
        elif etype == "meta":
            self._meta_v12(conn, frame)
        else:
            uid = self._bot_of(frame.get("self"))
            if uid is not None and uid not in conn.accounts:
                self._bind_v12(conn, uid, frame["self"])
                conn.accounts[uid].frames_in += 1
            self._deliver(conn, frame, codec_v12.decode_event)

    @staticmethod
    def _bot_of(me: Any) -> str | None:
        """The bot id in a v12 ``self`` object if usable: a string (leniently an int)."""
        uid = me.get("user_id") if type(me) is dict else None
        if type(uid) is str and uid:
            return uid
        return str(uid) if type(uid) is int else None

    def _bind_v12(self, conn: Connection, uid: str, me: dict[str, Any]) -> None:
        platform = me.get("platform")
        if type(platform) is not str or not platform:
            platform = codec_v12.DEFAULT_PLATFORM
        self._bind(conn, uid, "v12", prefix=codec_v12.prefix_for(platform), v12_platform=platform)

    def _meta_v12(self, conn: Connection, frame: dict[str, Any]) -> None:
        kind = frame.get("detail_type")
        if kind == "heartbeat":
            now = utc_now()
            interval = frame.get("interval")
            for acc in conn.accounts.values():
                acc.last_heartbeat = now
                if type(interval) is int:
                    acc.heartbeat_interval_ms = interval
        elif kind == "status_update":
            status = frame.get("status")
            bots = status.get("bots") if type(status) is dict else None
            for bot in bots if type(bots) is list else ():
                me = bot.get("self") if type(bot) is dict else None
                uid = self._bot_of(me)
                if uid is None or type(me) is not dict:
                    continue
                if uid not in conn.accounts:
                    self._bind_v12(conn, uid, me)
                online = bot.get("online")
                if isinstance(online, bool):
                    conn.accounts[uid].online = online
        elif kind == "connect":
            version = frame.get("version")
            impl = version.get("impl") if type(version) is dict else None
            log.info("v12 implementation %s connected from %s", impl or "?", conn.remote)

    # --- media ----------------------------------------------------------------------------------

    async def _stored_picture_v12(self, self_id: str, seg: StoredImage) -> Segment | None:
        """v12 sends media by file id: upload the bytes (``type: data``) first."""
        data = await media.read_picture(self._pictures, seg)
        if data is None:
            return None
        try:
            res = await self.call(self_id, "upload_file", {
                "type": "data", "name": seg.name or f"{seg.sha256[:16]}.jpg",
                "data": base64.b64encode(data).decode("ascii"), "sha256": seg.sha256,
            }, timeout=max(self._call_timeout, 60.0))
        except ActionFailed:
            return None  # logged by call(); the text fallback goes out instead
        file_id = res.get("file_id") if isinstance(res, dict) else None
        if not file_id:
            log.warning("upload_file for picture %s returned no file_id", seg.sha256[:12])
            return None
        return Image(file=str(file_id), name=seg.name)

    async def _upload_media_v12(self, self_id: str, msg: OutgoingMessage) -> OutgoingMessage:
        """v12 sends media by ``file_id`` only: upload URL-only images/files first."""
        segments: list[Segment] = []
        changed = False
        for seg in msg.segments:
            if isinstance(seg, Image) and not seg.file and seg.url:
                seg = replace(seg, file=await self._upload_v12(self_id, seg.url, seg.name))
                changed = True
            elif isinstance(seg, File) and not seg.file_id and seg.url:
                seg = replace(seg, file_id=await self._upload_v12(self_id, seg.url, seg.name))
                changed = True
            segments.append(seg)
        return OutgoingMessage(msg.chat, tuple(segments)) if changed else msg

    async def _upload_v12(self, self_id: str, url: str, name: str) -> str:
        data = await self.call(self_id, "upload_file",
                               {"type": "url", "url": url, "name": name or "file"})
        file_id = data.get("file_id") if isinstance(data, dict) else None
        if not file_id:
            raise OneBotError("upload_file returned no file_id")
        return str(file_id)

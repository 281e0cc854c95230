"""A platform made up for the tests: ``lb``, spoken over plain JSON on ``/loopback``.

It exists to show that a new platform is one module: it implements the Adapter protocol of
``bot/core/adapter.py`` and is named in ``create_app(adapters=[...])`` by its module path; the
service, the registry and ``bot/app.py`` are not touched. ``POST /loopback/messages`` takes
``{"from": "alice", "chat": "user:alice" | "group:g1", "id": "m1", "text": "…",
"files": [{"name": "a.txt", "base64": "…"}]}``; what the bot sends is kept in ``sent`` and
shown at ``GET /loopback/sent``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.core.adapter import Envelope, Host, SendError
from bot.core.blobs import NewBlob, keep_attachments
from bot.core.event import ChatRef, File, Image, MessageEvent, Segment, StoredFile, Text, UserRef

PLATFORM = "lb"


class LoopbackAdapter:
    name = "loopback"
    platforms = (PLATFORM,)

    def __init__(self, host: Host) -> None:
        self.host = host
        self.sent: list[dict[str, Any]] = []
        self.started = self.stopped = self.closed = False
        self._inline: dict[str, bytes] = {}  # file handle -> bytes, until resolved

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/loopback/messages", self._receive),
                web.get("/loopback/sent", self._sent)]

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def close(self) -> None:
        self.closed = True

    def health(self) -> dict[str, Any]:
        return {"sent": len(self.sent)}

    def available_accounts(self, platform: str) -> list[str]:
        return [""]

    async def send(self, envelope: Envelope) -> str:
        if self.closed:
            raise SendError("closed", unavailable=True)
        self.sent.append({"chat": envelope.chat.key, "text": envelope.message.plain,
                          "kind": envelope.kind, "outbox_id": envelope.outbox_id})
        return f"lb-{envelope.outbox_id}"

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        async def fetch(seg: Image | File, new_blob: NewBlob) -> StoredFile | None:
            data = self._inline.pop(seg.file_id if isinstance(seg, File) else seg.file, None)
            if data is None:
                return None
            blob = new_blob()
            await blob.write(data)
            return await blob.commit()

        return await keep_attachments(event, self.host.files, fetch)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        segments: list[Segment] = []
        for i, f in enumerate(body.get("files", [])):
            handle = f"{body['id']}/{i}"
            self._inline[handle] = base64.b64decode(f["base64"])
            segments.append(File(name=f["name"], file_id=handle))
        segments.append(Text(body["text"]))
        chat = ChatRef.parse(f"{PLATFORM}:{body['chat']}")
        self.host.submit(MessageEvent(
            platform=PLATFORM, self_id="lb-bot", chat=chat, sender=UserRef(PLATFORM, body["from"]),
            message_id=body["id"], segments=tuple(segments), time=datetime.now(UTC),
            to_me=body.get("to_me", False)))
        return web.Response(status=204)

    async def _sent(self, request: web.Request) -> web.Response:
        return web.json_response(self.sent)


def create(settings: Any, host: Host) -> LoopbackAdapter:
    return LoopbackAdapter(host)

"""A fake OneBot implementation (the NapCat side of a reverse WebSocket) for adapter tests.

It connects to the adapter with real aiohttp sockets, sends events, and answers the actions it
receives with their echo. Behaviour per action can be changed: fail with a retcode, never
answer, or drop the TCP connection without a close frame ("die") when the action arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from typing import Any

import aiohttp

SELF_ID = 3889000001
GROUP_ID = 600000001
USER_ID = 20000001


class FakeImpl:
    def __init__(self, session: aiohttp.ClientSession, url: str, *, self_id: int | str = SELF_ID,
                 token: str | None = None, scheme: str = "Bearer",
                 headers: dict[str, str] | None = None, protocols: tuple[str, ...] = (),
                 v12: bool = False) -> None:
        self.session = session
        self.url = url
        self.self_id = self_id
        self.v12 = v12
        self.headers: dict[str, str] = {"X-Client-Role": "Universal", "User-Agent": "FakeImpl/1"}
        if not v12:
            self.headers["X-Self-ID"] = str(self_id)
        if token is not None:
            self.headers["Authorization"] = f"{scheme} {token}"
        if headers is not None:
            self.headers.update(headers)
        self.protocols = protocols
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.actions: list[dict[str, Any]] = []
        self.failures: dict[str, dict[str, Any]] = {}
        self.silent: set[str] = set()
        self.die_on: set[str] = set()
        self.results: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None
        self._next_message_id = 90000
        self.closed = asyncio.Event()

    # --- connection ---------------------------------------------------------------------------

    async def connect(self) -> FakeImpl:
        self.ws = await self.session.ws_connect(self.url, headers=self.headers,
                                                protocols=self.protocols, autoping=True)
        self._reader = asyncio.create_task(self._read())
        return self

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def die(self) -> None:
        """Drop the TCP connection without a WebSocket close frame (a crashed implementation)."""
        assert self.ws is not None
        sock = self.ws.get_extra_info("socket")  # asyncio's TransportSocket wrapper
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code if self.ws is not None else None

    # --- sending ------------------------------------------------------------------------------

    async def send_event(self, payload: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(payload, ensure_ascii=False))

    async def send_raw(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(text)

    async def send_bytes(self, data: bytes) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(data)

    # --- answering ----------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_action(json.loads(msg.data))
        finally:
            self.closed.set()

    async def _on_action(self, req: dict[str, Any]) -> None:
        self.actions.append(req)
        action = req.get("action", "")
        if action in self.die_on:
            self.die()
            return
        if action in self.silent:
            return
        if action in self.failures:
            resp = {"status": "failed", "data": None, **self.failures[action]}
        else:
            resp = {"status": "ok", "retcode": 0, "data": self._data(action, req), "message": ""}
        resp["echo"] = req.get("echo")
        assert self.ws is not None
        if not self.ws.closed:
            await self.ws.send_str(json.dumps(resp, ensure_ascii=False))

    def _data(self, action: str, req: dict[str, Any]) -> Any:
        if action in self.results:
            return self.results[action]
        if action in ("send_group_msg", "send_private_msg", "send_msg", "send_message"):
            self._next_message_id += 1
            return {"message_id": self._next_message_id}
        if action == "get_login_info":
            return {"user_id": self.self_id, "nickname": "督导"}
        return None

    async def wait_actions(self, n: int, within: float = 3.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(within):
            while True:
                if len(self.actions) >= n:
                    return self.actions
                await asyncio.sleep(0.005)


# --- event payloads (shapes from onebot.md §2; NapCat flavour) ----------------------------------


def seg(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


def group_message(text: str = "提交 三季度报告", *, message_id: Any = 1001,
                  message: Any = None, self_id: Any = SELF_ID, **extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "time": int(time.time()), "self_id": self_id, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": message_id,
        "group_id": GROUP_ID, "user_id": USER_ID, "anonymous": None,
        "message": message if message is not None else [seg("text", text=text)],
        "raw_message": text, "font": 14, "message_format": "array",
        "sender": {"user_id": USER_ID, "nickname": "张三", "card": "", "role": "member"},
    }
    p.update(extra)
    return p


def private_message(text: str = "帮助", *, message_id: Any = 2001,
                    self_id: Any = SELF_ID) -> dict[str, Any]:
    return {
        "time": int(time.time()), "self_id": self_id, "post_type": "message",
        "message_type": "private", "sub_type": "friend", "message_id": message_id,
        "user_id": USER_ID, "message": [seg("text", text=text)], "raw_message": text, "font": 14,
        "sender": {"user_id": USER_ID, "nickname": "张三"},
    }


def notice(notice_type: str, *, self_id: Any = SELF_ID, **fields: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"time": int(time.time()), "self_id": self_id, "post_type": "notice",
                         "notice_type": notice_type}
    p.update(fields)
    return p


def group_upload(*, file_id: str = "/7e079f92-aaaa", name: str = "报告.docx") -> dict[str, Any]:
    return notice("group_upload", group_id=GROUP_ID, user_id=USER_ID,
                  file={"id": file_id, "name": name, "size": 20480, "busid": 102})


def request(request_type: str = "friend", **fields: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"time": int(time.time()), "self_id": SELF_ID, "post_type": "request",
                         "request_type": request_type, "user_id": USER_ID, "comment": "",
                         "flag": "flag-1"}
    p.update(fields)
    return p


def heartbeat(*, online: bool = True, self_id: Any = SELF_ID,
              interval: int = 30000) -> dict[str, Any]:
    return {"time": int(time.time()), "self_id": self_id, "post_type": "meta_event",
            "meta_event_type": "heartbeat", "status": {"online": online, "good": online},
            "interval": interval}


def lifecycle(sub_type: str = "connect", *, self_id: Any = SELF_ID) -> dict[str, Any]:
    return {"time": int(time.time()), "self_id": self_id, "post_type": "meta_event",
            "meta_event_type": "lifecycle", "sub_type": sub_type}

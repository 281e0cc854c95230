"""WeCom group robots (群机器人): text and markdown through the webhook, split and rate-limited.

- ``POST {api_base}/cgi-bin/webhook/send?key=KEY`` with JSON
  (https://developer.work.weixin.qq.com/document/path/91770). The key is the
  robot's only credential: it never appears in logs or exception messages; logs name a robot by
  a short hash of its key (:func:`robot_id`).
- Text content is at most 2048 bytes of UTF-8 and markdown at most 4096: longer texts are split
  on line boundaries (a line longer than the limit is cut between characters, never inside one),
  sent in order; @-mentions go with the first part only.
- At most ``per_minute`` messages per robot key in any 60-s window (20 by the platform; over it the
  robot is blocked for 10 minutes): a send waits for its turn, it is never dropped.
- errcode 93000 (invalid webhook or robot removed) raises :class:`RobotDisabled` and the robot is
  remembered as disabled; 45009 raises :class:`RobotRateLimited` and the robot is not used for
  10 minutes; other errcodes raise :class:`WeComError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiohttp

log = logging.getLogger("dudao.wecom")

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
TEXT_LIMIT = 2048
MARKDOWN_LIMIT = 4096
WINDOW_S = 60.0
BLOCK_S = 600.0
TRANSPORT_ERRCODE = -999


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str, *, robot: str = "") -> None:
        super().__init__(f"WeCom robot {robot or '?'} failed: errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.robot = robot


class RobotDisabled(WeComError):
    """93000: the webhook is invalid or the robot was removed from its group. Tell an admin."""


class RobotRateLimited(WeComError):
    """45009: over the rate limit; the robot is blocked until ``retry_after`` seconds from now."""

    def __init__(self, errcode: int, errmsg: str, *, robot: str = "",
                 retry_after: float = BLOCK_S) -> None:
        super().__init__(errcode, errmsg, robot=robot)
        self.retry_after = retry_after


def robot_id(key: str) -> str:
    """A name for a robot fit for logs: the first 8 hex digits of sha256(key)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def split_by_bytes(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` bytes of UTF-8, cut at line ends where possible.

    A line longer than ``limit`` is cut between characters. Line breaks at the cuts are dropped,
    as are parts that would be empty.
    """
    if limit < 4:
        raise ValueError("limit must leave room for one character")
    parts: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        part = "".join(current).rstrip("\r\n")
        if part.strip():
            parts.append(part)
        current, size = [], 0

    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if size + n <= limit:
            current.append(line)
            size += n
            continue
        flush()
        if n <= limit:
            current, size = [line], n
            continue
        # one line longer than the limit: cut it between characters
        for ch in line:
            c = len(ch.encode("utf-8"))
            if size + c > limit:
                flush()
            current.append(ch)
            size += c
    flush()
    return parts


class WeComRobot:
    """Sends to WeCom group robots; one instance serves every robot key."""

    def __init__(self, session: aiohttp.ClientSession, *, api_base: str = DEFAULT_API_BASE,
                 per_minute: int = 20, now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 timeout_s: float = 10.0) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._session = session
        self._url = f"{api_base.rstrip('/')}/cgi-bin/webhook/send"
        self._per_minute = per_minute
        self._now = now
        self._sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._blocked_until: dict[str, float] = {}
        self._disabled: set[str] = set()

    def is_disabled(self, key: str) -> bool:
        return key in self._disabled

    def enable(self, key: str) -> None:
        """Forget an earlier 93000 (after an admin fixed the robot)."""
        self._disabled.discard(key)

    async def send_text(self, key: str, text: str, *, mentioned_list: Sequence[str] = (),
                        mentioned_mobile_list: Sequence[str] = ()) -> int:
        """Sends ``text`` (split as needed); returns the number of messages sent.

        ``mentioned_list`` holds user ids or ``"@all"``; ``mentioned_mobile_list`` phone numbers.
        """
        parts = split_by_bytes(text, TEXT_LIMIT)
        if not parts:
            raise ValueError("nothing to send")
        payloads: list[dict[str, Any]] = []
        for i, part in enumerate(parts):
            content: dict[str, Any] = {"content": part}
            if i == 0 and mentioned_list:
                content["mentioned_list"] = list(mentioned_list)
            if i == 0 and mentioned_mobile_list:
                content["mentioned_mobile_list"] = list(mentioned_mobile_list)
            payloads.append({"msgtype": "text", "text": content})
        return await self._send_all(key, payloads)

    async def send_markdown(self, key: str, text: str) -> int:
        """Sends markdown (mention with ``<@userid>`` inside it); returns the messages sent."""
        parts = split_by_bytes(text, MARKDOWN_LIMIT)
        if not parts:
            raise ValueError("nothing to send")
        return await self._send_all(
            key, [{"msgtype": "markdown", "markdown": {"content": p}} for p in parts])

    async def _send_all(self, key: str, payloads: Iterable[dict[str, Any]]) -> int:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        sent = 0
        async with lock:  # the parts of one text stay together and in order
            for payload in payloads:
                await self._send_one(key, payload)
                sent += 1
        return sent

    async def _wait_turn(self, key: str) -> None:
        times = self._sent.setdefault(key, deque())
        while True:
            now = self._now()
            while times and now - times[0] >= WINDOW_S:
                times.popleft()
            if len(times) < self._per_minute:
                times.append(now)
                return
            wait = times[0] + WINDOW_S - now
            log.info("robot %s: %d messages in the last minute, waiting %.1f s",
                     robot_id(key), len(times), wait)
            await self._sleep(wait)

    async def _send_one(self, key: str, payload: dict[str, Any]) -> None:
        rid = robot_id(key)
        if key in self._disabled:
            raise RobotDisabled(93000, "robot was disabled by an earlier 93000", robot=rid)
        blocked = self._blocked_until.get(key)
        if blocked is not None:
            left = blocked - self._now()
            if left > 0:
                raise RobotRateLimited(45009, "robot is blocked after a rate-limit error",
                                       robot=rid, retry_after=left)
            del self._blocked_until[key]
        await self._wait_turn(key)
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session.post(
                self._url, params={"key": key}, data=body, timeout=self._timeout,
                headers={"Content-Type": "application/json; charset=utf-8"},
            ) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # aiohttp's error text contains the URL, and the URL the key
            raise WeComError(TRANSPORT_ERRCODE, type(exc).__name__, robot=rid) from None
        if status != 200:
            raise WeComError(TRANSPORT_ERRCODE, f"HTTP {status}", robot=rid)
        try:
            data = json.loads(raw)
            errcode = int(data.get("errcode", -1))
            errmsg = str(data.get("errmsg", "")).replace(key, "***")
        except (ValueError, TypeError, AttributeError):
            raise WeComError(TRANSPORT_ERRCODE, "answer is not JSON", robot=rid) from None
        if errcode == 0:
            return
        # errmsg may quote the request; keep it out of the log line, which only names the code
        if errcode == 93000:
            self._disabled.add(key)
            log.error("robot %s disabled by WeCom (errcode 93000): invalid webhook or removed "
                      "from its group", rid)
            raise RobotDisabled(errcode, errmsg, robot=rid)
        if errcode == 45009:
            self._blocked_until[key] = self._now() + BLOCK_S
            log.error("robot %s rate-limited by WeCom (errcode 45009); pausing it for %.0f s",
                      rid, BLOCK_S)
            raise RobotRateLimited(errcode, errmsg, robot=rid, retry_after=BLOCK_S)
        log.warning("robot %s: WeCom errcode %s", rid, errcode)
        raise WeComError(errcode, errmsg, robot=rid)

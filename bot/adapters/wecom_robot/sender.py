"""The outbox's sender for WeCom groups (platform ``wecom``), through their group robots.

A chat ``wecom:group:<name>`` is reached through the robot whose webhook key is stored on its
group row (``groups.webhook_key``); keys are looked up through ``lookup_key`` and cached for
``cache_ttl_s`` seconds. The robot's per-minute limit stays in :class:`WeComRobot`.

Errors for the outbox: no key or a removed robot (93000, :class:`RobotDisabled`) is permanent
(the outbox gives up and tells the admins; the cached key is forgotten, so a key an admin fixed
is used at once); a rate-limited robot (45009) pauses the account (``risk_control``); other
failures are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.adapters.wecom_robot.client import (
    RobotDisabled,
    RobotRateLimited,
    WeComError,
    WeComRobot,
)
from bot.core.adapter import Envelope, SendError
from bot.core.event import ChatKind, Mention, Text
from bot.core.media import without_pictures

log = logging.getLogger("dudao.wecom")

PLATFORM = "wecom"

KeyLookup = Callable[[str], Awaitable[str | None]]
"""The webhook key of the group with this chat key, or None."""


class WeComSender:
    platform = PLATFORM

    def __init__(self, robot: WeComRobot, lookup_key: KeyLookup, *, cache_ttl_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.robot = robot
        self._lookup = lookup_key
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[str | None, float]] = {}

    def available_accounts(self, platform: str) -> list[str]:
        return [""]

    async def _key(self, chat: str) -> str | None:
        now = self._clock()
        hit = self._cache.get(chat)
        if hit is not None and hit[1] > now:
            return hit[0]
        key = await self._lookup(chat)
        self._cache[chat] = (key, now + self._ttl)
        return key

    async def send(self, envelope: Envelope) -> str:
        chat = envelope.chat
        if chat.kind is not ChatKind.GROUP:
            raise SendError(f"WeCom robots only send to groups: {chat.key}", permanent=True)
        key = await self._key(chat.key)
        if not key:
            self._cache.pop(chat.key, None)
            raise SendError(f"group {chat.key} has no robot webhook key", permanent=True)
        # Stored pictures go as their text note: an image message per picture would be a second
        # send that a retry of a failed one repeats, and robots allow 20 messages a minute.
        message = without_pictures(envelope.message)
        text = "".join(s.text for s in message.segments if isinstance(s, Text)).strip()
        mentions = ["@all" if s.user_id == "all" else s.user_id
                    for s in message.segments if isinstance(s, Mention)]
        if not text:
            raise SendError("nothing a WeCom text message can carry", permanent=True)
        try:
            await self.robot.send_text(key, text, mentioned_list=mentions)
        except RobotDisabled as exc:
            self._cache.pop(chat.key, None)
            raise SendError(f"{exc} (group {chat.key})", permanent=True) from None
        except RobotRateLimited as exc:
            raise SendError(str(exc), risk_control=True) from None
        except WeComError as exc:
            raise SendError(str(exc)) from None
        return ""

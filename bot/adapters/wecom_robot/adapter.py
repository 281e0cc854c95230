"""WeCom (企业微信) group robots as an Adapter: the ``wecom`` platform, send only.

A robot receives nothing (it has no callback), so this adapter serves no routes; it sends to
groups whose row has a ``webhook_key`` (looked up through the host's store). Always created:
it costs one HTTP session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.adapters.wecom_robot.client import WeComRobot
from bot.adapters.wecom_robot.sender import PLATFORM, WeComSender
from bot.core.adapter import Envelope, Host, SendError
from bot.core.event import MessageEvent

if TYPE_CHECKING:
    from config.settings import Settings


class WeComRobotAdapter:
    name = "wecom_robot"
    platforms = (PLATFORM,)

    def __init__(self, settings: Settings, host: Host) -> None:
        self._settings = settings.wecom
        self._host = host
        self._session: aiohttp.ClientSession | None = None
        self.sender: WeComSender | None = None

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        robot = WeComRobot(self._session, api_base=self._settings.api_base,
                           per_minute=self._settings.per_minute)
        self.sender = WeComSender(robot, self._host.store.webhook_key)

    async def stop(self) -> None:
        return None  # nothing comes in

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def health(self) -> dict[str, Any]:
        return {"started": self.sender is not None}

    def available_accounts(self, platform: str) -> list[str]:
        return self.sender.available_accounts(platform) if self.sender is not None else []

    async def send(self, envelope: Envelope) -> str:
        if self.sender is None:
            raise SendError("WeCom robots are not started", unavailable=True)
        return await self.sender.send(envelope)

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        return event


def create(settings: Settings, host: Host) -> WeComRobotAdapter:
    return WeComRobotAdapter(settings, host)

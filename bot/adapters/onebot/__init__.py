"""OneBot v11/v12 adapter: reverse WebSocket and HTTP push in, actions out (onebot.md)."""

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.onebot.errors import ActionFailed, ActionTimeout, NotConnected, OneBotError
from bot.adapters.onebot.files import FileFetcher, HttpFileFetcher
from bot.adapters.onebot.transport import AccountState

__all__ = [
    "AccountState",
    "ActionFailed",
    "ActionTimeout",
    "FileFetcher",
    "HttpFileFetcher",
    "NotConnected",
    "OneBotAdapter",
    "OneBotError",
]

"""OneBot v11/v12: reverse WebSocket and HTTP push in, actions out (https://onebot.dev/)."""

from bot.adapters.download import Downloader
from bot.adapters.onebot.adapter import OneBotAdapter, create
from bot.adapters.onebot.errors import ActionFailed, ActionTimeout, NotConnected, OneBotError
from bot.adapters.onebot.files import FileFetcher, HttpFileFetcher
from bot.adapters.onebot.transport import AccountState
from bot.adapters.url_policy import UrlPolicy

__all__ = [
    "AccountState",
    "ActionFailed",
    "ActionTimeout",
    "Downloader",
    "FileFetcher",
    "HttpFileFetcher",
    "NotConnected",
    "OneBotAdapter",
    "OneBotError",
    "UrlPolicy",
    "create",
]

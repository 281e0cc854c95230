"""WeChat official account (公众号): the callback at ``/wechat/mp`` and the outbound API client.

Only this package knows WeChat XML/JSON; it turns callbacks into core events
(``bot.core.event``) with platform ``mp``.
"""

from bot.adapters.wechat_mp.adapter import WeChatMpAdapter, create
from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.callback import WeChatCallback
from bot.adapters.wechat_mp.errors import Decision, WeChatAPIError, WeChatTransportError
from bot.adapters.wechat_mp.quota import InMemoryQuotaTracker, QuotaLimits, QuotaTracker
from bot.adapters.wechat_mp.tokens import AccessTokenManager, InMemoryTokenStore
from bot.core.ports import CachedToken, TokenStore

__all__ = [
    "AccessTokenManager",
    "CachedToken",
    "Decision",
    "InMemoryQuotaTracker",
    "InMemoryTokenStore",
    "QuotaLimits",
    "QuotaTracker",
    "TokenStore",
    "WeChatAPI",
    "WeChatAPIError",
    "WeChatCallback",
    "WeChatMpAdapter",
    "WeChatTransportError",
    "create",
]

"""What an implementation can do beyond OneBot 11, by the ``app_name`` of its get_version_info.

Only what the service uses is listed. ``set_msg_emoji_like {message_id, emoji_id}`` (react to a
message with a QQ emoji) exists in NapCat (``packages/napcat-onebot/action``, app_name
"NapCat.Onebot") and LLOneBot (app_name "LLOneBot", lately "LLBot"); go-cqhttp and Lagrange.OneBot
have no such action.
"""

from __future__ import annotations

_EMOJI_LIKE = ("napcat", "llonebot", "llbot")


def can_react(app_name: str) -> bool:
    name = app_name.lower()
    return any(impl in name for impl in _EMOJI_LIKE)

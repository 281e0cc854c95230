"""What an implementation can do beyond OneBot 11, by the ``app_name`` of its get_version_info.

The adapter asks each account's implementation once (``OneBotAdapter._app_name``, cached in
``Connection.app_names``) and every capability below is decided from that one answer. Only what
the service uses is listed.

- ``set_msg_emoji_like {message_id, emoji_id}`` (react to a message with a QQ emoji) exists in
  NapCat (``packages/napcat-onebot/action``, app_name "NapCat.Onebot") and LLOneBot (app_name
  "LLOneBot", lately "LLBot"); go-cqhttp and Lagrange.OneBot have no such action.
- ``upload_group_file`` with an http(s) URL as ``file``: NapCat and LLOneBot fetch it
  themselves; Lagrange and go-cqhttp take only a path on their own host, which a bot on another
  host cannot give (onebot.md §4.3, §7.5).
"""

from __future__ import annotations

_EMOJI_LIKE = ("napcat", "llonebot", "llbot")
_URL_UPLOADERS = ("napcat", "llonebot", "llbot")


def can_react(app_name: str) -> bool:
    name = app_name.lower()
    return any(impl in name for impl in _EMOJI_LIKE)


def can_upload_from_url(app_name: str) -> bool:
    """An unnamed implementation (get_version_info failed) is not trusted with URLs."""
    name = app_name.lower()
    return any(impl in name for impl in _URL_UPLOADERS)

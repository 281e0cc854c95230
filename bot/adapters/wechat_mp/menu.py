"""The official account's custom menu: the built-in one, and checking one read from a file.

A CLICK button sends us its ``key``; the bot answers only keys of :data:`MENU_COMMANDS`
(the adapter turns them into the text command), so a menu whose CLICK key is unknown
is refused before it reaches WeChat, as is anything WeChat would refuse (its menu rules: 1 to 3
buttons, each with at most 5 sub-buttons; names at most 16 bytes at the top and 60 below; keys
at most 128 bytes; URLs at most 1024 bytes). Messages are in Chinese: they are shown to the
admin running ``dudao wechat menu``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.wechat_mp.api import WeChatAPI

MENU_COMMANDS: dict[str, str] = {"my_tasks": "我的任务", "status": "进度", "flags": "红旗榜"}
"""Menu CLICK key → the text command it stands for."""

DEFAULT_MENU: dict[str, Any] = {
    "button": [{"type": "click", "name": name, "key": key} for key, name in MENU_COMMANDS.items()],
}

_URL_TYPES = ("view",)
_KEY_TYPES = ("click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
              "pic_weixin", "location_select")
_OTHER_TYPES = ("miniprogram", "media_id", "article_id", "article_view_limited", "view_limited")


class MenuError(ValueError):
    """The menu is not one we can create; the message says why (in Chinese)."""


def load_menu(path: Path) -> dict[str, Any]:
    """Read and check a menu in WeChat's ``menu/create`` JSON format."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MenuError(f"读不到菜单文件 {path}：{exc.strerror or exc}") from None
    try:
        menu = json.loads(raw)
    except ValueError as exc:
        raise MenuError(f"菜单文件 {path} 不是合法的 JSON：{exc}") from None
    return validate_menu(menu)


def validate_menu(menu: Any) -> dict[str, Any]:
    """``menu`` unchanged if WeChat would accept it and every CLICK key is a known command."""
    if not isinstance(menu, Mapping) or not isinstance(menu.get("button"), list):
        raise MenuError('菜单应是 {"button": [...]} 形式的 JSON 对象')
    buttons = menu["button"]
    if not 1 <= len(buttons) <= 3:
        raise MenuError(f"一级菜单应有 1 到 3 个，现有 {len(buttons)} 个")
    for i, button in enumerate(buttons, 1):
        where = f"第 {i} 个一级菜单"
        _name(button, where, 16)
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise MenuError(f"{where}的子菜单应是最多 5 项的列表")
            for j, sub in enumerate(subs, 1):
                sub_where = f"{where}的第 {j} 个子菜单"
                _name(sub, sub_where, 60)
                _action(sub, sub_where)
        else:
            _action(button, where)
    return dict(menu)


def _name(button: Any, where: str, max_bytes: int) -> None:
    if not isinstance(button, Mapping):
        raise MenuError(f"{where}应是 JSON 对象")
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MenuError(f"{where}缺少名称（name）")
    if len(name.encode("utf-8")) > max_bytes:
        raise MenuError(f"{where}的名称“{name}”太长（最多 {max_bytes} 字节）")


def _action(button: Mapping[str, Any], where: str) -> None:
    kind = button.get("type")
    if kind in _URL_TYPES:
        url = button.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) \
                or len(url.encode("utf-8")) > 1024:
            raise MenuError(f"{where}（view）需要以 http:// 或 https:// 开头的网址")
    elif kind in _KEY_TYPES:
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode("utf-8")) > 128:
            raise MenuError(f"{where}（{kind}）需要 key（最多 128 字节）")
        if kind == "click" and key not in MENU_COMMANDS:
            known = "、".join(f"{k}（{v}）" for k, v in MENU_COMMANDS.items())
            raise MenuError(f"{where}的 key “{key}”不是机器人认识的命令；可用：{known}")
    elif kind not in _OTHER_TYPES:
        raise MenuError(f"{where}的类型（type）“{kind}”不认识")


async def create_default_menu(api: WeChatAPI) -> None:
    """Create the account's menu: 我的任务 / 进度 / 红旗榜 as CLICK buttons."""
    await api.create_menu(DEFAULT_MENU)

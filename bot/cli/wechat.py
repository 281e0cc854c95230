"""``dudao wechat menu``: the official account's custom menu."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.cli.common import CliError, Subcommands, group, leaf, load
from bot.cli.session import admin_session


def cmd_wechat_menu(args: argparse.Namespace) -> int:
    from bot.adapters.wechat_mp.errors import WeChatAPIError
    from bot.adapters.wechat_mp.menu import DEFAULT_MENU, MenuError, load_menu

    settings = load(args)
    try:
        menu = load_menu(Path(args.file)) if args.file else DEFAULT_MENU
    except MenuError as exc:
        raise CliError(str(exc)) from None
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    mp = settings.wechat_mp
    if not (mp.app_id and mp.app_secret):
        raise CliError("未配置公众号 [wechat_mp] app_id 和 app_secret，无法创建菜单")
    from bot.app import create_menu

    with admin_session(args, settings) as admin:
        try:
            asyncio.run(create_menu(admin.db, mp, menu))
        except WeChatAPIError as exc:
            print(f"错误：微信接口拒绝创建菜单（errcode {exc.errcode}：{exc.errmsg}）",
                  file=sys.stderr)
            return 1
        names = [b["name"] for b in menu["button"]]
        admin.run(lambda conn: admin.audit(conn, "wechat.menu", f"mp:{mp.app_id}",
                                           {"buttons": names}))
        admin.emit({"created": True, "menu": menu}, f"公众号菜单已创建：{'、'.join(names)}")
    return 0


def register(sub: Subcommands) -> None:
    wechat = group(sub, "wechat", "微信公众号")
    wm = leaf(wechat, "menu", cmd_wechat_menu,
              "创建公众号自定义菜单（默认：我的任务、进度、红旗榜）")
    wm.add_argument("--file", help="菜单 JSON 文件（微信 menu/create 格式）；不给则用内置菜单")
    wm.add_argument("--dry-run", action="store_true", help="只打印菜单，不调用微信接口")

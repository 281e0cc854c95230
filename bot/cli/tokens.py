"""``dudao token add | list | revoke``: bearer tokens for the JSON API (``/api/v1/``).

The token is printed once, by ``add``; the database keeps only a hash of it
(bot/services/api_tokens.py). Every add and revoke is audited.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from bot.cli.common import Subcommands, group, leaf
from bot.cli.session import admin_session

if TYPE_CHECKING:
    from bot.services.api_tokens import TokenInfo


def _record(t: TokenInfo) -> dict[str, object]:
    return {"id": t.id, "name": t.name, "created_by": t.created_by,
            "created_at": t.created_at.isoformat(),
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}


def cmd_token_add(args: argparse.Namespace) -> int:
    from bot.services import api_tokens

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> tuple[TokenInfo, str]:
            info, token = api_tokens.add(conn, name=args.name, created_by=admin.actor, now=now)
            admin.audit(conn, "api_token.add", f"api_token:{info.id}", {"name": info.name})
            return info, token

        info, token = admin.run(write)
        admin.emit({**_record(info), "token": token},
                   f"已创建 API 令牌 {info.id}（{info.name}）：\n{token}\n"
                   "令牌只显示这一次，请妥善保存；用法：Authorization: Bearer <令牌>")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from bot.services import api_tokens

    with admin_session(args) as admin:
        rows = admin.run(api_tokens.list_tokens)
        admin.emit([_record(t) for t in rows],
                   "\n".join(f"{t.id}  {t.name}  {admin.env.fmt(t.created_at)}  {t.created_by}"
                             f"{'  已吊销 ' + admin.env.fmt(t.revoked_at) if t.revoked_at else ''}"
                             for t in rows) or "（没有 API 令牌）")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from bot.services import api_tokens

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> TokenInfo:
            info = api_tokens.revoke(conn, args.id, now=now)
            admin.audit(conn, "api_token.revoke", f"api_token:{info.id}", {"name": info.name})
            return info

        info = admin.run(write)
        admin.emit(_record(info), f"已吊销 API 令牌 {info.id}（{info.name}），即时生效")
    return 0


def _token_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"令牌编号应是正整数：{text!r}")
    return int(text)


def register(sub: Subcommands) -> None:
    grp = group(sub, "token", "API 令牌（/api/v1/ 的 Bearer 令牌）")
    ta = leaf(grp, "add", cmd_token_add, "创建 API 令牌（只显示一次）")
    ta.add_argument("name", help="用途，如 省厅数据平台")
    leaf(grp, "list", cmd_token_list, "列出 API 令牌（不显示令牌本身）")
    tr = leaf(grp, "revoke", cmd_token_revoke, "吊销 API 令牌")
    tr.add_argument("id", type=_token_id, help="令牌编号（token list 中的第一列）")

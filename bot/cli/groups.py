"""``dudao group add | list | edit | remove``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf
from bot.cli.session import admin_session

if TYPE_CHECKING:
    from bot.services.groups import GroupInfo


def _record(g: GroupInfo) -> dict[str, object]:
    return {"id": g.id, "chat": g.chat, "name": g.name, "purpose": g.purpose,
            "units": len(g.unit_ids)}


def cmd_group_add(args: argparse.Namespace) -> int:
    from bot.services import groups

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> groups.GroupInfo:
            g = groups.add(conn, chat=args.chat, name=args.name or "", units_spec=args.units,
                           purpose=args.purpose, account=args.account,
                           webhook_key=args.webhook_key, now=now)
            admin.audit(conn, "group.add", g.chat,
                        {"units": len(g.unit_ids), "purpose": g.purpose})
            return g

        g = admin.run(write)
        admin.emit(_record(g),
                   f"已登记群 {g.chat}（{g.name or '未命名'}，"
                   f"{'管理群' if g.purpose == 'admin' else '交流群'}），服务 {len(g.unit_ids)} 个单位")
    return 0


def cmd_group_list(args: argparse.Namespace) -> int:
    from bot.services import groups

    with admin_session(args) as admin:
        rows = admin.run(groups.list_groups)
        admin.emit([_record(g) for g in rows],
                   "\n".join(f"{g.chat}  {g.name}  {g.purpose}  {len(g.unit_ids)} 个单位"
                             for g in rows) or "（没有群）")
    return 0


def cmd_group_edit(args: argparse.Namespace) -> int:
    from bot.services import groups

    if args.name is None and args.units is None:
        raise CliError("没有要修改的内容：请给出 --name 或 --units")
    with admin_session(args) as admin:
        def write(conn: Connection) -> tuple[groups.GroupInfo, dict[str, list[object]]]:
            g, changes = groups.edit(conn, args.chat, name=args.name, units_spec=args.units)
            admin.audit(conn, "group.edit", g.chat, changes)
            return g, changes

        g, changes = admin.run(write)
        admin.emit({**_record(g), "changes": changes},
                   f"已修改群 {g.chat}（{g.name or '未命名'}），服务 {len(g.unit_ids)} 个单位")
    return 0


def cmd_group_remove(args: argparse.Namespace) -> int:
    from bot.services import groups

    with admin_session(args) as admin:
        def write(conn: Connection) -> groups.GroupInfo:
            g = groups.remove(conn, args.chat)
            admin.audit(conn, "group.remove", g.chat, {"name": g.name, "units": len(g.unit_ids)})
            return g

        g = admin.run(write)
        admin.emit({**_record(g), "active": False},
                   f"已移除群 {g.chat}（{g.name or '未命名'}）：不再向该群发送消息")
    return 0


def register(sub: Subcommands) -> None:
    grp = group(sub, "group", "群")
    ga = leaf(grp, "add", cmd_group_add, "登记群")
    ga.add_argument("chat", help="平台:group:群号，如 qq:group:40001")
    ga.add_argument("--name")
    ga.add_argument("--units", help="all | kind:city | 郑州市,开封市 | 各地市、直管县、省直部门、单位名"
                    "（不写则暂不服务任何单位）")
    ga.add_argument("--purpose", default="exchange", choices=("exchange", "admin"))
    ga.add_argument("--account", help="在该群发消息的机器人账号（OneBot self id）")
    ga.add_argument("--webhook-key", help="企业微信群机器人的 key")
    leaf(grp, "list", cmd_group_list, "列出群")
    ge = leaf(grp, "edit", cmd_group_edit, "修改群名或服务的单位")
    ge.add_argument("chat", help="平台:group:群号，如 qq:group:40001")
    ge.add_argument("--name")
    ge.add_argument("--units", help="all | kind:city | 郑州市,开封市 | 各地市…（空字符串：不服务任何单位）")
    gr = leaf(grp, "remove", cmd_group_remove, "移除群（不再向该群发送消息）")
    gr.add_argument("chat", help="平台:group:群号，如 qq:group:40001")

"""``dudao notice send``."""

from __future__ import annotations

import argparse

from sqlalchemy import Connection

from bot.cli.common import Subcommands, group, leaf
from bot.cli.session import admin_session


def cmd_notice_send(args: argparse.Namespace) -> int:
    from bot.services import notices

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> notices.NoticeResult:
            res = notices.send(conn, text=" ".join(args.text), targets=args.to, created_by=None,
                               now=now, remind=args.remind)
            admin.audit(conn, "notice.send", f"notice:{res.id}",
                        {"targets": args.to, "remind": args.remind})
            return res

        res = admin.run(write)
        admin.emit({"id": res.id, "groups": res.groups, "units": res.units},
                   f"通知 {res.id} 已写入发件箱：{res.groups} 个群，{res.units} 个单位"
                   "（由运行中的 dudao serve 投递）")
    return 0


def register(sub: Subcommands) -> None:
    notice = group(sub, "notice", "通知")
    ns = leaf(notice, "send", cmd_notice_send, "群发通知")
    ns.add_argument("--to", default="all",
                    help="all | kind:city | qq:group:40001 | 各地市、直管县、省直部门、单位名")
    ns.add_argument("--remind", default="",
                    help="未确认单位的提醒：4x2 = 每 4 个工作小时提醒一次、最多 2 次；none = 不提醒；"
                         "默认按配置 [schedule] notice_remind")
    ns.add_argument("text", nargs="+")

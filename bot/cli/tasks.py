"""``dudao task add | list``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import Connection

from bot.cli.common import Subcommands, group, leaf, load, parse_time
from bot.cli.session import admin_session

SYSTEMS = ("guidance", "exchange", "supervision", "evaluation")


def _task_record(t: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"id": t.id, "title": t.title, "due": t.due.isoformat(),
            "units": [names.get(u, str(u)) for u in t.unit_ids], "system": t.system,
            "status": t.status}


def cmd_task_add(args: argparse.Namespace) -> int:
    from bot.services import tasks

    settings = load(args)
    due = parse_time(args.due, settings)  # bad input fails before the database is touched
    with admin_session(args, settings) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> tuple[tasks.TaskInfo, list[str]]:
            t, warnings = tasks.add(conn, title=args.title, due=due, units_spec=args.units,
                                    system=args.system, description=args.description or "",
                                    created_by=None, now=now, recurrence=args.recurrence)
            admin.audit(conn, "task.create", f"task:{t.id}",
                        {"title": t.title, "due": due.isoformat()})
            return t, warnings

        t, warnings = admin.run(write)
        for w in warnings:
            print(f"警告：{w}", file=sys.stderr)
        if args.json:
            admin.emit({"id": t.id, "title": t.title, "due": t.due.isoformat(),
                        "units": len(t.unit_ids), "warnings": warnings}, "")
        else:
            print(t.id)
    return 0


def cmd_task_list(args: argparse.Namespace) -> int:
    from bot.services import tasks, units

    with admin_session(args) as admin:
        rows = admin.run(lambda c: tasks.list_tasks(c, status=None if args.all else "open"))
        names = {u.id: u.name for u in admin.run(units.list_units)}
        text = "\n".join(f"{t.id:>4}  {t.title}  截止 {admin.env.fmt(t.due)}  "
                         f"{len(t.unit_ids)} 个单位  {t.status}" for t in rows)
        admin.emit([_task_record(t, names) for t in rows], text or "（没有任务）")
    return 0


def register(sub: Subcommands) -> None:
    task = group(sub, "task", "任务")
    ta = leaf(task, "add", cmd_task_add, "发布任务（输出任务编号）")
    ta.add_argument("--title", required=True)
    ta.add_argument("--due", required=True, help="截止时间，如 2026-09-30T18:00+08:00")
    ta.add_argument("--units", help="all | kind:city | 郑州市,开封市 | 各地市、直管县、省直部门、单位名"
                    "（默认 all）")
    ta.add_argument("--system", default="supervision", choices=SYSTEMS)
    ta.add_argument("--description")
    ta.add_argument("--recurrence", default="none")
    tl = leaf(task, "list", cmd_task_list, "列出任务")
    tl.add_argument("--all", action="store_true", help="包括已关闭的任务")

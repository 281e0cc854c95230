"""``dudao task add | list | edit | cancel``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf, load, parse_time
from bot.cli.session import AdminSession, admin_session

if TYPE_CHECKING:
    from bot.domain.recurrence import Recurrence

SYSTEMS = ("guidance", "exchange", "supervision", "evaluation")


def _task_record(t: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"id": t.id, "title": t.title, "due": t.due.isoformat(),
            "units": [names.get(u, str(u)) for u in t.unit_ids], "system": t.system,
            "status": t.status, "series_id": t.series_id, "period": t.period}


def cmd_task_add(args: argparse.Namespace) -> int:
    from bot.domain.recurrence import parse_recurrence
    from bot.services import tasks

    settings = load(args)
    due = parse_time(args.due, settings, deadline=True)  # bad input fails before the database is touched
    until = parse_time(args.until, settings, deadline=True) if args.until else None
    rule = parse_recurrence(args.repeat) if args.repeat else None
    if until is not None and rule is None:
        raise CliError("--until 只用于周期性任务（--repeat）")
    with admin_session(args, settings) as admin:
        if rule is not None:
            return _add_series(args, admin, rule, due, until)
        now = admin.env.clock.now()

        def write(conn: Connection) -> tuple[tasks.TaskInfo, list[str]]:
            t, warnings = tasks.add(conn, title=args.title, due=due, units_spec=args.units,
                                    system=args.system, description=args.description or "",
                                    created_by=None, now=now)
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


def _add_series(args: argparse.Namespace, admin: AdminSession, rule: Recurrence,
                due: datetime, until: datetime | None) -> int:
    """``task add --repeat``: a series whose first instance is due at ``--due``; the instances
    whose time has come are created at once, the others by the scheduler (``dudao tick``)."""
    from bot.domain.recurrence import SeriesRule
    from bot.services import series
    from bot.services import units as units_svc

    env, now = admin.env, admin.env.clock.now()
    schedule = SeriesRule(rule, due, env.tz, lead_days=env.settings.plan.lead_days)

    def write(conn: Connection) -> tuple[series.SeriesInfo, list[series.Created], list[str]]:
        ids = [u.id for u in units_svc.resolve_scope(conn, args.units or "all")]
        return series.create(conn, env, title=args.title, schedule=schedule, until=until,
                             unit_ids=ids, system=args.system, now=now, actor=admin.actor,
                             channel="cli", description=args.description or "")

    info, created, warnings = admin.run(write)
    for w in warnings:
        print(f"警告：{w}", file=sys.stderr)
    record = {"series_id": info.id, "title": info.title, "repeat": info.rule.value,
              "units": len(info.unit_ids), "until": until.isoformat() if until else None,
              "tasks": [{"id": c.task_id, "period": c.period, "title": c.title,
                         "due": env.local(c.due).isoformat()} for c in created],
              "next_at": env.local(info.next_at).isoformat() if info.next_at else None,
              "warnings": warnings}
    lines = [f"系列 {info.id}：{info.rule.label} {info.title}，{len(info.unit_ids)} 个单位"]
    lines += [f"  任务 {c.task_id}：{c.title}（截止 {env.fmt(c.due)}）" for c in created]
    if info.next_at is not None:
        lines.append(f"  下一期于 {env.fmt(info.next_at)} 生成")
    admin.emit(record, "\n".join(lines))
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


def _correction_record(c: Any, names: dict[int, str]) -> dict[str, Any]:
    return {**_task_record(c.task, names), "changes": c.changes, "groups_told": c.groups,
            "flags_withdrawn": c.flags}


def _task_id(text: str) -> int:
    raw = text.strip().lstrip("#＃")
    if not raw.isdigit():
        raise CliError(f"任务编号应为数字：{text!r}")
    return int(raw)


def cmd_task_edit(args: argparse.Namespace) -> int:
    from bot.services import corrections, units

    args.id = _task_id(args.id)
    settings = load(args)
    due = parse_time(args.due, settings) if args.due is not None else None
    if args.title is None and due is None and args.units is None:
        raise CliError("没有要修改的内容：请给出 --title、--due 或 --units")
    with admin_session(args, settings) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> corrections.Correction:
            c = corrections.edit_task(conn, admin.env, args.id, title=args.title, due=due,
                                      units_spec=args.units, now=now)
            admin.audit(conn, "task.edit", f"task:{args.id}",
                        {**c.changes, "groups": c.groups, "flags_withdrawn": c.flags})
            return c

        c = admin.run(write)
        names = {u.id: u.name for u in admin.run(units.list_units)}
        t = c.task
        told = f"，已通知 {c.groups} 个群" if c.groups else ""
        admin.emit(_correction_record(c, names),
                   f"已修改任务 {t.id}《{t.title}》：截止 {admin.env.fmt(t.due)}，"
                   f"{len(t.unit_ids)} 个单位{told}")
    return 0


def cmd_task_cancel(args: argparse.Namespace) -> int:
    from bot.services import corrections, units

    args.id = _task_id(args.id)
    if not args.reason.strip():
        raise CliError("撤销任务需要写明原因（--reason）")
    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> corrections.Correction:
            c = corrections.cancel_task(conn, admin.env, args.id, reason=args.reason, now=now)
            admin.audit(conn, "task.cancel", f"task:{args.id}",
                        {"reason": c.changes["reason"], "groups": c.groups,
                         "flags_withdrawn": c.flags})
            return c

        c = admin.run(write)
        names = {u.id: u.name for u in admin.run(units.list_units)}
        admin.emit(_correction_record(c, names),
                   f"已撤销任务 {c.task.id}《{c.task.title}》，撤回旗帜 {c.flags} 面，"
                   f"已通知 {c.groups} 个群")
    return 0


def register(sub: Subcommands) -> None:
    task = group(sub, "task", "任务")
    ta = leaf(task, "add", cmd_task_add, "发布任务（输出任务编号）")
    ta.add_argument("--title", required=True)
    ta.add_argument("--due", required=True, help="截止时间，如 2026-09-30T18:00+08:00；只写日期（2026-09-30）"
                    "则为当天 18:00（[plan] due_time）")
    ta.add_argument("--units", help="all | kind:city | 郑州市,开封市 | 各地市、直管县、省直部门、单位名"
                    "（默认 all）")
    ta.add_argument("--system", default="supervision", choices=SYSTEMS)
    ta.add_argument("--description")
    ta.add_argument("--repeat", help="周期性任务：monthly | quarterly | half-yearly | yearly"
                    "（每月、每季度、每半年、每年）；--due 为首期截止时间，各期提前生成")
    ta.add_argument("--until", help="周期性任务截止于此时间之后的期次不再生成（默认一直重复，"
                    "直到 dudao series cancel）")
    tl = leaf(task, "list", cmd_task_list, "列出任务")
    tl.add_argument("--all", action="store_true", help="包括已关闭和已撤销的任务")
    te = leaf(task, "edit", cmd_task_edit, "修改任务的标题、截止时间或单位（截止时间改了会通知相关群）")
    te.add_argument("id", help="任务编号")
    te.add_argument("--title")
    te.add_argument("--due", help="新的截止时间，如 2026-12-30T18:00+08:00")
    te.add_argument("--units", help="新的单位范围（同 task add --units）")
    tc = leaf(task, "cancel", cmd_task_cancel, "撤销任务：不再提醒，撤回其旗帜（保留记录），通知相关群")
    tc.add_argument("id", help="任务编号")
    tc.add_argument("--reason", required=True, help="撤销原因")

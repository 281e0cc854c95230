"""``dudao plan import | preset | list`` and ``dudao series list | show | cancel``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Connection

from bot.cli.common import Subcommands, group, leaf, load
from bot.cli.session import admin_session

if TYPE_CHECKING:
    from bot.core.env import ServiceEnv
    from bot.services.plans import ImportResult
    from bot.services.series import SeriesInfo

# A file of this many rows draws its bar on a terminal without being asked.
LARGE = 200


class ProgressBar:
    """``校验 [#####.....] 1200/5000`` on stderr, redrawn in place on a terminal; elsewhere (with
    ``--progress``) a line at every tenth. Off unless asked for or on a terminal with a large
    file, so scripts reading stderr see only errors."""

    def __init__(self, out: TextIO, *, forced: bool) -> None:
        self._out = out
        self._forced = forced
        self._tty = out.isatty()
        self._tenth = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not (self._forced or (self._tty and total >= LARGE)):
            return
        if self._tty:
            width = 30
            filled = width * done // max(total, 1)
            self._out.write(f"\r{stage} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done == total:
                self._out.write("\n")
        else:
            tenth = 10 * done // max(total, 1)
            if tenth == self._tenth and done != total:
                return
            self._tenth = -1 if done == total else tenth
            self._out.write(f"{stage} {done}/{total}\n")
        self._out.flush()


# ---------------------------------------------------------------------------------- records


def _series_record(s: SeriesInfo, env: ServiceEnv) -> dict[str, Any]:
    return {"id": s.id, "title": s.title, "repeat": s.rule.value, "system": s.system,
            "status": s.status, "units": len(s.unit_ids), "plan_id": s.plan_id, "kind": s.kind,
            "fields": list(s.fields), "instances": s.instances,
            "first_due": env.local(s.first_due).isoformat(),
            "until": env.local(s.until).isoformat() if s.until else None,
            "next_period": str(s.schedule(env).instance(s.next_index).period)
            if s.next_at is not None else None,
            "next_at": env.local(s.next_at).isoformat() if s.next_at else None,
            "cancel_reason": s.cancel_reason}


def _result_record(r: ImportResult, env: ServiceEnv) -> dict[str, Any]:
    return {"plan_id": r.plan_id, "year": r.year,
            "tasks": [{"id": t.id, "title": t.title, "due": env.local(t.due).isoformat(),
                       "units": len(t.unit_ids), "system": t.system} for t in r.tasks],
            "series": [_series_record(s, env) for s in r.series],
            "instances": [{"id": c.task_id, "series_id": c.series_id, "period": c.period,
                           "title": c.title, "due": env.local(c.due).isoformat()}
                          for c in r.instances],
            "warnings": r.warnings}


def _result_text(r: ImportResult, env: ServiceEnv, what: str) -> str:
    lines = [f"{what}：计划 #{r.plan_id}（{r.year}年），任务 {len(r.tasks)} 项，"
             f"周期性任务 {len(r.series)} 项，已生成当期任务 {len(r.instances)} 项"]
    lines += [f"  系列 {s.id}：{s.rule.label} {s.title}，{len(s.unit_ids)} 个单位"
              for s in r.series]
    lines += [f"  任务 {c.task_id}：{c.title}（截止 {env.fmt(c.due)}）" for c in r.instances]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- plan


def cmd_plan_import(args: argparse.Namespace) -> int:
    from bot.services import plans

    settings = load(args)
    path = Path(args.file)
    bar = ProgressBar(sys.stderr, forced=args.progress)
    with admin_session(args, settings) as admin:
        env, now = admin.env, admin.env.clock.now()
        year = None if args.year is None else _year(args.year)
        checked = admin.run(lambda c: plans.read_plan(
            c, env, path, year=year, now=now, progress=lambda d, t: bar("校验", d, t)))
        if not checked.ok:
            raise plans.PlanFileError(checked.problems, path.name)
        if args.dry_run:
            items = plans.preview(env, checked, now)
            admin.emit({"dry_run": True, "year": checked.year, "items": items},
                       _preview_text(items, checked.year))
            return 0

        def write(conn: Connection) -> ImportResult:
            result = plans.import_plan(
                conn, env, checked, title=args.title or f"{checked.year}年工作计划（{path.stem}）",
                source=path.name, now=now, actor=admin.actor, channel="cli",
                progress=lambda d, t: bar("导入", d, t))
            admin.audit(conn, "plan.import", f"plan:{result.plan_id}",
                        {"file": path.name, "year": result.year, "tasks": len(result.tasks),
                         "series": len(result.series), "instances": len(result.instances)})
            return result

        result = admin.run(write)
        for w in result.warnings:
            print(f"警告：{w}", file=sys.stderr)
        admin.emit(_result_record(result, env), _result_text(result, env, "导入完成"))
    return 0


def _preview_text(items: list[dict[str, Any]], year: int) -> str:
    lines = [f"（试运行，未导入）{year}年计划共 {len(items)} 项："]
    for item in items:
        head = f"  第 {item['line']} 行 {item['title']}，{item['units']} 个单位"
        if item["kind"] == "task":
            lines.append(f"{head}，截止 {item['due']}")
        else:
            periods = "、".join(i["period"] for i in item["instances"])
            lines.append(f"{head}，{len(item['instances'])} 期：{periods or '（本年已无）'}")
    return "\n".join(lines)


def _year(text: str) -> int:
    from bot.domain.periods import parse_year

    return parse_year(text)


def cmd_plan_preset(args: argparse.Namespace) -> int:
    from bot.services import plans

    with admin_session(args) as admin:
        env, now = admin.env, admin.env.clock.now()

        def write(conn: Connection) -> ImportResult:
            result = plans.preset(conn, env, args.name, year=args.year, now=now,
                                  actor=admin.actor, channel="cli", units_spec=args.units)
            admin.audit(conn, "plan.preset", f"plan:{result.plan_id}",
                        {"preset": args.name, "year": result.year,
                         "series": [s.id for s in result.series],
                         "instances": len(result.instances)})
            return result

        result = admin.run(write)
        for w in result.warnings:
            print(f"警告：{w}", file=sys.stderr)
        admin.emit(_result_record(result, env), _result_text(result, env, "已创建"))
    return 0


def cmd_plan_list(args: argparse.Namespace) -> int:
    from bot.services import plans

    with admin_session(args) as admin:
        year = None if args.year is None else _year(args.year)
        rows = admin.run(lambda c: plans.list_plans(c, year=year))
        records = [{"id": p.id, "year": p.year, "title": p.title, "source": p.source,
                    "preset": p.preset, "tasks": p.tasks, "series": p.series,
                    "created_at": p.created_at.isoformat()} for p in rows]
        text = "\n".join(f"{p.id:>4}  {p.year}  {p.title}  任务 {p.tasks} 项，周期性任务 "
                         f"{p.series} 项" for p in rows)
        admin.emit(records, text or "（没有计划）")
    return 0


# ---------------------------------------------------------------------------------- series


def cmd_series_list(args: argparse.Namespace) -> int:
    from bot.services import series

    with admin_session(args) as admin:
        status = None if args.all else series.ACTIVE
        rows = admin.run(lambda c: series.list_series(c, status=status))
        env = admin.env
        text = "\n".join(
            f"{s.id:>4}  {s.rule.label} {s.title}  {len(s.unit_ids)} 个单位  已生成 {s.instances} 期"
            f"  {series.STATUS_NAMES.get(s.status, s.status)}"
            + (f"  下一期 {env.fmt(s.next_at)} 生成" if s.next_at else "") for s in rows)
        admin.emit([_series_record(s, env) for s in rows], text or "（没有周期性任务）")
    return 0


def cmd_series_show(args: argparse.Namespace) -> int:
    from bot.services import series

    with admin_session(args) as admin:
        info, rows = admin.run(lambda c: (series.get(c, args.id), series.instances(c, args.id)))
        env = admin.env
        record = _series_record(info, env) | {"tasks": [
            {"id": r.task_id, "period": r.period, "title": r.title,
             "due": env.local(r.due).isoformat(), "status": r.status} for r in rows]}
        lines = [f"系列 {info.id}：{info.rule.label} {info.title}，{len(info.unit_ids)} 个单位，"
                 f"{series.STATUS_NAMES.get(info.status, info.status)}"]
        if info.cancel_reason:
            lines.append(f"  停止原因：{info.cancel_reason}")
        lines += [f"  任务 {r.task_id}：{r.title}（截止 {env.fmt(r.due)}）" for r in rows]
        if info.next_at is not None:
            nxt = info.schedule(env).instance(info.next_index)
            lines.append(f"  下一期：{nxt.period}，{env.fmt(info.next_at)} 生成")
        admin.emit(record, "\n".join(lines))
    return 0


def cmd_series_cancel(args: argparse.Namespace) -> int:
    from bot.services import series

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> tuple[SeriesInfo, list[int]]:
            info, open_ids = series.cancel(conn, args.id, reason=args.reason, now=now)
            admin.audit(conn, "series.cancel", f"series:{info.id}",
                        {"title": info.title, "reason": info.cancel_reason,
                         "open_instances": open_ids})
            return info, open_ids

        info, open_ids = admin.run(write)
        text = f"已停止系列 {info.id}《{info.title}》：不再生成新的一期"
        if open_ids:
            text += (f"；已生成且仍在进行的任务 {'、'.join(map(str, open_ids))} 不受影响"
                     "（需要时逐项撤销）")
        admin.emit(_series_record(info, admin.env) | {"open_instances": open_ids}, text)
    return 0


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return value


def register(sub: Subcommands) -> None:
    plan = group(sub, "plan", "年度工作计划、预设（四个一）")
    pi = leaf(plan, "import", cmd_plan_import,
              "导入年度工作计划（xlsx、csv 或 toml；列：任务、体系、截止或周期、范围、要求）")
    pi.add_argument("file")
    pi.add_argument("--year", help="计划年度（默认：文件写明的年度，否则今年）")
    pi.add_argument("--title", help="计划名称（默认“YYYY年工作计划（文件名）”）")
    pi.add_argument("--dry-run", action="store_true", help="只校验并列出将创建的任务，不导入")
    pi.add_argument("--progress", action="store_true", help="在标准错误输出上显示进度条")
    pp = leaf(plan, "preset", cmd_plan_preset, "按预设创建一年的周期性任务（四个一）")
    pp.add_argument("name", help="预设名称：四个一")
    pp.add_argument("--year", required=True)
    pp.add_argument("--units", help="单位范围（默认：除办公室外的全部单位）")
    pl = leaf(plan, "list", cmd_plan_list, "列出已导入的计划")
    pl.add_argument("--year")
    ser = group(sub, "series", "周期性任务（每月、每季度、每半年、每年）")
    sl = leaf(ser, "list", cmd_series_list, "列出周期性任务")
    sl.add_argument("--all", action="store_true", help="包括已停止的")
    ss = leaf(ser, "show", cmd_series_show, "一项周期性任务及其已生成的各期任务")
    ss.add_argument("id", type=_positive)
    sc = leaf(ser, "cancel", cmd_series_cancel, "停止周期性任务：不再生成新的一期")
    sc.add_argument("id", type=_positive)
    sc.add_argument("--reason", required=True)

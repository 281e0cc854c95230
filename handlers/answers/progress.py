"""Answers about tasks and units: who has (not) handed in what, a unit's tasks, deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.context import Context
from bot.core.nlu import Query
from bot.domain.errors import NotFound
from bot.services import query as query_svc
from bot.services import tasks as tasks_svc
from handlers.answers.words import (
    MAX_NAMES,
    MAX_UNITS,
    SHORT_STATE,
    SHOWN,
    STATE_NAMES,
    asked,
    fmt_due,
    name_list,
)
from handlers.slots import period_label


def render_units(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.AssignmentAnswer) -> str:
    """A task's (or tasks') units: who has not submitted, who has, how many."""
    if not r.tasks:
        if a.tasks or a.units is not None or a.days is not None:
            what = f"{asked(a.states)}的" if a.states else ""
            return f"没有{what}单位" if a.states else "没有符合条件的任务"
        return "目前没有进行中的任务"
    if len(r.tasks) == 1 and not r.more_tasks:
        return _one_task_units(ctx, a, r.tasks[0])
    lines = [f"进行中的任务有 {len(r.tasks) + r.more_tasks} 项" +
             (f"（{asked(a.states)}）" if a.states else "") + "，分别是："]
    for t in r.tasks:
        lines.append("· " + _task_line(ctx, a, t))
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    lines.append("发送“谁没交 任务名称”可查看某一项的完整名单")
    return "\n".join(lines)


def _task_line(ctx: Context, a: query_svc.Ask, t: query_svc.TaskStatus) -> str:
    head = f"《{t.title}》（截止 {fmt_due(ctx, t.due)}）"
    names = [x.unit_name for x in t.rows]
    if a.states:
        label = asked(a.states)
        if a.form == "count":
            return f"{head}{label} {t.matched} 个"
        return f"{head}{label} {t.matched} 个：{name_list(names[:5], t.matched - min(5, len(names)))}"
    c = t.counts
    done = c["received"] + c["accepted"]
    return f"{head}{done}/{t.total} 已提交"


def _one_task_units(ctx: Context, a: query_svc.Ask, t: query_svc.TaskStatus) -> str:
    head = f"《{t.title}》（截止 {fmt_due(ctx, t.due)}）"
    states = a.states
    c = t.counts
    if not states or a.form == "detail":
        if states:
            names = [x.unit_name for x in t.rows]
            return (f"{head}共 {t.total} 个单位，{asked(states)} {t.matched} 个" +
                    (f"：{name_list(names, t.matched - len(names))}" if names else ""))
        return (f"{head}共 {t.total} 个单位：已通过 {c['accepted']}，待审核 {c['received']}，"
                f"退回 {c['returned']}，未提交 {c['owed']}")
    label = asked(states)
    names = [x.unit_name + ("（退回待改）" if x.state == "returned" and "owed" in states else "")
             for x in t.rows]
    more = t.matched - len(names)
    if states == ("owed",) and a.form in ("list", "yesno"):
        if not t.matched:
            return f"{head}：{t.total} 个单位都已提交"
        if a.form == "yesno":
            return f"{head}还有 {t.matched} 个单位未提交：{name_list(names, more)}"
        tail = (f" 等，完整名单见督导看板 {ctx.env.board_url}/tasks/{t.task_id}"
                if len(names) + more > MAX_NAMES else "")
        # "18 个单位中还有 18 个未提交" reads as a slip: when nobody has sent it, say so.
        owed = (f"{t.total} 个单位均未提交" if t.matched == t.total
                else f"{t.total} 个单位中还有 {t.matched} 个未提交")
        return f"{head}{owed}：{'、'.join(names[:MAX_NAMES])}{tail}"
    if a.form == "count":
        return f"{head}{t.total} 个单位中{label} {t.matched} 个" + (
            f"：{name_list(names, more)}" if 0 < t.matched <= 10 else "")
    if a.form == "yesno":
        if not t.matched:
            return f"{head}：没有{label}的单位"
        return f"{head}：有，{label} {t.matched} 个：{name_list(names, more)}"
    if not t.matched:
        return f"{head}：没有{label}的单位"
    return f"{head}{label}的单位（{t.matched} 个）：{name_list(names, more)}"


def render_tasks(ctx: Context, q: Query, a: query_svc.Ask, r: Any) -> str:
    if isinstance(r, query_svc.UnitTasksAnswer):
        return _unit_tasks(ctx, q, a, r)
    assert isinstance(r, query_svc.AssignmentAnswer)
    if a.form == "when":
        return _deadlines(ctx, r)
    if not r.tasks:
        if a.days is not None:
            return f"{period_label(ctx, *a.days)}没有截止的任务"
        return "目前没有进行中的任务" if not a.states else f"没有{asked(a.states)}的任务"
    if a.form == "count":
        return f"进行中的任务共 {len(r.tasks) + r.more_tasks} 项" + (
            f"（{asked(a.states)}）" if a.states else "")
    if a.days is not None:
        return _due_list(ctx, a, r)
    lines = ["进行中的任务："]
    for t in r.tasks:
        done = t.counts["received"] + t.counts["accepted"]
        lines.append(f"· {t.title}：{done}/{t.total} 已提交，截止 {fmt_due(ctx, t.due)}")
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _deadlines(ctx: Context, r: query_svc.AssignmentAnswer) -> str:
    if not r.tasks:
        return "没有找到这项任务（可能已经关闭）"
    today = ctx.env.local(ctx.now).date()
    lines = []
    for t in r.tasks[:SHOWN]:
        left = (ctx.env.local(t.due).date() - today).days
        when = "已截止" if t.due < ctx.now else ("今天截止" if left == 0 else f"还有 {left} 天")
        lines.append(f"《{t.title}》截止 {fmt_due(ctx, t.due)}（{when}）")
    return "；".join(lines)


def _due_list(ctx: Context, a: query_svc.Ask, r: query_svc.AssignmentAnswer) -> str:
    assert a.days is not None
    label = period_label(ctx, *a.days)
    lines = [f"{label}截止的任务 {len(r.tasks) + r.more_tasks} 项："]
    for t in r.tasks:
        pending = t.counts["owed"] + t.counts["returned"]
        state = f"{pending}/{t.total} 个单位未交" if pending else "都已提交"
        lines.append(f"· {t.title}，截止 {fmt_due(ctx, t.due)}，{state}")
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _unit_tasks(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.UnitTasksAnswer) -> str:
    parts = []
    for u in r.units[:MAX_UNITS]:
        parts.append(_one_unit_tasks(ctx, q, a, u))
    if len(r.units) > MAX_UNITS:
        parts.append(f"……其余 {len(r.units) - MAX_UNITS} 个单位见督导看板 {ctx.env.board_url}")
    return "\n".join(parts)


def _one_unit_tasks(ctx: Context, q: Query, a: query_svc.Ask, u: query_svc.UnitTasks) -> str:
    name = u.unit_name
    items = u.tasks
    states = a.states
    if a.days is not None and not states:
        label = period_label(ctx, *a.days)
        if not items:
            return f"{name}{label}没有截止的任务"
        lines = [f"{name}{label}截止的任务 {len(items)} 项："]
        lines += [f"· {title}，截止 {fmt_due(ctx, due)}，{SHORT_STATE.get(st, st)}"
                  for _, title, due, st in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(f"……另有 {len(items) - SHOWN} 项，详见督导看板 {ctx.env.board_url}/tasks")
        return "\n".join(lines)
    if states == ("owed",) and q.mine and a.form in ("list", "detail"):
        if not items:
            return f"{name}目前没有待提交的任务"
        lines = [f"{name}待提交 {len(items)} 项："]
        for _, title, due, st in items[:10]:
            mark = "（已退回，待重新提交）" if st == "returned" else ""
            overdue = "【已逾期】" if due < ctx.now else ""
            lines.append(f"· {overdue}{title}，截止 {fmt_due(ctx, due)}{mark}")
        if len(items) > 10:
            lines.append(f"……另有 {len(items) - 10} 项，详见督导看板")
        return "\n".join(lines)
    if (states == ("owed",) and a.form == "list") or (not states and a.form == "detail"
                                                     and not a.tasks):
        owed = [i for i in items if i[3] in ("owed", "returned")] if not states else list(items)
        if not owed:
            return f"{name}目前没有未提交的任务"
        text = "；".join(f"{title}（截止 {fmt_due(ctx, due)}" + ("，已逾期" if due < ctx.now else "")
                        + ("，退回待改" if st == "returned" else "") + "）"
                        for _, title, due, st in owed[:10])
        return f"{name}还有 {len(owed)} 项未提交：{text}"
    if not states and a.tasks and len(items) == 1:
        _, title, _, st = items[0]
        return f"{name}《{title}》：{STATE_NAMES[st]}"
    if not states and a.tasks and not items:
        raise NotFound(f"{name}不在《{tasks_svc.get(ctx.conn, a.tasks[0]).title}》的范围内",
                       log="unit not assigned")
    label = asked(states)
    if a.form == "count":
        return f"{name}{label}的任务 {len(items)} 项（进行中 {u.total} 项）" + (
            "：" + "、".join(f"《{t}》" for _, t, _, _ in items[:SHOWN]) if items else "")
    if a.form == "yesno":
        if not states:
            return _all_states(ctx, name, items)
        if states == ("submitted",):  # 交了没: each task with its state, done or not
            return _all_states(ctx, name, _unit_all(ctx, a, u.unit_id))
        if not items:
            return f"{name}没有{label}的任务" if u.total else f"{name}目前没有进行中的任务"
        return f"{name}有{label}的任务 {len(items)} 项：" + "；".join(
            f"《{t}》截止 {fmt_due(ctx, d)}" for _, t, d, _ in items[:SHOWN])
    if not items:
        return f"{name}没有{label}的任务" if states else f"{name}目前没有进行中的任务"
    if not states:
        return _all_states(ctx, name, items)
    return f"{name}{label}的任务 {len(items)} 项：" + "；".join(
        f"《{t}》截止 {fmt_due(ctx, d)}" for _, t, d, _ in items[:SHOWN])


def _unit_all(ctx: Context, a: query_svc.Ask, unit_id: int) -> tuple[tuple[int, str, datetime, str], ...]:
    every = query_svc.unit_tasks(ctx.conn, ctx.env, query_svc.Ask(
        subject="tasks", form="detail", now=a.now, units=frozenset({unit_id}), tasks=a.tasks,
        days=a.days))
    return every.units[0].tasks if every.units else ()


def _all_states(ctx: Context, name: str, items: tuple[tuple[int, str, datetime, str], ...]) -> str:
    """"交了没": each task with its state (已提交 / 未提交…)."""
    if not items:
        return f"{name}目前没有进行中的任务"
    if len(items) == 1:
        _, title, due, st = items[0]
        late = "，已逾期" if st in ("owed", "returned") and due < ctx.now else ""
        return f"{name}《{title}》：{STATE_NAMES[st]}{late}"
    done = sum(1 for i in items if i[3] in ("received", "accepted"))
    lines = [f"{name}进行中的任务 {len(items)} 项，已提交 {done} 项："]
    for _, title, due, st in items[:SHOWN]:
        late = "，已逾期" if st in ("owed", "returned") and due < ctx.now else ""
        lines.append(f"· {title}：{SHORT_STATE.get(st, st)}{late}（截止 {fmt_due(ctx, due)}）")
    return "\n".join(lines)

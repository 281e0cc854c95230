"""近期要交 ("这周有啥要交的", "下周五前要交什么"): open tasks due in a time range.

A liaison or official is answered for their own unit (or a unit they may see and name); an
admin without a unit for everything, with how many units still owe each task. The range comes
from the message ("本周", "月底前"); without one, the next 7 days. "三季度调研报告什么时候截止"
names a task and gets its deadline.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import NotAllowed
from bot.domain.roles import ADMIN
from bot.services import deadlines as deadlines_svc
from bot.services import standings as standings_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from handlers.common import ensure_visible, person_of, visible_units
from handlers.slots import named_units, parse_for, period_label, time_range

router = Router("due_soon")

DUE_SOON = HandlerSpec("due_soon", ("近期要交", "近期任务"), "近期要交 [时间]",
                       "查看一段时间内截止的任务（默认未来 7 天）", intents=("due_soon",),
                       roles=ANYONE_REGISTERED, area="due_soon", example="近期要交 本周",
                       word_alone=True)
SHOWN = 8
STATE = {"owed": "未提交", "returned": "退回待改", "received": "已提交待审核", "accepted": "已通过"}


def _deadlines_of(ctx: Context, task_ids: tuple[int, ...]) -> None:
    lines = []
    for tid in task_ids[:SHOWN]:
        t = tasks_svc.get(ctx.conn, tid)
        left = "已截止" if t.due < ctx.now else "未截止"
        lines.append(f"《{t.title}》截止 {ctx.env.fmt(t.due)}（{left}）")
    ctx.reply("；".join(lines))


@router.handler(DUE_SOON)
def due_soon(ctx: Context) -> None:
    person = person_of(ctx)
    p = parse_for(ctx, DUE_SOON)
    if p is not None and p.task_ids and not (p.date_from or p.date_to):
        _deadlines_of(ctx, p.task_ids)
        return
    today = ctx.env.local(ctx.now).date()
    (start, end), _ = time_range(ctx, p, (today, today + timedelta(days=7)))
    label = period_label(ctx, start, end)
    named = named_units(ctx, p)
    units: list[units_svc.UnitInfo] = []
    if named:
        ensure_visible(visible_units(ctx), (u.id for u in named),
                       "您只能查询本单位（或下属单位）的任务", log="due_soon of another unit")
        units = named
    elif person.unit_id is not None:
        units = [units_svc.get(ctx.conn, person.unit_id)]
    elif person.role != ADMIN:
        raise NotAllowed("您的账号没有关联单位", log="person without unit")
    s, e = standings_svc.bounds(ctx.env, start, end)
    ids = {u.id for u in units} if units else None
    rows = deadlines_svc.due_between(ctx.conn, s, e, unit_ids=ids)
    who = "、".join(u.name for u in units)
    if not rows:
        ctx.reply(f"{who}{label}没有截止的任务")
        return
    lines = [f"{who}{label}截止的任务 {len(rows)} 项："]
    for t in rows[:SHOWN]:
        if len(units) == 1:
            state = _state(ctx, t.task_id, units[0].id)
        else:
            state = f"{t.pending}/{t.assigned} 个单位未交" if t.pending else "都已提交"
        lines.append(f"· {t.title}，截止 {ctx.env.fmt(t.due)}，{state}")
    if len(rows) > SHOWN:
        lines.append(f"……另有 {len(rows) - SHOWN} 项，详见督导看板 {ctx.env.board_url}/tasks")
    ctx.reply("\n".join(lines))


def _state(ctx: Context, task_id: int, unit_id: int) -> str:
    for s in tasks_svc.unit_states(ctx.conn, task_id):
        if s.unit_id == unit_id:
            return STATE.get(s.state, s.state)
    return ""

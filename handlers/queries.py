"""进度 / 谁没交: exact answers from the database, naming the records they count.

Visibility: liaisons see their own unit, officials their subtree, admins everything.
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import NotFound
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from handlers.common import ensure_visible, visible_units

router = Router("queries")

STATUS = HandlerSpec("status", ("进度", "查询进度"), "进度 [单位] [任务]",
                     "查看任务完成情况", intents=("status",), roles=ANYONE_REGISTERED,
                     area="queries")
MISSING = HandlerSpec("missing", ("谁没交", "未交", "哪些没交"), "谁没交 [任务]",
                      "列出还没提交的单位", intents=("missing",), roles=ANYONE_REGISTERED,
                      area="queries")
MAX_NAMES = 30
NOT_VISIBLE = "您只能查询本单位（或下属单位）的情况"


def _pick_task(ctx: Context, words: str) -> tasks_svc.TaskInfo | None:
    if ctx.parse is not None and ctx.parse.task_ids:
        return tasks_svc.get(ctx.conn, ctx.parse.task_ids[0])
    open_tasks = tasks_svc.list_tasks(ctx.conn)
    named = [t for t in open_tasks if t.title in words or (words and words in t.title)]
    if named:
        return max(named, key=lambda t: len(t.title) if t.title in words else 0)
    return None


def _unit_from(ctx: Context, words: str) -> units_svc.UnitInfo | None:
    if ctx.parse is not None and ctx.parse.unit_ids:
        return units_svc.get(ctx.conn, ctx.parse.unit_ids[0])
    for token in words.replace("，", " ").split():
        u = units_svc.find(ctx.conn, token)
        if u:
            return u
    return None


@router.handler(MISSING)
def missing(ctx: Context) -> None:
    visible = visible_units(ctx)
    unit = _unit_from(ctx, ctx.args)
    if unit is not None:
        _unit_owes(ctx, unit, visible)
        return
    task = _pick_task(ctx, ctx.args)
    if task is None:
        open_tasks = tasks_svc.list_tasks(ctx.conn)
        if not open_tasks:
            ctx.reply("目前没有进行中的任务")
            return
        # No task named: the nearest deadline still open.
        upcoming = [t for t in open_tasks if t.due >= ctx.now] or open_tasks
        task = upcoming[0]
    rows = tasks_svc.missing(ctx.conn, task.id, unit_ids=visible)
    total = len(task.unit_ids) if visible is None else len(set(task.unit_ids) & visible)
    if not rows:
        ctx.reply(f"《{task.title}》（截止 {ctx.env.fmt(task.due)}）：{total} 个单位都已提交")
        return
    names = [r.unit_name + ("（退回待改）" if r.state == "returned" else "") for r in rows]
    shown = "、".join(names[:MAX_NAMES])
    more = f" 等，完整名单见督导看板 {ctx.env.board_url}/tasks/{task.id}" if len(names) > MAX_NAMES else ""
    ctx.reply(f"《{task.title}》（截止 {ctx.env.fmt(task.due)}）{total} 个单位中还有 "
              f"{len(rows)} 个未提交：{shown}{more}")


def _unit_owes(ctx: Context, unit: units_svc.UnitInfo, visible: set[int] | None) -> None:
    ensure_visible(visible, (unit.id,), NOT_VISIBLE, log="status of another unit")
    owed = tasks_svc.owed_by_unit(ctx.conn, unit.id)
    if not owed:
        ctx.reply(f"{unit.name}目前没有未提交的任务")
        return
    items = "；".join(f"{t.title}（截止 {ctx.env.fmt(t.due)}"
                     + ("，已逾期" if t.due < ctx.now else "")
                     + ("，退回待改" if t.state == "returned" else "") + "）" for t in owed[:10])
    ctx.reply(f"{unit.name}还有 {len(owed)} 项未提交：{items}")


@router.handler(STATUS)
def status(ctx: Context) -> None:
    visible = visible_units(ctx)
    unit = _unit_from(ctx, ctx.args)
    if unit is None and ctx.parse is not None and ctx.parse.my_unit and ctx.person:
        unit = units_svc.get(ctx.conn, ctx.person.unit_id) if ctx.person.unit_id else None
    task = _pick_task(ctx, ctx.args)
    if unit is not None and task is None:
        _unit_owes(ctx, unit, visible)
        return
    if task is None:
        open_tasks = tasks_svc.list_tasks(ctx.conn)
        if not open_tasks:
            ctx.reply("目前没有进行中的任务")
            return
        lines = ["进行中的任务："]
        for t in open_tasks[:8]:
            states = tasks_svc.unit_states(ctx.conn, t.id)
            if visible is not None:
                states = [s for s in states if s.unit_id in visible]
            done = sum(1 for s in states if s.state in ("received", "accepted"))
            lines.append(f"· {t.title}：{done}/{len(states)} 已提交，截止 {ctx.env.fmt(t.due)}")
        ctx.reply("\n".join(lines))
        return
    states = tasks_svc.unit_states(ctx.conn, task.id)
    if unit is not None:
        ensure_visible(visible, (unit.id,), NOT_VISIBLE, log="status of another unit")
        mine = [s for s in states if s.unit_id == unit.id]
        if not mine:
            raise NotFound(f"{unit.name}不在《{task.title}》的范围内", log="unit not assigned")
        label = {"owed": "未提交", "received": "已提交待审核", "accepted": "已通过",
                 "returned": "已退回待重新提交"}[mine[0].state]
        ctx.reply(f"{unit.name}《{task.title}》：{label}")
        return
    if visible is not None:
        states = [s for s in states if s.unit_id in visible]
    counts = {k: sum(1 for s in states if s.state == k)
              for k in ("owed", "received", "accepted", "returned")}
    ctx.reply(f"《{task.title}》（截止 {ctx.env.fmt(task.due)}）共 {len(states)} 个单位："
              f"已通过 {counts['accepted']}，待审核 {counts['received']}，"
              f"退回 {counts['returned']}，未提交 {counts['owed']}")

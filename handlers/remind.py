"""催办: an admin has the units that still owe a task (or have not acknowledged a notice) urged
now, one message per group ("麻烦催一下没交的", "通知下谁还没回复收到", "催办 月报 各地市").

When several tasks are open and none is named, the bot asks which (it never picks one silently).
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Intent, Parse
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.roles import ADMIN
from bot.services import notices as notices_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from bot.services import urging
from handlers import ask
from handlers.slots import command_action

router = Router("remind")

REMIND = HandlerSpec("remind", ("催办",), "催办 [任务] [范围]",
                     "提醒还没提交的单位（或还没确认通知的单位）抓紧，每个群一条消息",
                     intents=("remind",), roles=(ADMIN,), area="remind", action="催办",
                     example="催办 三季度调研报告 各地市")


@router.handler(REMIND)
def remind(ctx: Context) -> None:
    parse = command_action(ctx, Intent.REMIND)
    if parse.query is None:
        raise InvalidInput(f"请写明催办什么，例如：{REMIND.example}", log="remind without a frame")
    units = _units(ctx, parse)
    if parse.ref == "notice":
        _notice(ctx, parse, units)
    else:
        _task(ctx, parse, units)


def _units(ctx: Context, parse: Parse) -> set[int] | None:
    q = parse.query
    assert q is not None
    if q.unit_ids:
        return set(q.unit_ids)
    if q.kinds:
        return {u.id for k in q.kinds for u in units_svc.list_units(ctx.conn, kind=k)}
    return None


def _task(ctx: Context, parse: Parse, units: set[int] | None) -> None:
    q = parse.query
    assert q is not None
    task_ids = list(q.task_ids)
    if not task_ids:
        open_tasks = tasks_svc.list_tasks(ctx.conn)
        owing = [t for t in open_tasks if tasks_svc.missing(ctx.conn, t.id, unit_ids=units)]
        if not owing:
            ctx.reply("目前没有需要催办的任务：进行中的任务都已提交")
            return
        if len(owing) > 1:
            lines = [f"进行中的任务有 {len(owing)} 项还有单位未提交，请说明催办哪一项，例如：催办 {owing[0].title}"]
            lines += [f"· {t.title}（截止 {ctx.env.fmt(t.due)}）" for t in owing[:8]]
            ctx.reply("\n".join(lines))
            return
        task_ids = [owing[0].id]
    replies = []
    for tid in task_ids[:3]:
        task = tasks_svc.get(ctx.conn, tid)
        res = urging.urge_task(ctx.conn, ctx.env, task_id=tid, unit_ids=units, now=ctx.now)
        ctx.audit("task.urge", f"task:{tid}", {"units": list(res.owing), "groups": res.groups})
        replies.append(_result(f"《{task.title}》", res, "未提交"))
    ctx.reply("\n".join(replies))


def _notice(ctx: Context, parse: Parse, units: set[int] | None) -> None:
    q = parse.query
    assert q is not None
    notice_id = ask.notice_of(ctx, q.ref) if q.ref else notices_svc.latest(ctx.conn)
    if notice_id is None:
        raise NotFound("还没有发过通知", log="remind without notices")
    res = urging.urge_notice(ctx.conn, ctx.env, notice_id=notice_id, unit_ids=units, now=ctx.now)
    ctx.audit("notice.urge", f"notice:{notice_id}", {"units": list(res.owing), "groups": res.groups})
    ctx.reply(_result(f"通知 {notice_id}", res, "未确认"))


def _result(what: str, res: urging.UrgeResult, state: str) -> str:
    if not res.owing:
        return f"{what}：没有{state}的单位，无需提醒"
    names = "、".join(res.owing[:30]) + (f"等 {len(res.owing)} 个单位" if len(res.owing) > 30 else "")
    sep = " " if what[-1:].isdigit() else ""
    text = f"已提醒{what}{sep}中{state}的 {len(res.owing)} 个单位（{res.groups} 个群各一条消息）：{names}"
    if res.unreached:
        text += f"；{'、'.join(res.unreached)}没有所在的群，未能提醒"
    return text

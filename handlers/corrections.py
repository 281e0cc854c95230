"""延期 and 撤销任务: an admin corrects a task from chat ("延期 调研报告 至 12月30日", "帮我把调研报告
那个任务延到下周五"; "撤销任务 3 重复发布", "3号任务发错了，撤了吧"). The task and the new deadline
or the reason come from the language layer's parse (its task ids, deadline and body slots), on
the command path and the natural one alike; the change itself is bot/services/corrections.py,
the same as ``dudao task edit | cancel`` and the board's."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Intent, Parse
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import corrections
from handlers.slots import command_action

router = Router("corrections")

EXTEND = HandlerSpec("extend", ("延期",), "延期 任务 至 12月30日",
                     "修改任务的截止时间，并在相关单位的群里各通知一次",
                     intents=("extend",), roles=(ADMIN,), area="tasks", action="延期任务",
                     example="延期 三季度调研报告 至 12月30日")
CANCEL = HandlerSpec("cancel_task", ("撤销任务",), "撤销任务 编号 原因",
                     "撤销发错的任务：不再提醒，撤回其旗帜（保留记录），并通知相关单位的群",
                     intents=("cancel_task",), roles=(ADMIN,), area="tasks", action="撤销任务",
                     example="撤销任务 3 重复发布")

MAX_TASKS = 5  # one message may name a few tasks ("月报和调研报告都延到月底")


def _read(ctx: Context, intent: Intent) -> Parse | None:
    """The parse, or None when the bot asked back instead (a slot is missing or unsure)."""
    p = command_action(ctx, intent)
    if p.clarify is not None:
        ctx.reply(p.clarify)
        return None
    return p


@router.handler(EXTEND)
def extend(ctx: Context) -> None:
    p = _read(ctx, Intent.EXTEND)
    if p is None:
        return
    if not p.task_ids or p.deadline is None:
        raise InvalidInput(f"请写明任务和新的截止日期，例如：{EXTEND.example}",
                           log="extend without task or deadline")
    lines = []
    for tid in p.task_ids[:MAX_TASKS]:
        c = corrections.edit_task(ctx.conn, ctx.env, tid, due=p.deadline, now=ctx.now)
        ctx.audit("task.edit", f"task:{tid}", {**c.changes, "groups": c.groups,
                                                "flags_withdrawn": c.flags})
        told = f"，已在 {c.groups} 个群通知相关单位" if c.groups else ""
        lines.append(f"已将任务 {tid}《{c.task.title}》的截止时间改为 {ctx.env.fmt(c.task.due)}{told}")
    ctx.reply("\n".join(lines))


@router.handler(CANCEL)
def cancel(ctx: Context) -> None:
    p = _read(ctx, Intent.CANCEL_TASK)
    if p is None:
        return
    if not p.task_ids or not p.body.strip():
        raise InvalidInput(f"请写明任务编号和原因，例如：{CANCEL.example}", log="cancel without slots")
    lines = []
    for tid in p.task_ids[:MAX_TASKS]:
        c = corrections.cancel_task(ctx.conn, ctx.env, tid, reason=p.body, now=ctx.now)
        ctx.audit("task.cancel", f"task:{tid}", {"reason": c.changes["reason"],
                                                  "groups": c.groups, "flags_withdrawn": c.flags})
        withdrawn = f"，撤回旗帜 {c.flags} 面" if c.flags else ""
        told = f"，已在 {c.groups} 个群通知相关单位" if c.groups else ""
        lines.append(f"已撤销任务 {tid}《{c.task.title}》（原因：{c.changes['reason']}）"
                     f"{withdrawn}{told}")
    ctx.reply("\n".join(lines))

"""提交 / 我的任务: a liaison submits materials for a task; a second submission is a new version.

A version sent while the previous one awaits review replaces it (bot/domain/submissions.py); the
acknowledgement says so.
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.roles import LIAISON, OFFICIAL
from bot.services import submissions as subs_svc
from bot.services import tasks as tasks_svc
from handlers import ask
from handlers.common import require_unit
from handlers.slots import command_query

router = Router("submissions")

SUBMIT = HandlerSpec("submit", ("提交", "报送", "上报"), "提交 [任务] 内容（可附文件、图片）",
                     "为本单位提交任务材料；回复提醒消息发文件也算提交", intents=("submit",),
                     roles=(LIAISON,), area="submissions", example="提交 三季度调研报告 见附件",
                     action="提交材料", takes_files=True)
MY_TASKS = HandlerSpec("my_tasks", ("我的任务", "待办"), "我的任务", "本单位还没交的任务",
                       roles=(LIAISON, OFFICIAL), area="submissions",
                       action="查看本单位的待办")


def _task_from_reply(ctx: Context) -> int | None:
    """A reply to one of our reminders is a submission for that reminder's task."""
    if ctx.quoted is not None and ctx.quoted.cause.startswith("task:"):
        return int(ctx.quoted.cause.split(":")[1])
    return None


def _choose_task(ctx: Context, unit_id: int) -> tuple[tasks_svc.OwedTask, str]:
    owed = tasks_svc.owed_by_unit(ctx.conn, unit_id, for_submission=True)
    text = ctx.args
    replied = _task_from_reply(ctx)
    if replied is not None:
        for t in owed:
            if t.task_id == replied:
                return t, text
        raise NotAllowed("这项任务本单位已经提交过或无需提交", log="reply-submit to a task not owed")
    if not owed:
        raise NotAllowed("本单位目前没有需要提交的任务", log="submit with nothing owed")
    # The longest task title mentioned in the text wins; otherwise the only owed task.
    named = [t for t in owed if t.title in text]
    if not named and ctx.parse is not None and ctx.parse.task_ids:
        named = [t for t in owed if t.task_id in ctx.parse.task_ids]
    if named:
        chosen = max(named, key=lambda t: len(t.title))
        return chosen, text.replace(chosen.title, "", 1).strip() or text
    if len(owed) == 1:
        return owed[0], text
    listing = "\n".join(f"{i}. {t.title}（截止 {ctx.env.fmt(t.due)}）"
                        for i, t in enumerate(owed[:8], 1))
    raise InvalidInput(f"本单位有多项任务待提交，请在“提交”后写明任务名称：\n{listing}",
                       log="ambiguous task for submission")


@router.handler(SUBMIT)
def submit(ctx: Context) -> None:
    person, unit_id = require_unit(ctx)
    if ctx.event.missing_files:
        raise InvalidInput(f"附件“{'、'.join(ctx.event.missing_files)}”没能下载下来，请重新发送",
                           log="attachment download failed")
    task, text = _choose_task(ctx, unit_id)
    sub = subs_svc.submit(ctx.conn, task_id=task.task_id, unit_id=unit_id, person_id=person.id,
                          text=text, files=ctx.event.files, now=ctx.now,
                          source_chat=ctx.event.chat.key, source_message_id=ctx.event.message_id,
                          owed=task)
    ctx.audit("submission.create", f"submission:{sub.id}",
              {"task": task.task_id, "unit": unit_id, "version": sub.version}
              | ({"replaces": sub.replaces} if sub.replaces else {}))
    parts = [f"已收到 #{sub.id}：{person.unit_name}《{task.title}》"]
    if sub.replaces:
        parts.append(f"第{sub.version}版（已替换尚未审核的第{sub.replaces}版）")
    elif sub.version > 1:
        parts.append(f"第{sub.version}版")
    if ctx.event.files:
        parts.append(f"附件{len(ctx.event.files)}个")
    if sub.late:
        parts.append("（已逾期提交）")
    ctx.acknowledge("，".join(parts[:1]) + ("，" + "，".join(parts[1:]) if parts[1:] else ""),
                    cause=f"submission:{sub.id}")


@router.handler(MY_TASKS)
def my_tasks(ctx: Context) -> None:
    q = command_query(ctx)
    require_unit(ctx)
    ask.answer(ctx, q)

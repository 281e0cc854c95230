"""发布任务: an admin publishes a task from chat (the command, or in plain words: "新建个任务：
执法证件年审材料，月底前交，所有地市"). The deadline is read like any time expression (月底, 下周五,
15号前; 18:00 when no time is given) and the scope with the one scope vocabulary
(bot/domain/scopes.py): 全部, 各地市, 直管县, 省直部门, unit names, several joined by 和 / 、."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Intent
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from handlers.common import person_of
from handlers.slots import command_action

router = Router("tasks")

PUBLISH = HandlerSpec("publish_task", ("发布任务",), "发布任务 标题 截止 7月15日 [范围]",
                      "发布一项任务（范围：全部、各地市、直管县、省直部门、单位名，可用“和”连接）",
                      intents=("publish_task",), roles=(ADMIN,), area="tasks", action="发布任务",
                      example="发布任务 三季度调研报告 截止 9月30日 各地市")


@router.handler(PUBLISH)
def publish(ctx: Context) -> None:
    admin = person_of(ctx)
    p = command_action(ctx, Intent.PUBLISH_TASK)
    if p.unknown_name:
        raise units_svc.unknown_unit(units_svc.list_units(ctx.conn), p.unknown_name)
    if p.deadline is None:
        raise InvalidInput("请写明截止日期，例如：发布任务 三季度调研报告 截止 9月30日",
                           log="publish without deadline")
    if not p.body:
        raise InvalidInput(f"请写明任务名称，例如：{PUBLISH.example}", log="publish without title")
    due, title, scope = p.deadline, p.body, p.scope or "all"
    task, warnings = tasks_svc.add(ctx.conn, title=title, due=due, units_spec=scope,
                                   system="supervision", created_by=admin.id, now=ctx.now)
    ctx.audit("task.create", f"task:{task.id}", {"title": task.title, "due": due.isoformat()})
    warn = ("；" + "；".join(warnings)) if warnings else ""
    ctx.reply(f"已发布任务 {task.id}《{task.title}》，截止 {ctx.env.fmt(task.due)}，"
              f"共 {len(task.unit_ids)} 个单位{warn}")

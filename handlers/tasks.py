"""发布任务: an admin publishes a task from chat."""

from __future__ import annotations

import re
from datetime import datetime, time

from bot.core.context import Context
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import tasks as tasks_svc
from handlers.common import person_of

router = Router("tasks")

PUBLISH = HandlerSpec("publish_task", ("发布任务",), "发布任务 标题 截止 7月15日 [范围]",
                      "发布一项任务（范围：全部、地市、直管县、省直部门或单位名）",
                      intents=("publish_task",), roles=(ADMIN,), area="tasks",
                      action="发布任务",
                      example="发布任务 三季度调研报告 截止 9月30日 地市")
DATE = re.compile(r"截止\s*(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?(?:\s*(\d{1,2})[:：点](\d{2})?)?")
SCOPES = {"全部": "all", "地市": "kind:city", "直管县": "kind:county", "省直部门": "kind:department",
          "省直": "kind:department", "中央驻豫单位": "kind:central"}


@router.handler(PUBLISH)
def publish(ctx: Context) -> None:
    admin = person_of(ctx)
    m = DATE.search(ctx.args)
    if ctx.parse is not None and ctx.parse.deadline is not None and m is None:
        due = ctx.parse.deadline
        title = ctx.parse.body or ctx.args
        scope = ctx.parse.scope
    else:
        if m is None:
            raise InvalidInput("请写明截止日期，例如：发布任务 三季度调研报告 截止 9月30日",
                               log="publish without deadline")
        local_now = ctx.env.local(ctx.now)
        year = int(m.group(1)) if m.group(1) else local_now.year
        hour = int(m.group(4)) if m.group(4) else 18
        minute = int(m.group(5)) if m.group(5) else 0
        try:
            due = datetime.combine(datetime(year, int(m.group(2)), int(m.group(3))).date(),
                                   time(hour, minute), tzinfo=ctx.env.tz)
        except ValueError as exc:
            raise InvalidInput("截止日期不对，请检查月和日", log=str(exc)) from exc
        if not m.group(1) and due < ctx.now:
            due = due.replace(year=year + 1)
        title = ctx.args[:m.start()].strip()
        rest = ctx.args[m.end():].strip()
        scope = SCOPES.get(rest, rest.replace(" ", ",") if rest else "all")
    task, warnings = tasks_svc.add(ctx.conn, title=title, due=due, units_spec=scope,
                                   system="supervision", created_by=admin.id, now=ctx.now)
    ctx.audit("task.create", f"task:{task.id}", {"title": task.title, "due": due.isoformat()})
    warn = ("；" + "；".join(warnings)) if warnings else ""
    ctx.reply(f"已发布任务 {task.id}《{task.title}》，截止 {ctx.env.fmt(task.due)}，"
              f"共 {len(task.unit_ids)} 个单位{warn}")

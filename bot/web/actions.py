"""Admin actions on the board (POST, CSRF-checked, audited, effective in chat too)."""

from __future__ import annotations

from datetime import datetime, time

from aiohttp import web
from sqlalchemy import Connection

from bot.services import board_actions
from bot.web.common import (
    COLOR_LABELS,
    admin_only,
    back,
    board,
    form_text,
    form_with_csrf,
    run_action,
    who_of,
)
from bot.web.ids import form_id, path_id


def routes() -> list[web.RouteDef]:
    return [
        web.post("/submissions/{submission_id}/review", review),
        web.post("/flags/override", override_flag),
        web.post("/tasks", publish_task),
        web.post("/bulletins/{bulletin_id}/publish", publish_bulletin),
        web.post("/units/{unit_id}/record", record_event),
    ]


@admin_only
async def review(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    sid = path_id(request, "submission_id")
    action = form_text(form, "action")
    if action not in ("accept", "return"):
        raise back(request, form, err="请选择通过或退回")
    accept = action == "accept"
    rating = form_text(form, "rating") or None
    reason = form_text(form, "reason") or None
    admin_id, env, now = who_of(request).person_id, b.env, b.now()

    def act(conn: Connection) -> str:
        sub, flag = board_actions.review(conn, env, sid, accept=accept, rating=rating,
                                         reason=reason, admin_id=admin_id, now=now)
        done = f"已通过 #{sid}（评价：{sub.rating}）" if accept else f"已退回 #{sid}"
        return f"{done}，{sub.unit}《{sub.task}》" + (f"，{flag}" if flag else "")

    await run_action(request, form, act)  # redirects back with the result


@admin_only
async def override_flag(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    task_id, unit_id = form_id(form, "task_id"), form_id(form, "unit_id")
    color, reason = form_text(form, "color"), form_text(form, "reason")
    admin_id, now = who_of(request).person_id, b.now()

    def act(conn: Connection) -> str:
        board_actions.override_flag(conn, task_id=task_id, unit_id=unit_id, color=color,
                                    reason=reason, admin_id=admin_id, now=now)
        return f"已改为{COLOR_LABELS.get(color, color)}：{reason}"

    await run_action(request, form, act)  # redirects back with the result


@admin_only
async def publish_task(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    env = b.env
    try:
        day = datetime.strptime(form_text(form, "due_date"), "%Y-%m-%d").date()
        clock = datetime.strptime(form_text(form, "due_time") or "18:00", "%H:%M").time()
    except ValueError:
        raise back(request, form, err="截止日期或时间格式不对") from None
    due = datetime.combine(day, time(clock.hour, clock.minute), tzinfo=env.tz)
    scope = form_text(form, "scope") or "all"
    if scope == "units":
        scope = form_text(form, "units") or ""
    title, system = form_text(form, "title"), form_text(form, "system") or "supervision"
    description = form_text(form, "description")
    admin_id, now = who_of(request).person_id, b.now()

    def act(conn: Connection) -> str:
        task, warnings = board_actions.publish_task(
            conn, title=title, due=due, units_spec=scope, system=system,
            description=description, admin_id=admin_id, now=now)
        warn = ("；" + "；".join(warnings)) if warnings else ""
        return (f"已发布任务 {task.id}《{task.title}》，截止 {env.fmt(task.due)}，"
                f"共 {len(task.unit_ids)} 个单位{warn}")

    await run_action(request, form, act)  # redirects back with the result


@admin_only
async def publish_bulletin(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    bid = path_id(request, "bulletin_id")
    admin_id, now = who_of(request).person_id, b.now()

    def act(conn: Connection) -> str:
        n = board_actions.publish_bulletin(conn, bid, admin_id=admin_id, now=now)
        return f"通报 {bid} 已发布，共 {n} 条消息待发送"

    await run_action(request, form, act)  # redirects back with the result


@admin_only
async def record_event(request: web.Request) -> web.StreamResponse:
    """创新举措 / 执法问题 for a unit: a period flag and a score entry, as in chat."""
    b = board(request)
    form = await form_with_csrf(request)
    unit_id = path_id(request, "unit_id")
    kind, reason, evidence = form_text(form, "kind"), form_text(form, "reason"), form_text(form, "evidence")
    raw_points = form_text(form, "points")
    try:
        points = abs(float(raw_points)) if raw_points else None
    except ValueError:
        raise back(request, form, err="分值要写数字") from None
    admin_id, env, now = who_of(request).person_id, b.env, b.now()

    def act(conn: Connection) -> str:
        return board_actions.record_event(conn, env, unit_id=unit_id, kind=kind, reason=reason,
                                          points=points, evidence=evidence, admin_id=admin_id,
                                          now=now)

    await run_action(request, form, act)  # redirects back with the result

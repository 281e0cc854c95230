"""Correcting records on the board (DESIGN §5): the people and groups pages with their edit and
remove forms, and a task's edit and cancel forms. Admin only, CSRF-checked, audited (channel
``web``), with the same use cases as ``dudao person|group|task …`` and chat."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from aiohttp import web
from sqlalchemy import Connection

from bot.services import audit, corrections
from bot.services import groups as groups_svc
from bot.services import people as people_svc
from bot.services import units as units_svc
from bot.services.units import KIND_NAMES
from bot.web.common import admin_only, back, board, form_with_csrf, page, run_action, who_of
from bot.web.ids import path_id

CHANNEL = "web"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/people", people_page),
        web.post("/people/{person_id}/edit", edit_person),
        web.post("/people/{person_id}/remove", remove_person),
        web.get("/groups", groups_page),
        web.post("/groups/{group_id}/edit", edit_group),
        web.post("/groups/{group_id}/remove", remove_group),
        web.post("/tasks/{task_id}/edit", edit_task),
        web.post("/tasks/{task_id}/cancel", cancel_task),
    ]


def _text(form: Any, key: str) -> str | None:
    """The field as typed (stripped), or None when the form did not send it."""
    value = form.get(key)
    return value.strip() if isinstance(value, str) else None


def _audit(conn: Connection, request: web.Request, action: str, target: str,
           detail: dict[str, Any]) -> None:
    audit.record(conn, at=board(request).now(), actor=f"person:{who_of(request).person_id}",
                 channel=CHANNEL, action=action, target=target, detail=detail)


# ---------------------------------------------------------------------------------- people


@admin_only
async def people_page(request: web.Request) -> web.StreamResponse:
    b = board(request)
    rows, units = await b.db.run(lambda c: (people_svc.list_people(c), units_svc.list_units(c)))
    return page(request, "people.html", rows=rows, units=units,
                roles=people_svc.ROLE_NAMES)


@admin_only
async def edit_person(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    pid = path_id(request, "person_id")
    name, unit, role = _text(form, "name"), _text(form, "unit"), _text(form, "role")

    def act(conn: Connection) -> str:
        ident = people_svc.identity_of(conn, pid)
        p, changes = people_svc.edit(conn, ident, name=name, unit=unit, role=role)
        _audit(conn, request, "person.edit", f"person:{p.id}", {"identity": ident, **changes})
        return f"已修改 {ident}：{p.unit_name or '（无单位）'} {people_svc.ROLE_NAMES[p.role]} {p.name}"

    await run_action(request, form, act)


@admin_only
async def remove_person(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    pid = path_id(request, "person_id")
    now = board(request).now()

    def act(conn: Connection) -> str:
        ident = people_svc.identity_of(conn, pid)
        p = people_svc.remove(conn, ident, now=now)
        _audit(conn, request, "person.remove", f"person:{p.id}",
               {"identity": ident, "role": p.role, "unit": p.unit_name})
        return f"已停用 {ident}（{p.name or p.unit_name or ''}），其历史记录保留"

    await run_action(request, form, act)


# ---------------------------------------------------------------------------------- groups


@admin_only
async def groups_page(request: web.Request) -> web.StreamResponse:
    b = board(request)
    rows, units = await b.db.run(lambda c: (groups_svc.list_groups(c), units_svc.list_units(c)))
    names = {u.id: u.name for u in units}
    served = {g.id: ",".join(names.get(u, str(u)) for u in g.unit_ids) for g in rows}
    return page(request, "groups.html", rows=rows, served=served, kinds=KIND_NAMES)


@admin_only
async def edit_group(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    gid = path_id(request, "group_id")
    name, units = _text(form, "name"), _text(form, "units")

    def act(conn: Connection) -> str:
        chat = groups_svc.chat_of(conn, gid)
        g, changes = groups_svc.edit(conn, chat, name=name, units_spec=units)
        _audit(conn, request, "group.edit", g.chat, changes)
        return f"已修改群 {g.chat}（{g.name or '未命名'}），服务 {len(g.unit_ids)} 个单位"

    await run_action(request, form, act)


@admin_only
async def remove_group(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    gid = path_id(request, "group_id")

    def act(conn: Connection) -> str:
        g = groups_svc.remove(conn, groups_svc.chat_of(conn, gid))
        _audit(conn, request, "group.remove", g.chat, {"name": g.name, "units": len(g.unit_ids)})
        return f"已移除群 {g.chat}（{g.name or '未命名'}）：不再向该群发送消息"

    await run_action(request, form, act)


# ---------------------------------------------------------------------------------- a task


@admin_only
async def edit_task(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    tid = path_id(request, "task_id")
    title, units = _text(form, "title"), _text(form, "units")
    day, clock = _text(form, "due_date"), _text(form, "due_time")
    due = None
    if day:
        try:
            d = datetime.strptime(day, "%Y-%m-%d").date()
            t = datetime.strptime(clock or "18:00", "%H:%M").time()
        except ValueError:
            raise back(request, form, err="截止日期或时间格式不对") from None
        due = datetime.combine(d, time(t.hour, t.minute), tzinfo=b.env.tz)
    env, now = b.env, b.now()

    def act(conn: Connection) -> str:
        c = corrections.edit_task(conn, env, tid, title=title or None, due=due,
                                  units_spec=units or None, now=now)
        _audit(conn, request, "task.edit", f"task:{tid}",
               {**c.changes, "groups": c.groups, "flags_withdrawn": c.flags})
        told = f"，已通知 {c.groups} 个群" if c.groups else ""
        return (f"已修改任务 {tid}《{c.task.title}》：截止 {env.fmt(c.task.due)}，"
                f"{len(c.task.unit_ids)} 个单位{told}")

    await run_action(request, form, act)


@admin_only
async def cancel_task(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    tid = path_id(request, "task_id")
    reason = _text(form, "reason") or ""
    env, now = b.env, b.now()

    def act(conn: Connection) -> str:
        c = corrections.cancel_task(conn, env, tid, reason=reason, now=now)
        _audit(conn, request, "task.cancel", f"task:{tid}",
               {"reason": c.changes["reason"], "groups": c.groups, "flags_withdrawn": c.flags})
        return (f"已撤销任务 {tid}《{c.task.title}》，撤回旗帜 {c.flags} 面，"
                f"已通知 {c.groups} 个群")

    await run_action(request, form, act)

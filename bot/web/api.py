"""JSON under /api/v1/: the board's data for scripts (read-only).

Authenticated by ``Authorization: Bearer <[web] api_token>`` (compared in constant time), or by
an admin's board session. Anything else gets 401 JSON, never a login redirect.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.domain.errors import DomainError, NotFound
from bot.services import board as board_svc
from bot.services import units as units_svc
from bot.web.common import board, current
from bot.web.ids import path_id

JsonHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/units", api_units),
        web.get("/api/v1/units/{unit_id}", api_unit),
        web.get("/api/v1/tasks", api_tasks),
        web.get("/api/v1/board", api_board),
    ]


def error(status: int, code: str, message: str) -> web.Response:
    resp = web.json_response({"error": code, "message": message}, status=status)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="dudao"'
    return resp


async def _authorised(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    configured = board(request).settings.web.api_token
    if header.startswith("Bearer ") and configured:
        return hmac.compare_digest(header[7:].strip().encode(), configured.encode())
    who = await current(request)
    return who is not None and who.is_admin


def api(handler: JsonHandler) -> JsonHandler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not await _authorised(request):
            return error(401, "unauthorized", "需要 API 令牌（Authorization: Bearer …）或管理员登录")
        try:
            return await handler(request)
        except NotFound as exc:
            return error(404, "not_found", exc.message)
        except DomainError as exc:
            return error(400, "invalid", exc.message)

    guarded.__name__ = handler.__name__
    return guarded


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@api
async def api_units(request: web.Request) -> web.StreamResponse:
    kind = request.query.get("kind") or None
    units = await board(request).db.run(lambda c: units_svc.list_units(c, kind=kind))
    return web.json_response([{"id": u.id, "code": u.code, "name": u.name,
                               "short_name": u.short_name, "kind": u.kind,
                               "parent_id": u.parent_id} for u in units])


@api
async def api_tasks(request: web.Request) -> web.StreamResponse:
    rows = await board(request).db.run(lambda c: board_svc.task_overview(c))
    return web.json_response([{"id": t.id, "title": t.title, "due": _iso(t.due),
                               "system": t.system, "status": t.status, "submitted": t.done,
                               "units": t.total} for t in rows])


@api
async def api_board(request: web.Request) -> web.StreamResponse:
    q = request.query
    tz = board(request).env.tz
    g = await board(request).db.run(lambda c: board_svc.grid(
        c, tz=tz, kind=q.get("kind") or None, system=q.get("system") or None,
        period=q.get("period", "")))
    by_unit: dict[int, dict[str, str]] = {}
    for (uid, tid), value in g.cells.items():
        by_unit.setdefault(uid, {})[str(tid)] = value
    body: dict[str, Any] = {
        "tasks": [{"id": t.id, "title": t.title, "due": _iso(t.due), "system": t.system,
                   "status": t.status, "counts": _counts(g.task_counts.get(t.id))}
                  for t in g.tasks],
        "units": [{"id": u.id, "name": u.name, "kind": u.kind,
                   "counts": _counts(g.unit_counts.get(u.id)),
                   "cells": by_unit.get(u.id, {})} for u in g.units],
        "totals": _counts(g.totals()),
    }
    return web.json_response(body)


def _counts(c: Any) -> dict[str, int]:
    c = c or {}
    return {k: int(c.get(k, 0)) for k in ("red", "blue", "yellow", "owed", "received",
                                          "returned", "accepted")}


@api
async def api_unit(request: web.Request) -> web.StreamResponse:
    uid = path_id(request, "unit_id")
    d = await board(request).db.run(lambda c: board_svc.unit_detail(c, uid))
    return web.json_response({
        "id": d.unit.id, "name": d.unit.name, "kind": d.unit.kind, "parent": d.parent,
        "flags": {k: d.counts.get(k, 0) for k in ("red", "blue", "yellow")},
        "tasks": [{"task_id": t.task_id, "title": t.title, "due": _iso(t.due), "state": t.state,
                   "flag": t.flag, "flag_reason": t.flag_reason} for t in d.tasks],
        "submissions": [{"id": s.id, "task_id": s.task_id, "task": s.task,
                         "submitter": s.submitter, "status": s.status, "rating": s.rating,
                         "version": s.version, "late": s.late,
                         "submitted_at": _iso(s.submitted_at), "review_reason": s.review_reason,
                         "attachments": [{"name": a.name, "sha256": a.sha256, "size": a.size}
                                         for a in s.attachments]}
                        for s in d.submissions],
        "flag_history": [{"task_id": f.task_id, "period": f.period, "color": f.color,
                          "reason": f.reason, "source": f.source, "current": f.current,
                          "set_at": _iso(f.set_at)} for f in d.flags],
        "scores": [{"period": s.period, "points": s.points, "kind": s.kind, "reason": s.reason}
                   for s in d.scores],
    })

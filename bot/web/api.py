"""JSON under /api/v1/: the board's data for scripts (read-only).

:data:`ENDPOINTS` is the whole API: each resource declared once (bot/web/apispec.py says what
an :class:`Endpoint` holds and which conventions come with it). The aiohttp routes, the index
at ``/api/v1/`` and ``/api/v1/openapi.json`` are generated from it. Adding a resource is a
record dataclass and a ``list_…(conn, *, after, limit, **filters)`` in ``bot/services/``, then
a :func:`listing` (and a :func:`detail`) line here — docs/architecture.md, "Adding an API
resource".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

import bot
from bot.services import api_reads as reads
from bot.services import board as board_svc
from bot.services import cases as cases_svc
from bot.services import rectifications as rect_svc
from bot.services import sites as sites_svc
from bot.services.cases import CaseInfo
from bot.services.rectifications import RectInfo
from bot.services.sites import SiteInfo
from bot.web import plan
from bot.web.apispec import (
    PREFIX,
    Args,
    Endpoint,
    Param,
    detail,
    error,
    listing,
    openapi,
)
from bot.web.common import board

__all__ = ["ENDPOINTS", "error", "routes"]

_UNIT_KINDS = ("city", "county", "department", "central", "office")
_OBJECT: dict[str, Any] = {"type": "object"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def api_index(request: web.Request, args: Args) -> Any:
    seen: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        if ep.resource and ep.resource != "api":
            entry = seen.setdefault(ep.resource, {"name": ep.resource, "path": ep.path,
                                                  "summary": ep.summary, "endpoints": []})
            entry["endpoints"].append({"method": ep.method, "path": ep.path,
                                       "summary": ep.summary})
    return {"name": "dudao", "version": bot.__version__,
            "openapi": f"{PREFIX}/openapi.json", "resources": list(seen.values())}


async def api_openapi(request: web.Request, args: Args) -> Any:
    return openapi(ENDPOINTS, version=bot.__version__)


async def api_board(request: web.Request, args: Args) -> Any:
    tz = board(request).env.tz
    g = await board(request).db.run(lambda c: board_svc.grid(
        c, tz=tz, kind=args["kind"], system=args["system"], period=args["period"] or ""))
    by_unit: dict[int, dict[str, str]] = {}
    for (uid, tid), value in g.cells.items():
        by_unit.setdefault(uid, {})[str(tid)] = value
    return {
        "tasks": [{"id": t.id, "title": t.title, "due": _iso(t.due), "system": t.system,
                   "status": t.status, "counts": _counts(g.task_counts.get(t.id))}
                  for t in g.tasks],
        "units": [{"id": u.id, "name": u.name, "kind": u.kind,
                   "counts": _counts(g.unit_counts.get(u.id)),
                   "cells": by_unit.get(u.id, {})} for u in g.units],
        "totals": _counts(g.totals()),
    }


def _counts(c: Any) -> dict[str, int]:
    c = c or {}
    return {k: int(c.get(k, 0)) for k in ("red", "blue", "yellow", "owed", "received",
                                          "returned", "accepted")}


async def api_unit(request: web.Request, args: Args) -> Any:
    uid = args["unit_id"]
    d = await board(request).db.run(lambda c: board_svc.unit_detail(c, uid))
    return {
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
    }


_UNIT = Param("unit", "id", "单位编号")
_TASK = Param("task", "id", "任务编号")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(f"{PREFIX}/", "接口目录：全部资源及其路径", api_index, _OBJECT, resource="api"),
    Endpoint(f"{PREFIX}/openapi.json", "本接口的 OpenAPI 3.1 描述", api_openapi, _OBJECT,
             resource="api"),
    listing(f"{PREFIX}/units", "单位列表", reads.list_units, reads.UnitRecord, resource="units",
            params=(Param("kind", "string", "单位类别", enum=_UNIT_KINDS),)),
    Endpoint(f"{PREFIX}/units/{{unit_id}}", "一个单位：旗帜、任务、提交、得分", api_unit, _OBJECT,
             (Param("unit_id", "id", "单位编号", "path"),), resource="units"),
    listing(f"{PREFIX}/tasks", "任务列表（含已报送单位数）", reads.list_tasks, reads.TaskRecord,
            resource="tasks",
            params=(Param("status", "string", "任务状态", enum=("open", "closed", "cancelled")),)),
    detail(f"{PREFIX}/tasks/{{task_id}}", "一项任务", reads.get_task, reads.TaskRecord,
           resource="tasks"),
    listing(f"{PREFIX}/submissions", "提交列表", reads.list_submissions, reads.SubmissionRecord,
            resource="submissions",
            params=(_TASK, _UNIT, Param("since", "datetime", "只列此时刻及以后提交的（ISO 8601）"))),
    detail(f"{PREFIX}/submissions/{{submission_id}}", "一份提交（聊天里的 #编号）",
           reads.get_submission, reads.SubmissionRecord, resource="submissions"),
    listing(f"{PREFIX}/flags", "旗帜（含历史）", reads.list_flags, reads.FlagRecord,
            resource="flags",
            params=(_UNIT, _TASK, Param("current", "boolean", "只列当前有效（true）或已撤下的"))),
    listing(f"{PREFIX}/notices", "通知列表（含已确认单位数）", reads.list_notices,
            reads.NoticeRecord, resource="notices"),
    detail(f"{PREFIX}/notices/{{notice_id}}", "一条通知", reads.get_notice, reads.NoticeRecord,
           resource="notices"),
    listing(f"{PREFIX}/notices/{{notice_id}}/acknowledgements", "通知的确认（回复“收到”）",
            reads.list_acks, reads.AckRecord, resource="notices", operation="list_acknowledgements",
            params=(Param("notice_id", "id", "通知编号", "path"),)),
    listing(f"{PREFIX}/cases", "典型案例", reads.list_cases, CaseInfo, resource="cases",
            params=(Param("year", "integer", "年度"),
                    Param("status", "string", "状态", enum=("submitted", "selected", "returned")),
                    _UNIT, Param("kind", "string", "案例类型"))),
    detail(f"{PREFIX}/cases/{{case_id}}", "一个典型案例", cases_svc.get, CaseInfo,
           resource="cases"),
    listing(f"{PREFIX}/sites", "示范点（候选与验收结果）", reads.list_sites, SiteInfo,
            resource="sites", params=(Param("year", "integer", "年度"),
                                      Param("status", "string", "状态"), _UNIT)),
    detail(f"{PREFIX}/sites/{{site_id}}", "一个示范点", sites_svc.get, SiteInfo, resource="sites"),
    listing(f"{PREFIX}/rectifications", "整改事项", reads.list_rectifications, RectInfo,
            resource="rectifications",
            params=(Param("status", "string", "状态"), _UNIT,
                    Param("check", "id", "抽查编号"))),
    detail(f"{PREFIX}/rectifications/{{rectification_id}}", "一项整改", rect_svc.get, RectInfo,
           resource="rectifications"),
    Endpoint(f"{PREFIX}/board", "督导看板：单位 × 任务的状态与旗帜", api_board, _OBJECT,
             (Param("kind", "string", "单位类别", enum=_UNIT_KINDS),
              Param("system", "string", "体系"), Param("period", "string", "期间，如 2026H2")),
             resource="board"),
    Endpoint(f"{PREFIX}/plan", "年度计划：周期性任务按单位和季度", plan.api_plan, _OBJECT,
             (Param("year", "string", "年度（默认今年）"), Param("kind", "string", "单位类别")),
             resource="plan"),
)


def routes() -> list[web.RouteDef]:
    from bot.web.apispec import routes as generate

    return generate(ENDPOINTS)

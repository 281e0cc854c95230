"""The board's plan view (``/plan``): the year's recurring work per unit and quarter, and its
JSON (``/api/v1/plan``). Figures are ``stats.plan_grid``'s, as the export's 周期性任务 sheet."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiohttp import web

from bot.domain.errors import DomainError
from bot.domain.periods import parse_year
from bot.services import stats
from bot.services.units import KIND_NAMES
from bot.web.common import board, page, signed_in, who_of

# The state of a unit's instance, as a word (the colour is a help, never the only sign).
CELLS = {"accepted": ("sa", "过", "已通过"), "received": ("sr", "审", "已报送，待审核"),
         "returned": ("sx", "退", "已退回，待重新报送"), "owed": ("so", "未", "尚未报送（未到截止时间）"),
         "overdue": ("sl", "逾", "逾期未报送"), "upcoming": ("su", "·", "尚未开始（本期任务还未生成）"),
         "cancelled": ("su", "撤", "本期任务已撤销")}
TODO = {"overdue": "逾期未报", "returned": "退回待改"}
QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度", 0: "全年"}


def routes() -> list[web.RouteDef]:
    # /api/v1/plan is declared with the rest of the API (bot/web/api.py)
    return [web.get("/plan", plan_page)]


def _query(request: web.Request) -> tuple[int, str]:
    b = board(request)
    text = request.query.get("year", "")
    year = parse_year(text) if text else b.env.local(b.now()).year
    kind = request.query.get("kind", "")
    return year, kind if kind in KIND_NAMES else ""


@signed_in
async def plan_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    problem = ""
    try:
        year, kind = _query(request)
    except DomainError as exc:
        problem, kind = exc.message, ""
        year = b.env.local(b.now()).year
    now = b.now()
    g = await b.db.run(lambda conn: stats.plan_grid(
        conn, b.env, year, now=now, unit_ids=who.scope, kind=kind or None))
    groups: dict[int, int] = defaultdict(int)  # quarter → columns (in the grid's order)
    for c in g.columns:
        groups[c.quarter] += 1
    # unit → what it must still do (past due, or returned), for the phone's list
    todo: dict[int, list[str]] = defaultdict(list)
    for (uid, index), cell in sorted(g.cells.items()):
        if cell.shown in TODO:
            c = g.columns[index]
            what = f"{c.label}{c.title}" if c.quarter else f"全年{c.title}"
            todo[uid].append(f"{what}（{TODO[cell.shown]}）")
    local = b.env.local(now)
    return page(request, "plan.html", g=g, groups=list(groups.items()), quarters=QUARTERS,
                cells=CELLS, todo=todo, kinds=KIND_NAMES, kind=kind, year=year,
                years=[local.year + 1, local.year, local.year - 1], problem=problem)


async def api_plan(request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
    b = board(request)
    year, kind = _query(request)
    g = await b.db.run(lambda conn: stats.plan_grid(
        conn, b.env, year, kind=kind or None))
    body: dict[str, Any] = {
        "year": g.year, "as_of": g.as_of.isoformat(),
        "columns": [{"series_id": c.series_id, "title": c.title, "kind": c.kind,
                     "repeat": c.rule, "period": c.period, "label": c.label,
                     "quarter": c.quarter, "due": c.due.isoformat(), "task_id": c.task_id}
                    for c in g.columns],
        "units": [{"id": u.unit_id, "name": u.name, "kind": u.kind, "done": u.done, "due": u.due,
                   "total": u.total,
                   "cells": [None if (cell := g.cell(u.unit_id, i)) is None else cell.shown
                             for i in range(len(g.columns))]} for u in g.units],
    }
    return body

"""The board's pages (GET): the grid, a unit, a task, tasks, notices, dynamics, bulletins, audit."""

from __future__ import annotations

import asyncio
from collections import Counter
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError, NotFound
from bot.services import board as board_svc
from bot.services import rectifications as rect_svc
from bot.services.tasks import SYSTEM_NAMES
from bot.services.units import KIND_NAMES
from bot.web import charts, labels
from bot.web.common import admin_only, board, error_page, page, signed_in, who_of
from bot.web.gridhtml import grid_html, unit_list_html
from bot.web.ids import path_id, query_id

# the flag rules (bot/domain/flags.py), as the legend under the grid.
RULES = (
    ("red", "红旗", "按时报送且审核评价为“优”：按时完成，成效显著"),
    ("blue", "蓝旗", "按时报送但评价为“良”或“一般”，或被退回（未完全达到要求）；"
                     "逾期报送经督促指导后纠正并通过审核的，黄旗改为蓝旗"),
    ("yellow", "黄旗", "截止时仍未报送，或逾期报送尚未通过审核：未按时完成，需要督促指导"),
    ("innovation", "创新举措", "管理员认定的创新举措记红旗并加分"),
    ("incident", "执法问题", "粗暴执法、野蛮执法、趋利执法造成不良影响的记黄旗并扣分"),
)
CELL_LEGEND = (("sr", "审", "已报送，待审核"), ("sx", "退", "已退回，待重新报送"),
               ("so", "未", "尚未报送（未到截止时间）"), ("sa", "过", "已通过（尚未定旗）"))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", board_page),
        web.get("/units/{unit_id}", unit_page),
        web.get("/tasks", tasks_page),
        web.get("/tasks/{task_id}", task_page),
        web.get("/charts", charts_page),
        web.get("/notices", notices_page),
        web.get("/dynamics", dynamics_page),
        web.get("/bulletins", bulletins_page),
        web.get("/audit", audit_page),
        web.get("/files/{attachment_id}", download),
    ]


@signed_in
async def board_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    kind = request.query.get("kind", "")
    system = request.query.get("system", "")
    period = request.query.get("period", "")
    scope = set(who.scope) if who.scope is not None else None
    tz = b.env.tz
    problem = ""
    try:
        g = await b.db.run(lambda conn: board_svc.grid(
            conn, tz=tz, kind=kind or None, system=system or None, period=period,
            unit_ids=scope))
    except DomainError as exc:
        problem = exc.message
        g = board_svc.Grid([], [], {})
    html = await asyncio.to_thread(grid_html, g, b.fmt)
    periods = board_svc.recent_periods(b.now(), tz)
    return page(request, "board.html", grid=html, unit_list=unit_list_html(g),
                totals=g.totals(), owed_total=sum(g.unit_owed.values()), n_units=len(g.units),
                n_tasks=len(g.tasks), kind=kind,
                system=system, period=period, periods=periods, kinds=KIND_NAMES,
                systems=SYSTEM_NAMES, rules=RULES, cell_legend=CELL_LEGEND, problem=problem,
                filter_summary=_filter_summary(kind, system, period))


def _filter_summary(kind: str, system: str, period: str) -> str:
    """What the folded filter control says it shows: ``地市 · 2026年`` or ``全部``."""
    chosen = [KIND_NAMES.get(kind, kind) if kind else "", SYSTEM_NAMES.get(system, system)
              if system else "", board_svc.period_label(period) if period else ""]
    return " · ".join(c for c in chosen if c) or "全部单位、全部任务"


@signed_in
async def unit_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    unit_id = path_id(request, "unit_id")
    if not who.can_see(unit_id):
        return error_page(request, 403, "只读链接只能查看本单位及下级单位的情况")
    tz, now = b.env.tz, b.now()
    all_years = request.query.get("all") == "1"
    try:
        v = await b.db.run(lambda conn: board_svc.unit_view(
            conn, unit_id, now=now, tz=tz, all_years=all_years))
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    rects = await b.db.run(lambda conn: rect_svc.list_items(
        conn, unit_ids={unit_id}, unfinished=True, limit=None))
    today = now.astimezone(tz).date()
    return page(request, "unit.html", v=v, d=v.detail, kinds=KIND_NAMES, now=now, rects=rects,
                score_total=sum(s.points for s in v.detail.scores), all_years=all_years,
                due_note=lambda due: labels.due_note(due.astimezone(tz).date(), today))


@admin_only
async def task_page(request: web.Request) -> web.StreamResponse:
    b = board(request)
    task_id = path_id(request, "task_id")
    tz = b.env.tz
    try:
        d = await b.db.run(lambda conn: board_svc.task_detail(conn, task_id, tz))
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    latest: dict[int, int] = {}
    for s in d.submissions:  # oldest first: the last seen per unit is the one to review
        latest[s.unit_id] = s.id
    returned = [s for s in d.submissions if s.status == "returned"]
    today = b.env.local(b.now()).date()
    chart = charts.submission_progress(d.daily, len(d.units), published=d.published,
                                       due=d.task.due.astimezone(tz).date(), today=today)
    late = [u for u in d.units if u.late]
    missing = [u for u in d.units if u.state in ("owed", "returned")]
    submitted = [u for u in d.units if u.submitted_at is not None]
    return page(request, "task.html", d=d, systems=SYSTEM_NAMES, latest=set(latest.values()),
                returned=returned, chart=chart, late=late, missing=missing, submitted=submitted,
                overdue=d.task.due < b.now(), local_due=b.env.local(d.task.due))


@admin_only
async def tasks_page(request: web.Request) -> web.StreamResponse:
    b = board(request)
    rows = await b.db.run(lambda conn: board_svc.task_overview(conn))
    local = b.env.local(b.now())
    return page(request, "tasks.html", rows=rows, systems=SYSTEM_NAMES, kinds=KIND_NAMES,
                default_due=f"{local.year}-{local.month:02d}-{local.day:02d}")


@admin_only
async def charts_page(request: web.Request) -> web.StreamResponse:
    b = board(request)

    def load(conn: Connection) -> tuple[list[board_svc.TaskRow],
                                        list[tuple[int, str, int, int, int]]]:
        return board_svc.task_overview(conn, limit=30), board_svc.flags_by_unit(conn, limit=40)

    tasks, flags = await b.db.run(load)
    completion = charts.completion_bars([(t.id, t.title, t.done, t.total)
                                         for t in reversed(tasks)])
    return page(request, "charts.html", completion=completion,
                flags=charts.flags_by_unit(flags))


@admin_only
async def notices_page(request: web.Request) -> web.StreamResponse:
    def load(conn: Connection) -> tuple[list[board_svc.NoticeRow], dict[str, str]]:
        rows = board_svc.notices(conn)
        refs = {part.strip() for n in rows for part in n.targets.split(",")}
        return rows, board_svc.reference_names(conn, refs)

    rows, names = await board(request).db.run(load)
    return page(request, "notices.html", rows=rows, names=names, L=labels)


@admin_only
async def dynamics_page(request: web.Request) -> web.StreamResponse:
    rows = await board(request).db.run(lambda conn: board_svc.dynamics(conn))
    return page(request, "dynamics.html", rows=rows,
                statuses={"pending": "待审", "published": "已发布", "featured": "精选"},
                counts=Counter(r.status for r in rows))


@admin_only
async def bulletins_page(request: web.Request) -> web.StreamResponse:
    rows = await board(request).db.run(lambda conn: board_svc.bulletins(conn))
    return page(request, "bulletins.html", rows=rows, kinds=labels.BULLETIN_KINDS)


@admin_only
async def audit_page(request: web.Request) -> web.StreamResponse:
    before = query_id(request, "before")

    def load(conn: Connection) -> tuple[list[board_svc.AuditRow], dict[str, str]]:
        rows = board_svc.audit_log(conn, before=before)
        refs: set[str] = set()
        for r in rows:
            refs |= labels.references(r.actor, r.target, r.detail)
        return rows, board_svc.reference_names(conn, refs)

    b = board(request)
    rows, names = await b.db.run(load)
    return page(request, "audit.html", rows=rows, names=names, L=labels,
                more=rows[-1].id if len(rows) == 100 else None)


@signed_in
async def download(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    aid = path_id(request, "attachment_id")
    try:
        name, sha, unit_id = await b.db.run(lambda conn: board_svc.attachment(conn, aid))
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    if not who.can_see(unit_id):
        return error_page(request, 403, "只读链接只能查看本单位及下级单位的材料")
    path = b.files.open_path(sha)
    if path is None:
        return error_page(request, 404, "附件文件已不在服务器上")
    return web.FileResponse(path, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Content-Type": "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
    })

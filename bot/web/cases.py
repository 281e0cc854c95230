"""The board's typical cases (``/cases``): search and filters (year, status, kind, unit), a
case's page with its files, and 入选 / 退回 for admins (CSRF-checked forms, audited, the unit
told in its group through the outbox). Link viewers see the selected cases and their own units'.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError, NotFound
from bot.domain.periods import parse_year
from bot.services import audit
from bot.services import cases as cases_svc
from bot.services import units as units_svc
from bot.services.doc_cases import CASE_KINDS
from bot.web.common import (
    admin_only,
    board,
    error_page,
    form_with_csrf,
    page,
    run_action,
    signed_in,
    who_of,
)
from bot.web.ids import path_id

CHANNEL = "web"
SHOWN = 100


def routes() -> list[web.RouteDef]:
    return [
        web.get("/cases", cases_page),
        web.get("/cases/{case_id}", case_page),
        web.get("/cases/{case_id}/files/{file_id}", download),
        web.post("/cases/{case_id}/select", select),
        web.post("/cases/{case_id}/return", return_),
    ]


def _visible(request: web.Request) -> set[int] | None:
    scope = who_of(request).scope
    return None if scope is None else set(scope)


@signed_in
async def cases_page(request: web.Request) -> web.StreamResponse:
    b = board(request)
    q = request.query
    words = q.get("q", "").strip()[:100]
    status = q.get("status", "") if q.get("status") in cases_svc.STATUSES else ""
    kind = q.get("kind", "") if q.get("kind") in CASE_KINDS else ""
    unit_text = q.get("unit", "").strip()[:60]
    problem = ""
    year: int | None = None
    try:
        year = parse_year(q["year"]) if q.get("year") else None
    except DomainError as exc:
        problem = exc.message
    visible = _visible(request)

    def load(conn: Connection) -> tuple[list[cases_svc.CaseInfo], int | None, str]:
        unit_id = None
        if unit_text:
            u = units_svc.find(conn, unit_text)
            if u is None:
                return [], None, f"没有找到单位“{unit_text}”"
            unit_id = u.id
        if words:
            res = cases_svc.search(conn, words, year=year, status=status or None,
                                   unit_id=unit_id, kind=kind or None, visible_units=visible,
                                   limit=SHOWN)
            return list(res.hits), res.total, ""
        rows = cases_svc.list_cases(conn, year=year, status=status or None, unit_id=unit_id,
                                    kind=kind or None, visible_units=visible, limit=SHOWN)
        return rows, None, ""

    rows, total, unit_problem = await b.db.run(load)
    local = b.env.local(b.now())
    return page(request, "cases.html", rows=rows, total=total, words=words, shown=status,
                kind=kind, unit=unit_text, year=year, kinds=CASE_KINDS,
                statuses=cases_svc.STATUS_NAMES, problem=problem or unit_problem,
                years=list(range(local.year + 1, local.year - 4, -1)))


async def _case(request: web.Request) -> tuple[cases_svc.CaseInfo, list[int]] | web.Response:
    case_id = path_id(request, "case_id")
    try:
        info, ids = await board(request).db.run(
            lambda conn: (cases_svc.get(conn, case_id), cases_svc.file_ids(conn, case_id)))
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    if info.status != "selected" and not who_of(request).can_see(info.unit_id):
        return error_page(request, 404, f"没有编号为 {case_id} 的案例")  # not theirs to see
    return info, ids


@signed_in
async def case_page(request: web.Request) -> web.StreamResponse:
    found = await _case(request)
    if isinstance(found, web.Response):
        return found
    info, ids = found
    return page(request, "case.html", c=info, files=list(zip(ids, info.files, strict=True)),
                statuses=cases_svc.STATUS_NAMES)


@signed_in
async def download(request: web.Request) -> web.StreamResponse:
    found = await _case(request)
    if isinstance(found, web.Response):
        return found
    info, _ = found
    file_id = path_id(request, "file_id")
    b = board(request)
    try:
        f = await b.db.run(lambda conn: cases_svc.file_of(conn, info.id, file_id))
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    path = b.files.open_path(f.sha256)
    if path is None:
        return error_page(request, 404, "案例文件已不在服务器上")
    return web.FileResponse(path, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.name)}",
        "Content-Type": "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
    })


async def _review(request: web.Request, form: Any, *, selecting: bool) -> NoReturn:
    b = board(request)
    case_id = path_id(request, "case_id")
    person_id, env, now = who_of(request).person_id, b.env, b.now()
    reason = str(form.get("reason", ""))[:2000]

    def act(conn: Connection) -> str:
        if selecting:
            done = cases_svc.select_case(conn, env, case_id, reviewer_id=person_id, now=now)
            detail: dict[str, Any] = {"unit": done.case.unit_id,
                                      "collection_task": done.collection_task}
        else:
            done = cases_svc.return_case(conn, case_id, reason=reason, reviewer_id=person_id,
                                         now=now)
            detail = {"unit": done.case.unit_id, "reason": done.case.reason}
        c = done.case
        audit.record(conn, at=now, actor=f"person:{person_id}", channel=CHANNEL,
                     action="case.select" if selecting else "case.return",
                     target=f"case:{case_id}", detail=detail)
        cases_svc.tell_unit(conn, c, now)
        return f"案例#{case_id}《{c.title}》（{c.unit}）{'已入选' if selecting else '已退回'}"

    await run_action(request, form, act)  # redirects back with the result


@admin_only
async def select(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    await _review(request, form, selecting=True)


@admin_only
async def return_(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    await _review(request, form, selecting=False)

"""Board pages for demonstration sites (``/sites``), spot checks (``/spotchecks``) and
rectification items (``/rectifications``), with the admins' forms (POST, CSRF-checked, audited,
the unit told in its group: bot/services/programme_actions.py). Read-only link viewers see their
units' rows and no forms."""

from __future__ import annotations

from datetime import datetime, time

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.demo_sites import RecordKind, SiteState
from bot.domain.errors import DomainError
from bot.domain.periods import parse_year
from bot.domain.rectifications import RectState
from bot.services import programme_actions as acts
from bot.services import rectifications, sites, spotchecks
from bot.web.common import (
    admin_only,
    back,
    board,
    form_text,
    form_with_csrf,
    page,
    run_action,
    signed_in,
    who_of,
)
from bot.web.ids import parse_id, path_id

CHANNEL = "web"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/sites", sites_page),
        web.post("/sites", add_site),
        web.post("/sites/{site_id}/records", add_site_record),
        web.post("/sites/{site_id}/decision", decide_site),
        web.get("/spotchecks", checks_page),
        web.post("/spotchecks", draw_check),
        web.get("/rectifications", rects_page),
        web.post("/rectifications", add_rect),
        web.post("/rectifications/{rect_id}/close", close_rect),
        web.post("/rectifications/{rect_id}/return", return_rect),
    ]


def _actor(request: web.Request) -> str:
    return f"person:{who_of(request).person_id}"


# ---------------------------------------------------------------------------------- sites


@signed_in
async def sites_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    now = b.now()
    problem = ""
    year = b.env.local(now).year
    try:
        if request.query.get("year"):
            year = parse_year(request.query["year"])
    except DomainError as exc:
        problem = exc.message

    def read(conn: Connection) -> tuple[list[sites.SiteInfo], dict[int, list[sites.RecordInfo]]]:
        rows = sites.list_sites(conn, year=year, limit=None,
                                unit_ids=set(who.scope) if who.scope is not None else None)
        return rows, {s.id: sites.records(conn, s.id) for s in rows}

    rows, records = await b.db.run(read)
    accepted = [s for s in rows if s.status == SiteState.ACCEPTED.value]
    return page(request, "sites.html", rows=rows, records=records, accepted=accepted,
                year=year, problem=problem, kinds={k.value: k.label for k in RecordKind})


@admin_only
async def add_site(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    unit, name, text = form_text(form, "unit"), form_text(form, "name"), form_text(form, "description")
    actor, now = _actor(request), b.now()
    year = b.env.local(now).year

    def act(conn: Connection) -> str:
        s = acts.nominate_site(conn, unit=unit, name=name, description=text, year=year,
                               actor=actor, channel=CHANNEL, now=now)
        return f"已登记示范点候选 {s.id}：{s.unit} {s.name}"

    await run_action(request, form, act)


@admin_only
async def add_site_record(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    sid = path_id(request, "site_id")
    kind, text = form_text(form, "kind") or "note", form_text(form, "text")
    actor, now = _actor(request), b.now()

    def act(conn: Connection) -> str:
        r = acts.record_site(conn, sid, kind=kind, text=text, actor=actor, channel=CHANNEL,
                             now=now)
        return f"已记录示范点 {sid} 的培育情况（{r.label}）"

    await run_action(request, form, act)


@admin_only
async def decide_site(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    sid = path_id(request, "site_id")
    verdict, reason = form_text(form, "verdict"), form_text(form, "reason")
    if verdict not in ("pass", "fail"):
        raise back(request, form, err="请选择验收通过或未通过")
    actor, now = _actor(request), b.now()

    def act(conn: Connection) -> str:
        s = acts.decide_site(conn, sid, passed=verdict == "pass", reason=reason, actor=actor,
                             channel=CHANNEL, now=now)
        return f"示范点 {s.id}（{s.unit} {s.name}）：{s.label}"

    await run_action(request, form, act)


# ---------------------------------------------------------------------------------- checks


@signed_in
async def checks_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    rows = await b.db.run(lambda conn: spotchecks.list_checks(conn, limit=None))
    if who.scope is not None:  # a viewer sees the draws that reached their units
        rows = [c for c in rows if set(c.drawn) & who.scope]
    return page(request, "spotchecks.html", rows=rows)


@admin_only
async def draw_check(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    pool = form_text(form, "pool") or "all"
    count = parse_id(form_text(form, "count"))
    if count is None:
        raise back(request, form, err="抽取数量要写正整数")
    raw_seed = form_text(form, "seed")
    if raw_seed and not raw_seed.isdigit():
        raise back(request, form, err="种子要写非负整数（不填则随机）")
    seed = int(raw_seed) if raw_seed else None
    who, now = who_of(request), b.now()

    def act(conn: Connection) -> str:
        c = acts.draw_check(conn, pool=pool, count=count, seed=seed, task_id=None,
                            actor=f"person:{who.person_id}", person_id=who.person_id,
                            channel=CHANNEL, now=now)
        return f"抽查 {c.id}：抽中 {'、'.join(c.drawn_names)}（种子 {c.seed}）"

    await run_action(request, form, act)


# ---------------------------------------------------------------------------------- rectify


@signed_in
async def rects_page(request: web.Request) -> web.StreamResponse:
    b, who = board(request), who_of(request)
    status = request.query.get("status", "")
    if status not in rectifications.STATUSES:
        status = ""
    now = b.now()
    rows = await b.db.run(lambda conn: rectifications.list_items(
        conn, status=status or None, limit=None,
        unit_ids=set(who.scope) if who.scope is not None else None))
    return page(request, "rectifications.html", rows=rows, now=now, shown=status,
                statuses={s.value: s.label for s in RectState},
                overdue=sum(1 for i in rows if i.overdue(now)))


@admin_only
async def add_rect(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    env = b.env
    try:
        day = datetime.strptime(form_text(form, "due_date"), "%Y-%m-%d").date()
    except ValueError:
        raise back(request, form, err="整改期限的日期格式不对") from None
    due = datetime.combine(day, time(18, 0), tzinfo=env.tz)
    unit, text = form_text(form, "unit"), form_text(form, "text")
    check_id = parse_id(form_text(form, "check_id")) if form_text(form, "check_id") else None
    actor, now = _actor(request), b.now()

    def act(conn: Connection) -> str:
        i, told = acts.add_rect(conn, env, unit=unit, text=text, due=due, check_id=check_id,
                                actor=actor, channel=CHANNEL, now=now)
        note = "，已通知该单位" if told else "（该单位没有联络群或联络员，未能通知）"
        return f"已建立整改事项 {i.number}：{i.unit}，{env.fmt(i.due)} 截止{note}"

    await run_action(request, form, act)


@admin_only
async def close_rect(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    rid = path_id(request, "rect_id")
    actor, now = _actor(request), b.now()

    def act(conn: Connection) -> str:
        i = acts.close_rect(conn, rid, actor=actor, channel=CHANNEL, now=now)
        return f"整改事项 {i.number}（{i.unit}）已销号"

    await run_action(request, form, act)


@admin_only
async def return_rect(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    rid = path_id(request, "rect_id")
    reason, actor, now = form_text(form, "reason"), _actor(request), b.now()

    def act(conn: Connection) -> str:
        i = acts.return_rect(conn, rid, reason=reason, actor=actor, channel=CHANNEL, now=now)
        return f"已退回整改事项 {i.number}（{i.unit}）：{i.reason}"

    await run_action(request, form, act)

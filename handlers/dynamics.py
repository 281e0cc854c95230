"""动态 / 最新动态 / 发布动态 / 精选: work dynamics posted by liaisons and shared by admins."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.roles import ADMIN, LIAISON
from bot.services import dynamics as dyn_svc
from bot.services import standings as standings_svc
from bot.services import units as units_svc
from handlers.common import person_of, require_unit
from handlers.slots import named_units, parse_for, period_label, time_range

router = Router("dynamics")

POST = HandlerSpec("dynamic", ("动态", "工作动态"), "动态 内容（可附图片）",
                   "报送本单位的工作动态，管理员审核后分享到各群（只发“动态”则查看最新动态）",
                   intents=("dynamic",), roles=ANYONE_REGISTERED, area="dynamics",
                   example="动态 今天上午我市召开行政执法工作推进会", word_alone=True)
LATEST = HandlerSpec("latest_dynamics", ("最新动态",), "最新动态 [单位] [时间]",
                     "查看最近的工作动态", roles=ANYONE_REGISTERED, area="dynamics",
                     word_alone=True)
PUBLISH = HandlerSpec("dynamic_publish", ("发布动态",), "发布动态 编号",
                      "把一条工作动态分享到其他交流群", roles=(ADMIN,), area="dynamics",
                      example="发布动态 3", action="发布动态", word_alone=True)
FEATURE = HandlerSpec("dynamic_feature", ("精选动态", "精选"), "精选 编号",
                      "把一条工作动态标为精选（未分享过的同时分享）", roles=(ADMIN,),
                      area="dynamics", example="精选 3", action="精选动态", word_alone=True)
SHOWN = 5
PREVIEW = 60
# Words after 动态 that ask to see dynamics rather than post one (without the language layer).
_QUERY_WORDS = re.compile(r"(最新|最近|近期|列表|查看|看看|有哪些|有啥|有什么|呢|的|[?？])*")


def _is_query(ctx: Context) -> bool:
    if ctx.event.files:
        return False
    p = parse_for(ctx, POST)
    if p is not None:
        return not p.body
    words = ctx.args.strip()
    if _QUERY_WORDS.fullmatch(words):
        return True
    return all(units_svc.find(ctx.conn, w) is not None for w in re.split(r"[\s,，、]+", words))


@router.handler(POST)
def dynamic(ctx: Context) -> None:
    if _is_query(ctx):
        _list(ctx)
        return
    if person_of(ctx).role != LIAISON:  # everyone reads dynamics; liaisons post them
        raise NotAllowed("工作动态由单位联络员报送", log="non-liaison posts a dynamic")
    person, unit_id = require_unit(ctx)
    if ctx.event.missing_files:
        raise InvalidInput(f"图片“{'、'.join(ctx.event.missing_files)}”没能下载下来，请重新发送",
                           log="dynamic attachment download failed")
    p = parse_for(ctx, POST)
    text = p.body if ctx.command == "" and p is not None else ctx.args
    info = dyn_svc.post(ctx.conn, unit_id=unit_id, person_id=person.id, text=text,
                        files=ctx.event.files, source_chat=ctx.event.chat.key, now=ctx.now)
    ctx.audit("dynamic.create", f"dynamic:{info.id}", {"unit": unit_id, "pictures": info.pictures})
    pics = f"，图片 {info.pictures} 张" if info.pictures else ""
    ctx.reply(f"已收到{info.unit}的工作动态（编号 {info.id}{pics}），管理员审核后将分享到各交流群",
              cause=f"dynamic:{info.id}")


@router.handler(LATEST)
def latest(ctx: Context) -> None:
    _list(ctx)


def _list(ctx: Context) -> None:
    person = person_of(ctx)
    p = parse_for(ctx, POST)
    units = named_units(ctx, p)
    (start, end), timed = time_range(ctx, p, (ctx.env.local(ctx.now).date(),) * 2)
    since = until = None
    if timed:
        since, until = standings_svc.bounds(ctx.env, start, end)
    is_admin = person.role == ADMIN
    own = {person.unit_id} if person.unit_id is not None else set()
    rows, total = dyn_svc.latest(ctx.conn, limit=SHOWN,
                                 unit_ids={u.id for u in units} if units else None,
                                 visible_pending=own, all_statuses=is_admin,
                                 since=since, until=until)
    scope = "、".join(u.name for u in units)
    when = period_label(ctx, start, end) if timed else ""
    if not rows:
        ctx.reply(f"{when}{scope}还没有工作动态" if when or scope else "还没有工作动态")
        return
    lines = [f"{when}{scope}最新工作动态（共 {total} 条）："]
    for d in rows:
        local = ctx.env.local(d.created_at)
        text = d.text if len(d.text) <= PREVIEW else d.text[:PREVIEW] + "…"
        tag = dyn_svc.STATUS_NAMES[d.status] if is_admin or d.status != "published" else ""
        pics = f"，图 {d.pictures}" if d.pictures else ""
        lines.append(f"· {local.month}月{local.day}日 {d.unit}：{text}（编号 {d.id}"
                     + (f"，{tag}" if tag else "") + f"{pics}）")
    if total > SHOWN:
        lines.append(f"更多见督导看板 {ctx.env.board_url}/dynamics")
    ctx.reply("\n".join(lines))


def _number(ctx: Context) -> int:
    m = re.search(r"\d+", ctx.args)
    if m is None:
        raise InvalidInput(f"请写明动态编号，例如：{ctx.command or '发布动态'} 3",
                           log="dynamic share without number")
    return int(m.group(0))


def _share(ctx: Context, *, featured: bool) -> None:
    did = _number(ctx)
    res = dyn_svc.share(ctx.conn, did, featured=featured, now=ctx.now)
    ctx.audit("dynamic.feature" if featured else "dynamic.publish", f"dynamic:{did}",
              {"groups": res.groups})
    what = "标为精选" if featured else "发布"
    where = f"，已排队发往 {res.groups} 个交流群" if res.groups else (
        "（此前已分享过）" if featured else "（没有其他交流群可发）")
    ctx.reply(f"已将{res.dynamic.unit}的工作动态 {did} {what}{where}")


@router.handler(PUBLISH)
def publish(ctx: Context) -> None:
    _share(ctx, featured=False)


@router.handler(FEATURE)
def feature(ctx: Context) -> None:
    _share(ctx, featured=True)

"""申报示范点 / 示范点: a liaison nominates a candidate demonstration site for its unit; anyone
asks for the year's list of accepted sites, or a unit's candidates ("今年有几个示范点")."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import State
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import LIAISON
from bot.services import sites as sites_svc
from bot.services import units as units_svc
from handlers.common import require_unit
from handlers.slots import named_units, parse_for

router = Router("sites")

NOMINATE = HandlerSpec("site_nominate", ("申报示范点",), "申报示范点 名称 简介",
                       "为本单位申报示范点候选（年底验收）", roles=(LIAISON,), area="sites",
                       example="申报示范点 中牟县市场监管所 推行柔性执法“三张清单”",
                       action="为本单位申报示范点")
SITES = HandlerSpec("sites", ("示范点",), "示范点 [单位]",
                    "查看本年度示范点名单，或某单位申报的示范点", intents=("sites",),
                    roles=ANYONE_REGISTERED, area="sites", example="示范点 郑州",
                    word_alone=True)


@router.handler(NOMINATE)
def nominate(ctx: Context) -> None:
    person, unit_id = require_unit(ctx)
    name, _, description = ctx.args.strip().partition(" ")
    if not name:
        raise InvalidInput(f"请写明示范点名称和简介，例如：{NOMINATE.example}",
                           log="site nomination without name")
    year = ctx.env.local(ctx.now).year
    s = sites_svc.nominate(ctx.conn, unit_id=unit_id, name=name, description=description,
                           year=year, actor=person.actor, now=ctx.now,
                           source_chat=ctx.event.chat.key)
    ctx.audit("site.nominate", f"site:{s.id}", {"unit": unit_id, "name": s.name, "year": year})
    ctx.reply(f"已收到{s.unit}申报的{year}年示范点候选“{s.name}”（编号 {s.id}），"
              "将在年内跟踪培育、年底验收", cause=f"site:{s.id}")


@router.handler(SITES)
def sites(ctx: Context) -> None:
    p = parse_for(ctx, SITES)
    units = named_units(ctx, p)
    if p is not None and p.my_unit and ctx.person is not None and ctx.person.unit_id:
        units = [units_svc.get(ctx.conn, ctx.person.unit_id)]
    year = p.date_from.year if p is not None and p.date_from else ctx.env.local(ctx.now).year
    accepted_only = p is not None and p.query is not None and State.ACCEPTED in p.query.states
    if units:
        rows = sites_svc.list_sites(ctx.conn, year=year, unit_ids={u.id for u in units},
                                    limit=None)
        if accepted_only:  # "鹤壁的示范点通过验收了吗": the accepted ones
            rows = [s for s in rows if s.status == "accepted"]
        names = "、".join(u.name for u in units)
        if not rows:
            ctx.reply(f"{names}{year}年还没有验收通过的示范点" if accepted_only
                      else f"{names}{year}年还没有申报示范点")
            return
        lines = [f"{names}{year}年申报的示范点（{len(rows)} 个）："]
        lines += [f"· {s.name}（编号 {s.id}，{s.label}" + (f"：{s.reason}" if s.reason else "")
                  + "）" for s in rows]
        ctx.reply("\n".join(lines))
        return
    rows = sites_svc.list_sites(ctx.conn, year=year, limit=None)
    accepted = [s for s in rows if s.status == "accepted"]
    pending = [s for s in rows if s.status in ("nominated", "preparing")]
    if not rows:
        ctx.reply(f"{year}年还没有申报示范点")
        return
    lines = [f"{year}年示范点：验收通过 {len(accepted)} 个，培育中 {len(pending)} 个"
             f"（共申报 {len(rows)} 个）"]
    lines += [f"· {s.unit} {s.name}" for s in accepted]
    if len(rows) > len(accepted):
        lines.append(f"全部候选见督导看板 {ctx.env.board_url}/sites")
    ctx.reply("\n".join(lines))

"""红旗榜 / 旗帜: units ranked by red flags and score, and one unit's flags with their reasons.

Default period: the current year. Liaisons see their own unit, officials their subtree, admins
any unit they name; the ranking is public to everyone bound (it is posted in bulletins anyway).
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import standings as standings_svc
from bot.services import units as units_svc
from bot.services.flag_rules import COLOR_NAMES
from handlers.common import ensure_visible, person_of, require_unit, visible_units
from handlers.slots import (
    named_units,
    parse_for,
    period_label,
    points,
    this_year,
    time_range,
)

router = Router("flags")

BOARD = HandlerSpec("flag_board", ("红旗榜", "旗帜榜"), "红旗榜 [时间]",
                    "各单位红旗数和得分排名（默认今年）", intents=("flag_board",),
                    roles=ANYONE_REGISTERED, area="flags", example="红旗榜 三季度",
                    word_alone=True)
FLAGS = HandlerSpec("flags", ("我单位旗帜", "旗帜"), "旗帜 [单位] [时间]",
                    "查看单位的红、蓝、黄旗和得分（默认本单位、今年）", intents=("flags",),
                    roles=ANYONE_REGISTERED, area="flags", example="我单位旗帜",
                    word_alone=True)
TOP_N = 10
MAX_UNITS = 5
MAX_REASONS = 5


def _counts(s: standings_svc.UnitStanding) -> str:
    b = s.score
    extra = ""
    if b.bonus:
        extra += f"，加 {points(b.bonus)} 分"
    if b.deduction:
        extra += f"，扣 {points(b.deduction)} 分"
    return f"红旗 {b.red}、蓝旗 {b.blue}、黄旗 {b.yellow}{extra}，得分 {points(b.total)}"


@router.handler(BOARD)
def flag_board(ctx: Context) -> None:
    p = parse_for(ctx, BOARD)
    (start, end), _ = time_range(ctx, p, this_year(ctx))
    label = period_label(ctx, start, end)
    rows = standings_svc.standings(ctx.conn, ctx.env, start, end)
    if not rows:
        ctx.reply(f"{label}还没有任何单位获得旗帜或加减分")
        return
    lines = [f"{label}红旗榜（按红旗数、得分排序，{len(rows)} 个单位有记录）："]
    for i, s in enumerate(rows[:TOP_N], 1):
        lines.append(f"{i}. {s.unit_name} {_counts(s)}")
    if len(rows) > TOP_N:
        lines.append(f"……其余 {len(rows) - TOP_N} 个单位见督导看板 {ctx.env.board_url}/charts")
    ctx.reply("\n".join(lines))


def _targets(ctx: Context) -> list[units_svc.UnitInfo]:
    person = person_of(ctx)
    named = named_units(ctx, parse_for(ctx, FLAGS))
    if person.role == ADMIN:
        if not named:
            raise InvalidInput("请写明单位，例如：旗帜 郑州市；各单位排名请发送“红旗榜”",
                               log="flags without unit from admin")
        return named
    _, unit_id = require_unit(ctx)
    if not named:
        return [units_svc.get(ctx.conn, unit_id)]
    ensure_visible(visible_units(ctx), (u.id for u in named),
                   "您只能查询本单位（或下属单位）的旗帜；各单位排名请发送“红旗榜”",
                   log="flags of another unit")
    return named


def _reason(f: standings_svc.FlagRecord) -> str:
    what = f"《{f.task_title}》" if f.task_title else ""
    return f"· {COLOR_NAMES[f.color]}{what}：{f.reason}"


@router.handler(FLAGS)
def flags(ctx: Context) -> None:
    units = _targets(ctx)[:MAX_UNITS]
    (start, end), _ = time_range(ctx, parse_for(ctx, FLAGS), this_year(ctx))
    label = period_label(ctx, start, end)
    rows = standings_svc.standings(ctx.conn, ctx.env, start, end,
                                   unit_ids={u.id for u in units}, include_empty=True)
    by_id = {s.unit_id: s for s in rows}
    lines: list[str] = []
    for u in units:
        s = by_id[u.id]
        lines.append(f"{u.name}（{label}）：{_counts(s)}")
        if len(units) == 1:
            lines.extend(_reason(f) for f in s.flags[:MAX_REASONS])
            if len(s.flags) > MAX_REASONS:
                lines.append(f"……共 {len(s.flags)} 面，详见督导看板 {ctx.env.board_url}/units/{u.id}")
    ctx.reply("\n".join(lines))

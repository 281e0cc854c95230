"""Answers about flags: a unit's flags and score, the units with a colour, the ranking."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Query
from bot.services import query as query_svc
from bot.services import standings as standings_svc
from bot.services.flag_rules import COLOR_NAMES
from handlers.answers.words import MAX_NAMES, MAX_REASONS, MAX_UNITS, TOP_N
from handlers.common import person_of
from handlers.slots import period_label, points


def _counts(s: standings_svc.UnitStanding) -> str:
    b = s.score
    extra = ""
    if b.bonus:
        extra += f"，加 {points(b.bonus)} 分"
    if b.deduction:
        extra += f"，扣 {points(b.deduction)} 分"
    return f"红旗 {b.red}、蓝旗 {b.blue}、黄旗 {b.yellow}{extra}，得分 {points(b.total)}"


def _reason(f: standings_svc.FlagRecord) -> str:
    what = f"《{f.task_title}》" if f.task_title else ""
    return f"· {COLOR_NAMES[f.color]}{what}：{f.reason}"


def render_flags(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.FlagAnswer) -> str:
    label = period_label(ctx, *r.days)
    rows = list(r.standings)
    colour = COLOR_NAMES.get(r.colour, "") if r.colour else ""
    if a.form == "rank":
        if not rows:
            return f"{label}还没有任何单位获得旗帜或加减分"
        if q.mine or q.unit_ids:
            wanted = set(q.unit_ids) or ({p} if (p := person_of(ctx).unit_id) else set())
            place = [f"{s.unit_name}排第 {i} 名（{_counts(s)}）" for i, s in enumerate(rows, 1)
                     if s.unit_id in wanted]
            if place:
                return f"{label}红旗榜：" + "；".join(place)
        lines = [f"{label}{colour or '红旗'}榜（按{colour or '红旗'}数、得分排序，"
                 f"{len(rows)} 个单位有记录）："]
        for i, s in enumerate(rows[:TOP_N], 1):
            lines.append(f"{i}. {s.unit_name} {_counts(s)}")
        if len(rows) > TOP_N:
            lines.append(f"……其余 {len(rows) - TOP_N} 个单位见督导看板 {ctx.env.board_url}/charts")
        return "\n".join(lines)
    if a.units is None:  # which units have a flag of this colour
        if not rows:
            return f"{label}没有单位获得{colour or '旗帜'}"
        if a.form == "count":
            return f"{label}获得{colour}的单位有 {len(rows)} 个：" + "、".join(s.unit_name for s in rows)
        return f"{label}获得{colour}的单位（{len(rows)} 个）：" + "；".join(
            f"{s.unit_name}{_colour_count(s, r.colour)} 面" for s in rows[:MAX_NAMES])
    out: list[str] = []
    for s in rows[:MAX_UNITS]:
        if r.colour is not None:
            n = _colour_count(s, r.colour)
            if a.form == "yesno":
                out.append(f"{s.unit_name}{label}有{colour} {n} 面" if n else
                           f"{s.unit_name}{label}没有{colour}")
            else:
                out.append(f"{s.unit_name}（{label}）：{_counts(s)}")
            if len(rows) == 1:
                out.extend(_reason(f) for f in s.flags if f.color == r.colour)
            continue
        out.append(f"{s.unit_name}（{label}）：{_counts(s)}")
        if len(rows) == 1:
            out.extend(_reason(f) for f in s.flags[:MAX_REASONS])
            if len(s.flags) > MAX_REASONS:
                out.append(f"……共 {len(s.flags)} 面，详见督导看板 {ctx.env.board_url}/units/{s.unit_id}")
    return "\n".join(out)


def _colour_count(s: standings_svc.UnitStanding, colour: str | None) -> int:
    return int(getattr(s.score, colour)) if colour else s.score.red + s.score.blue + s.score.yellow

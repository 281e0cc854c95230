"""创新 / 通报批评: an admin records an innovation (red flag + bonus) or an enforcement incident
(yellow flag + deduction) for one or more units. Default points come from ``[scoring]``."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import records as records_svc
from bot.services import units as units_svc
from handlers.common import person_of
from handlers.slots import command_parse, parse_for, points

router = Router("records")

INNOVATION = HandlerSpec("innovation", ("创新举措", "创新"), "创新 单位 说明 [分值]",
                         "记录单位的创新举措：记红旗并加分", intents=("innovation",),
                         roles=(ADMIN,), area="records", action="记录创新举措",
                         example="创新 郑州市 推行非现场执法监管 2", word_alone=True)
INCIDENT = HandlerSpec("incident", ("通报批评",), "通报批评 单位 说明 [分值]",
                       "记录粗暴、野蛮、趋利执法等问题：记黄旗并扣分", intents=("incident",),
                       roles=(ADMIN,), area="records", action="记录通报批评",
                       example="通报批评 开封市 执法人员野蛮执法 3", word_alone=True)
# A value at the end: "… 2", "… 2分", "…，加2分", "扣 3 分". A number glued to the text without
# 分 ("案卷评查100") belongs to the text.
_POINTS = re.compile(
    r"(?:(?:^|[\s,，;；])(?:加|扣|记)?\s*(\d+(?:\.\d+)?)\s*分?|(?:加|扣)?\s*(\d+(?:\.\d+)?)\s*分)\s*$")
_UNIT_SPLIT = re.compile(r"[、,，和及]")
MAX_POINTS = 100.0


def _split_points(text: str) -> tuple[str, float | None]:
    m = _POINTS.search(text)
    if m is None:
        return text.strip(), None
    value = float(m.group(1) or m.group(2))
    if not 0 < value <= MAX_POINTS:
        raise InvalidInput(f"分值应大于 0、不超过 {points(MAX_POINTS)}", log=f"points {value}")
    return text[:m.start()].strip(" \t,，;；:："), value


def _units_and_reason(ctx: Context, spec: HandlerSpec) -> tuple[list[units_svc.UnitInfo], str]:
    """The units (read with the scope vocabulary: names, short names, aliases, 和 / 、) and the
    reason, from the command or the free-form parse."""
    p = command_parse(ctx) if ctx.command else parse_for(ctx, spec)
    if p is not None and p.unit_ids:
        return [units_svc.get(ctx.conn, uid) for uid in p.unit_ids], p.body
    words = re.sub(r"^(举措|做法)\s*", "", ctx.args.strip())
    head = words.partition(" ")[0]
    if not head:
        raise InvalidInput(f"请写明单位和说明，例如：{spec.example}", log=f"{spec.name} without unit")
    raise units_svc.unknown_unit(units_svc.list_units(ctx.conn), _UNIT_SPLIT.split(head)[0])


def _record(ctx: Context, spec: HandlerSpec) -> None:
    admin = person_of(ctx)
    units, text = _units_and_reason(ctx, spec)
    reason, value = _split_points(text)
    if not reason:
        raise InvalidInput(f"请写明说明，例如：{spec.example}", log=f"{spec.name} without reason")
    innovation = spec is INNOVATION
    record = records_svc.record_innovation if innovation else records_svc.record_incident
    done = []
    for u in units:
        res = record(ctx.conn, ctx.env, unit_id=u.id, reason=reason, points=value,
                     admin_id=admin.id, now=ctx.now)
        ctx.audit(f"flag.{spec.name}", f"unit:{u.id}",
                  {"flag": res.flag_id, "score_entry": res.score_entry_id, "points": res.points,
                   "reason": res.reason})
        done.append((u, res))
    amount = points(abs(done[0][1].points))
    names = "、".join(u.name for u, _ in done) + ("各" if len(done) > 1 else "")
    if innovation:
        ctx.reply(f"已记录创新举措：{names}记红旗一面、加 {amount} 分（{done[0][1].reason}）")
    else:
        ctx.reply(f"已记录通报批评：{names}记黄旗一面、扣 {amount} 分（{done[0][1].reason}）")


@router.handler(INNOVATION)
def innovation(ctx: Context) -> None:
    _record(ctx, INNOVATION)


@router.handler(INCIDENT)
def incident(ctx: Context) -> None:
    _record(ctx, INCIDENT)

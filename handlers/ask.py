"""Questions: a query frame resolved for the person asking, answered by the query service
(bot/services/query.py) and rendered in Chinese, naming the records counted.

Every question comes here: natural ones ("开封有逾期的吗", "哪几家报了月报", "咱们拿的啥旗") and
the question commands of DESIGN §5 (进度, 谁没交, 我的任务, 红旗榜, 旗帜, 近期要交, 谁没确认),
which the parser reads into the same frames. Who sees what: liaisons their own unit, officials
their unit and the units below it, admins everything (handlers/common.visible_units).

Adding a subject: a renderer in handlers/answers (see bot/core/nlu/subjects.py).
"""

from __future__ import annotations

from datetime import date

from bot.core.context import Context
from bot.core.nlu import Form, Query
from bot.core.nlu import describe as nlu_describe
from bot.core.nlu.timeexpr import find_time
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.text import compact, normalize
from bot.services import query as query_svc
from bot.services import standings as standings_svc
from bot.services import units as units_svc
from handlers.answers import RENDERERS
from handlers.common import ensure_visible, person_of, visible_units
from handlers.slots import this_year

NOT_VISIBLE = "您只能查询本单位（或下属单位）的情况"


# -- resolving a frame for the person asking ------------------------------------------------


def answer(ctx: Context, q: Query) -> None:
    """Answer the question ``q`` (a frame from the parser) for the person asking."""
    subject = q.subject or "tasks"
    form = (q.form or Form.DETAIL).value
    a = _resolve(ctx, q, subject, form)
    result = query_svc.answer(ctx.conn, ctx.env, a)
    ctx.reply(RENDERERS[subject](ctx, q, a, result))


def _resolve(ctx: Context, q: Query, subject: str, form: str) -> query_svc.Ask:
    person = person_of(ctx)
    visible = visible_units(ctx)
    units: frozenset[int] | None
    if q.unit_ids:
        ensure_visible(visible, q.unit_ids, NOT_VISIBLE, log=f"{subject} of another unit")
        units = frozenset(q.unit_ids)
    elif q.kinds:
        ids = {u.id for k in q.kinds for u in units_svc.list_units(ctx.conn, kind=k)}
        units = frozenset(ids if visible is None else ids & visible)
    elif q.mine:
        if person.unit_id is None:
            raise InvalidInput("您的账号没有关联单位，请写明要查询的单位", log="mine without unit")
        units = frozenset({person.unit_id})
    else:
        units = None if visible is None else frozenset(visible)
        if subject == "flags" and form != "rank" and not (q.colour and form in ("list", "count")):
            if visible is None:
                raise InvalidInput("请写明单位，例如：旗帜 郑州市；各单位排名请发送“红旗榜”",
                                   log="flags without unit from admin")
            if person.unit_id is not None:
                units = frozenset({person.unit_id})
        if subject == "flags" and form == "rank":
            units = None  # the ranking is public to everyone bound (it is in bulletins anyway)
    days = _days(ctx, q, subject)
    notice_id = _notice(ctx, q) if subject == "notices" else None
    sid = None
    if subject == "submissions" and q.ref.startswith("#") and q.ref[1:].isdigit():
        sid = int(q.ref[1:])
    return query_svc.Ask(subject=subject, form=form, now=ctx.now,
                         states=tuple(s.value for s in q.states), colour=q.colour, units=units,
                         tasks=q.task_ids, days=days, notice_id=notice_id, submission_id=sid)


def _days(ctx: Context, q: Query, subject: str) -> tuple[date, date] | None:
    today = ctx.env.local(ctx.now).date()
    start, end = q.date_from, q.date_to
    if start is None and end is None:
        return this_year(ctx) if subject == "flags" else None
    if start is None:
        start = min(today, end) if end is not None else today
    if end is None:
        end = max(start, today)
    return start, end


def _notice(ctx: Context, q: Query) -> int | None:
    return notice_of(ctx, q.ref)


def notice_of(ctx: Context, ref: str) -> int | None:
    """The notice named ("#5", "防汛通知", "昨天那个通知"), or None for the latest."""
    ref = ref.strip()
    digits = "".join(ch for ch in ref if ch.isdigit())
    if ref.startswith("#") and digits:
        return int(digits)
    if not ref:
        return None
    norm = normalize(ref)
    span = find_time(norm, ctx.env.local(ctx.now).date(), ctx.env.calendar.is_workday)
    window = None
    if span is not None and span.start is not None:
        window = standings_svc.bounds(ctx.env, span.start, span.end or span.start)
        norm = norm[:span.span[0]] + norm[span.span[1]:]
    words = compact(norm)
    for junk in ("通知", "关于", "那个", "这个", "那条", "这条", "的", "有关"):
        words = words.replace(junk, "")
    found = query_svc.find_notice(ctx.conn, words, window)
    if found is None and words:
        found = query_svc.find_notice(ctx.conn, "", window)
    if found is None:
        raise NotFound(f"没有找到“{ref}”", log=f"no notice matches {ref!r}")
    return found


def describe(query: Query, unit_names: list[str]) -> str:
    """How a clarifying question names what it thinks was asked: "郑州市的进度" (the same words
    as the parser's own questions back, bot/core/nlu/describe.py)."""
    return nlu_describe.describe(query, unit_names)

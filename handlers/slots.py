"""What a query names — units, a time range — from the language layer's parse when it has one,
else from the command's words; and how periods and points are written back to people."""

from __future__ import annotations

import re
from datetime import date

from bot.core.context import Context
from bot.core.nlu import Intent, Parse, Parser, Query
from bot.core.nlu.timeexpr import find_time
from bot.core.router import HandlerSpec, NotACommand
from bot.domain.text import normalize
from bot.services import units as units_svc
from bot.services.vocabulary import read_vocabulary

_SPLIT = re.compile(r"[\s,，、;；和及与]+")
_YEAR = re.compile(r"(20\d\d)\s*年(?!\d)")


def command_parse(ctx: Context) -> Parse:
    """The message read as a command by the language layer's command reader, with the units and
    open tasks as they are in the database now (a task published a second ago is known). The
    installed parser is used when its vocabulary is current; else a command-only one is built
    (milliseconds, no word segmenter), so commands work before the language model has loaded
    and with it switched off."""
    vocab = read_vocabulary(ctx.conn, ctx.env)
    parser = ctx.env.parser
    if parser is None or parser.vocabulary != vocab:
        parser = Parser(vocab, is_workday=ctx.env.calendar.is_workday, tz=ctx.env.tz,
                        language=False)
    return parser.parse(ctx.event.text, now=ctx.now)


def command_query(ctx: Context) -> Query:
    """The question a query command asks (进度 郑州, 谁没交 月报…). A message that only starts
    with the command word ("进度条卡住了") raises :class:`NotACommand`: the router treats it as
    talk (silence in a group, the usual "not understood" when the bot was addressed)."""
    p = command_parse(ctx)
    if p.intent is Intent.QUERY and p.canonical and p.query is not None:
        return p.query
    raise NotACommand(f"{ctx.command!r} opens talk, not a query")


def command_action(ctx: Context, intent: Intent) -> Parse:
    """The request, read by the parser: the command ("通知 各地市 …") or, on the natural path,
    the free-form parse ("给各地市发个通知：…"). A message that is not that request after all
    raises :class:`NotACommand`, as in :func:`command_query`."""
    p = command_parse(ctx) if ctx.command else ctx.parse
    if p is not None and p.intent is intent:
        return p
    raise NotACommand(f"not a {intent.value} request")


def parse_for(ctx: Context, spec: HandlerSpec) -> Parse | None:
    """The parse, if it is about this handler's intent (a command word may parse differently)."""
    p = ctx.parse
    return p if p is not None and p.intent.value in spec.intents else None


def named_units(ctx: Context, parse: Parse | None) -> list[units_svc.UnitInfo]:
    if parse is not None and parse.unit_ids:
        return [units_svc.get(ctx.conn, uid) for uid in parse.unit_ids]
    found: list[units_svc.UnitInfo] = []
    for word in _SPLIT.split(ctx.args):
        u = units_svc.find(ctx.conn, word) if word else None
        if u is not None and u not in found:
            found.append(u)
    return found


def time_range(ctx: Context, parse: Parse | None, default: tuple[date, date]
               ) -> tuple[tuple[date, date], bool]:
    """(start, end) inclusive local days, and whether the message named them."""
    today = ctx.env.local(ctx.now).date()
    start = end = None
    if parse is not None and (parse.date_from or parse.date_to):
        start, end = parse.date_from, parse.date_to
    elif ctx.command:
        year = _YEAR.search(ctx.args)
        if year is not None:
            y = int(year.group(1))
            start, end = date(y, 1, 1), date(y, 12, 31)
        else:
            span = find_time(normalize(ctx.args), today, ctx.env.calendar.is_workday)
            if span is not None:
                start, end = span.start, span.end
    if start is None and end is None:
        return default, False
    if start is None:
        start = min(today, end) if end is not None else today
    if end is None:
        end = max(start, today)
    return (start, end), True


def this_year(ctx: Context) -> tuple[date, date]:
    y = ctx.env.local(ctx.now).year
    return date(y, 1, 1), date(y, 12, 31)


def period_label(ctx: Context, start: date, end: date) -> str:
    this = ctx.env.local(ctx.now).year
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"{start.year}年"

    def day(d: date) -> str:
        return (f"{d.year}年" if d.year != this else "") + f"{d.month}月{d.day}日"

    return day(start) if start == end else f"{day(start)}至{day(end)}"


def points(x: float) -> str:
    """3.0 → "3", 2.5 → "2.5"."""
    return f"{x:g}"

"""Messages in plain words: a message addressed to the bot that is no command.

The language layer reads it (bot/core/nlu); this module keeps the conversation around it
(bot/services/conversations.py): a question is answered and remembered, so that "那开封呢？" or
"退回的呢？" completes it; a message the parser is unsure of gets a question back ("您是想查询
郑州市的进度吗？"), never a guess, and 是 / 对 / 嗯 or "不是，是开封" answers that question within
``[nlu] conversation_ttl_s``. Actions are routed to their handlers; a person whose role does not
allow one is told in one line who may.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Final

from bot.core.context import Context
from bot.core.nlu import Form, Intent, Parse, Query
from bot.core.nlu.frame import from_json, to_json
from bot.core.router import PREFIXES, Route, RouteTable
from bot.services import conversations
from bot.services import units as units_svc
from handlers import ask, texts

# Who may do what, for the one-line refusal ("只有管理员可以发布任务").
_ACTIONS: Final = {
    "publish_task": "发布任务", "notice": "发通知", "remind": "催办", "accept": "审核提交",
    "return": "退回提交", "innovation": "记录创新举措", "incident": "记录通报批评",
    "bulletin_draft": "起草通报", "bulletin_publish": "发布通报", "submit": "提交材料",
    "dynamic": "发布工作动态",
}
_ROLE_NAMES: Final = {"admin": "管理员", "liaison": "单位联络员", "official": "单位领导"}
# A short answer to a question the bot asked; outside a conversation it is only talk.
_ANSWER_GATE: Final = re.compile(
    r"^\s*(是|是的|是啊|对|对的|对啊|嗯|嗯嗯|没错|不是|不对|不)([,，。.!！\s]|$).{0,12}$")
_SEPARATORS: Final = " \t\r\n:：,，、;；.。!！"
_ENDS_ASKING: Final = re.compile(r"([?？]|[吗呢么嘛]|没有|了没)[啊呀吧哈\s]*$")
NOTHING_PENDING = "没有需要确认的问题。发送“帮助”查看可用的指令，或直接提问，例如：郑州还有哪些没交？"
TELL_ME = "好的，请告诉我您想查询什么，例如：郑州还有哪些没交？"


def reads_otherwise(ctx: Context, command: str) -> bool:
    """Whether a message that starts with a command word is, read whole, something else: a
    question ("退回的呢？", "提交了吗") or another request ("通知下谁还没回复收到"). Only messages
    where that is possible are parsed (the command word run together with more words, or a
    question at the end), so "提交 月报 见附件" costs nothing more."""
    text = ctx.event.text.lstrip()
    if text[:1] in PREFIXES:
        return False  # "/通过 …" is always the command
    after = text[len(command):] if text.startswith(command) else ""
    glued = bool(after) and after[0] not in _SEPARATORS
    if not (glued or _ENDS_ASKING.search(text)):
        return False
    parser = ctx.env.parser
    if parser is None or not parser.language:
        return False
    parse = ctx.parse
    return parse is not None and not parse.canonical


def handle(ctx: Context, table: RouteTable) -> None:
    """A message addressed to the bot that no command word claimed."""
    text = ctx.event.text
    parser = ctx.env.parser
    if parser is None or not parser.language or not text:
        _not_understood(ctx, table, text)
        return
    parse = ctx.parse if ctx.parse is not None else parser.parse(text, now=ctx.now)
    if parse.intent in (Intent.CONFIRM, Intent.DENY):
        _answer_to_question(ctx, parse)
        return
    if parse.intent is Intent.QUERY and parse.query is not None and parse.clarify is None:
        if parse.follow_up:
            _follow_up(ctx, parse.query)
        else:
            _answer(ctx, parse.query, parse)
        return
    if parse.clarify is not None:
        _ask_back(ctx, parse)
        return
    route = table.by_intent(parse.intent.value)
    if route is not None and parse.confidence >= 0.5:
        if not _allowed(route, ctx):
            ctx.reply(_refusal(route, parse))
            return
        ctx.parse = parse
        ctx.command, ctx.args = "", text
        route.fn(ctx)
        return
    _not_understood(ctx, table, text)


def answer_unaddressed(ctx: Context) -> bool:
    """A short 是 / 对 / 不是 in a group without @: an answer if the bot asked this person a
    question a moment ago (then handled and True), else talk (False, and the bot stays silent).
    Only such short messages read the conversation, so ordinary chatter costs nothing."""
    if not _ANSWER_GATE.match(ctx.event.text) or ctx.person is None:
        return False
    state = _load(ctx)
    if state.pending is None:
        return False
    parser = ctx.env.parser
    if parser is None:
        return False
    parse = parser.parse(ctx.event.text, now=ctx.now)
    if parse.intent not in (Intent.CONFIRM, Intent.DENY):
        return False
    _answer_to_question(ctx, parse, state)
    return True


# -- the conversation -------------------------------------------------------------------------


def _ttl(ctx: Context) -> float:
    return ctx.env.settings.nlu.conversation_ttl_s


def _load(ctx: Context) -> conversations.State:
    return conversations.load(ctx.conn, chat=ctx.event.chat.key, person=ctx.event.sender.key,
                              now=ctx.now, ttl_s=_ttl(ctx))


def _remember(ctx: Context, *, last: Query | None = None, pending: dict[str, Any] | None = None,
              clear_pending: bool = False) -> None:
    conversations.remember(ctx.conn, chat=ctx.event.chat.key, person=ctx.event.sender.key,
                           now=ctx.now, ttl_s=_ttl(ctx),
                           last=to_json(last) if last is not None else None, pending=pending,
                           clear_pending=clear_pending)


def _answer(ctx: Context, q: Query, parse: Parse | None = None) -> None:
    ctx.parse = parse
    ask.answer(ctx, q)
    _remember(ctx, last=q, clear_pending=True)


def _follow_up(ctx: Context, q: Query) -> None:
    state = _load(ctx)
    previous = state.last or (state.pending or {}).get("query")
    if previous is not None:
        _answer(ctx, q.follow(from_json(previous)))
        return
    # Nothing to continue: ask what was meant, and remember the question it would answer.
    guess = q.follow(Query(subject="tasks", form=Form.DETAIL))
    if q.states and not (q.unit_ids or q.kinds or q.mine):
        guess = q.follow(Query(subject="units", form=Form.LIST))
    if q.colour:
        guess = q.follow(Query(subject="flags", form=Form.LIST))
    _ask(ctx, guess)


def _ask_back(ctx: Context, parse: Parse) -> None:
    """The parser is unsure: ask, never guess. A question about units can be confirmed."""
    if parse.unknown_name:  # "火星市交了没": no such unit; the closest names, if any
        ctx.reply(units_svc.unknown_unit(units_svc.list_units(ctx.conn), parse.unknown_name).message)
        return
    if parse.intent is Intent.UNKNOWN and parse.unit_ids:
        q = parse.query or Query()
        guess = Query(subject="tasks", form=Form.DETAIL, unit_ids=parse.unit_ids,
                      states=q.states, task_ids=q.task_ids, date_from=q.date_from,
                      date_to=q.date_to)
        _ask(ctx, guess, parse.clarify)
        return
    ctx.reply(parse.clarify or texts.UNKNOWN)


def _ask(ctx: Context, guess: Query, question: str | None = None) -> None:
    names = [units_svc.get(ctx.conn, u).name for u in guess.unit_ids]
    text = question or f"您是想查询{ask.describe(guess, names)}吗？"
    ctx.reply(text)
    _remember(ctx, pending={"query": to_json(guess), "question": text})


def _answer_to_question(ctx: Context, parse: Parse,
                        state: conversations.State | None = None) -> None:
    state = state or _load(ctx)
    pending = (state.pending or {}).get("query")
    if pending is None:
        ctx.reply(NOTHING_PENDING)
        return
    asked = from_json(pending)
    if parse.intent is Intent.CONFIRM:
        _answer(ctx, asked)
        return
    correction = parse.query
    if correction is not None and correction.said & {"unit_ids", "kinds", "mine", "task_ids",
                                                      "states", "colour", "date_from"}:
        _answer(ctx, _said_only(correction).follow(asked))
        return
    ctx.reply(TELL_ME)
    _remember(ctx, clear_pending=True)


def _said_only(q: Query) -> Query:
    """A correction keeps only what it said ("不是，是开封": the units)."""
    said = q.said & {"unit_ids", "kinds", "mine", "task_ids", "states", "colour", "date_from",
                     "date_to"}
    return replace(q, subject=None, form=None, ref="", said=frozenset(said))


# -- routing, refusals, not understood ---------------------------------------------------------


def _allowed(route: Route, ctx: Context) -> bool:
    roles = route.spec.roles
    return not roles or ctx.person is None or ctx.person.role in roles


def _refusal(route: Route, parse: Parse) -> str:
    who = "或".join(_ROLE_NAMES.get(r, r) for r in route.spec.roles)
    what = _ACTIONS.get(parse.intent.value, route.spec.summary)
    return f"只有{who}可以{what}"


def _not_understood(ctx: Context, table: RouteTable, text: str) -> None:
    suggestions = table.suggest(text)
    hint = f"您是不是想用：{'、'.join(suggestions)}？" if suggestions else ""
    ctx.reply((hint + "\n" if hint else "") + texts.UNKNOWN)

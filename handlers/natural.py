"""Messages in plain words: a message addressed to the bot that is no command.

The language layer reads it (bot/core/nlu) and the router (bot/core/router.py) sends an action
it recognises ("给各地市发个通知：…") to that action's handler, roles checked there. This module
keeps the conversation around the rest (bot/services/conversations.py): a question is answered
and remembered, so that "那开封呢？" or "退回的呢？" completes it; a message the parser is unsure
of gets a question back that names what it understood ("您是想查询郑州市的进度吗？", "您是想催办
开封市的《7月份工作月报》吗？"), never a guess, and 是 / 对 / 嗯 or "不是，是开封" answers that
question within ``[nlu] conversation_ttl_s`` — in a group also without @, from the person asked
(:func:`answers_question`, which the router asks). 是 to a request carries it out through its
handler, with that handler's role check (``HandlerSpec.allows``); 不是 drops it. A task fragment
that fits several tasks is asked about ("您说的是哪一项任务：…？"), and naming one answers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Final

from bot.core.context import Context
from bot.core.nlu import Form, Intent, Parse, Query
from bot.core.nlu.frame import from_json, to_json
from bot.core.router import UNKNOWN, HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.services import conversations
from bot.services import units as units_svc
from handlers import ask

router = Router("natural")

# Questions, and answers to the bot's questions. Anyone may ask: the answer says who may see it
# (a stranger is told how to bind, a liaison sees their unit: handlers/ask.py).
ASK = HandlerSpec("ask", (), "直接提问", "例如：郑州还有哪些没交？这周有什么要交的？我们单位几面红旗？"
                  "开封有逾期的吗？谁没确认通知？", intents=("query", "confirm", "deny"),
                  area="ask")

# A short answer to a question the bot asked; outside a conversation it is only talk.
_ANSWER_GATE: Final = re.compile(
    r"^\s*(是|是的|是啊|对|对的|对啊|嗯|嗯嗯|没错|不是|不对|不)([,，。.!！\s]|$).{0,12}$")
NOTHING_PENDING = "没有需要确认的问题。发送“帮助”查看可用的指令，或直接提问，例如：郑州还有哪些没交？"
TELL_ME = "好的，请告诉我您想查询什么，例如：郑州还有哪些没交？"
DROPPED = "好的，没有执行。请重新说明您的要求"


@router.handler(ASK)
def converse(ctx: Context) -> None:
    """A question ("郑州还有哪些没交？", "那开封呢？") or an answer to the bot's question."""
    parse = ctx.parse
    if parse is not None and parse.intent in (Intent.CONFIRM, Intent.DENY):
        _answer_to_question(ctx, parse)
        return
    if parse is None or parse.query is None:
        raise InvalidInput("没太明白您想查询什么，发送“帮助”查看用法", log="query without a frame")
    if _names_a_choice(ctx, parse):
        return
    if parse.follow_up:
        _follow_up(ctx, parse.query)
    else:
        _answer(ctx, parse.query, parse)


@router.fallback
def understand(ctx: Context) -> bool:
    """An addressed message that no command or recognised intent took: a question the parser
    was not sure enough of is still answered, an unsure reading is asked back. False leaves the
    "not understood" (with suggestions) to the router."""
    parse = ctx.parse if ctx.env.parser is not None and ctx.env.parser.language else None
    if parse is None:
        return False
    if parse.intent in (Intent.CONFIRM, Intent.DENY):
        _answer_to_question(ctx, parse)
        return True
    if _names_a_choice(ctx, parse):
        return True
    if parse.intent is Intent.QUERY and parse.query is not None and parse.clarify is None:
        if parse.follow_up:
            _follow_up(ctx, parse.query)
        else:
            _answer(ctx, parse.query, parse)
        return True
    if parse.clarify is not None:
        _ask_back(ctx, parse)
        return True
    return False


@router.expects_answer
def answers_question(ctx: Context) -> bool:
    """Whether a short 是 / 对 / 不是 not addressed to the bot answers the question the bot asked
    this person a moment ago. Only such short messages read the conversation, so ordinary
    chatter costs nothing."""
    if not _ANSWER_GATE.match(ctx.event.text) or ctx.person is None:
        return False
    parser = ctx.env.parser
    if parser is None or _load(ctx).pending is None:
        return False
    parse = ctx.parse
    return parse is not None and parse.intent in (Intent.CONFIRM, Intent.DENY)


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
    # the question just asked back is newer than the last one answered
    previous = (state.pending or {}).get("query") or state.last
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
    """The parser is unsure: ask, never guess. The question names what was understood, so 是
    can confirm it: a query is remembered as the pending question, a request as the message to
    carry out; a fragment that fits several tasks remembers them, so naming one answers."""
    if parse.unknown_name:  # "火星市交了没": no such unit; the closest names, if any
        ctx.reply(units_svc.unknown_unit(units_svc.list_units(ctx.conn), parse.unknown_name).message)
        return
    if parse.query is not None and (parse.confirm or parse.choices) and \
            parse.intent in (Intent.QUERY, Intent.UNKNOWN):
        _ask(ctx, parse.query, parse.clarify, parse.choices)
        return
    if parse.clarify is not None and (parse.confirm or parse.choices):
        ctx.reply(parse.clarify)
        pending: dict[str, Any] = {"action": ctx.event.text, "intent": parse.intent.value,
                                   "question": parse.clarify}
        if parse.choices:
            pending["choices"] = list(parse.choices)
        _remember(ctx, pending=pending)
        return
    ctx.reply(parse.clarify or UNKNOWN)


def _ask(ctx: Context, guess: Query, question: str | None = None,
         choices: tuple[int, ...] = ()) -> None:
    names = [units_svc.get(ctx.conn, u).name for u in guess.unit_ids]
    text = question or f"您是想查询{ask.describe(guess, names)}吗？"
    ctx.reply(text)
    pending: dict[str, Any] = {"query": to_json(guess), "question": text}
    if choices:
        pending["choices"] = list(choices)
    _remember(ctx, pending=pending)


def _names_a_choice(ctx: Context, parse: Parse) -> bool:
    """"半年工作总结" after "您说的是哪一项任务：《年度培训总结》、《半年工作总结》？": the
    pending question (or request), for the task named. Only a message that names tasks and
    says nothing else reads the conversation."""
    q = parse.query
    named = parse.task_ids or (q.task_ids if q is not None else ())
    only_names = q is None or not (q.said - {"task_ids", "subject", "form"})
    if not named or not only_names:
        return False
    pending = _load(ctx).pending or {}
    choices = pending.get("choices")
    if not choices or not set(named) <= set(choices):
        return False
    if pending.get("query") is not None:
        asked = from_json(pending["query"])
        _answer(ctx, replace(asked, task_ids=tuple(named), said=asked.said | {"task_ids"}))
        return True
    return _carry_out(ctx, pending, task_ids=tuple(named))


def _carry_out(ctx: Context, pending: dict[str, Any],
               task_ids: tuple[int, ...] | None = None) -> bool:
    """A request the bot asked about ("您是想催办…吗？"), confirmed: read again and handed to
    the handler of its intent as if it had been sure — if the person's role allows it
    (``HandlerSpec.allows``, the router's check), else the router's one-line refusal."""
    from handlers import all_routes  # the vocabulary is composed there; imported when used

    parser = ctx.env.parser
    text = str(pending.get("action", ""))
    if parser is None or not text:
        return False
    parse = parser.parse(text, now=ctx.now)
    if task_ids is not None:
        parse = replace(parse, task_ids=task_ids, choices=(), query=replace(
            parse.query, task_ids=task_ids) if parse.query is not None else None)
    parse = replace(parse, clarify=None, confirm=False, confidence=max(parse.confidence, 0.9))
    route = next((r for r in all_routes() if parse.intent.value in r.spec.intents), None)
    if route is None:
        return False
    _remember(ctx, clear_pending=True)
    if not route.spec.allows(ctx.person):
        ctx.reply(route.spec.refusal)
        return True
    ctx.parse = parse
    ctx.command, ctx.args = "", text
    route.fn(ctx)
    return True


def _answer_to_question(ctx: Context, parse: Parse) -> None:
    waiting = _load(ctx).pending or {}
    if waiting.get("action") and parse.intent is Intent.CONFIRM:
        if not _carry_out(ctx, waiting):
            ctx.reply(NOTHING_PENDING)
        return
    pending = waiting.get("query")
    if pending is None:
        if waiting.get("action"):  # 不是 to "您是想催办…吗？": nothing is done
            ctx.reply(DROPPED)
            _remember(ctx, clear_pending=True)
            return
        ctx.reply(NOTHING_PENDING)
        return
    asked = from_json(pending)
    if parse.intent is Intent.CONFIRM:
        said = parse.query
        if said is not None and said.said & {"unit_ids", "kinds", "mine", "task_ids"}:
            asked = _said_only(said).follow(asked)  # "对，开封"
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

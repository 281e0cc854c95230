"""The chat vocabulary of DESIGN §5: one Router per area, composed here in a fixed order."""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from bot.core.context import Context, Outgoing
from bot.core.env import ServiceEnv
from bot.core.event import ChatKind, NoticeEvent, SubscriptionEvent
from bot.core.router import Route, Router, RouteTable
from handlers import texts

log = logging.getLogger("dudao.handlers")


def build_router() -> Router:
    from handlers import (
        board_link,
        due_soon,
        dynamics,
        flags,
        notices,
        queries,
        records,
        review,
        submissions,
        tasks,
        units,
    )
    from handlers import help as help_mod

    root = Router("root")
    # Order matters only for command words that share a prefix; longer words win anyway.
    root.include(help_mod.router, units.router, submissions.router, queries.router,
                 due_soon.router, flags.router, dynamics.router, review.router, tasks.router,
                 notices.router, records.router, board_link.router)
    for extra in _optional_routers():
        root.include(extra)
    return root


def _optional_routers() -> list[Router]:
    out: list[Router] = []
    try:
        from handlers import bulletins
    except ImportError:  # pragma: no cover - area not built yet
        pass
    else:
        out.append(bulletins.router)
    return out


def handle_notice(ev: NoticeEvent, conn: Connection, env: ServiceEnv,
                  outgoing: list[Outgoing]) -> None:
    """Notices and subscription events that matter to the programme."""
    from handlers import notices, subscriptions

    if isinstance(ev, SubscriptionEvent):
        subscriptions.handle(ev, conn, env, outgoing)
    elif ev.kind == "reaction":
        notices.on_reaction(ev, conn, env, outgoing)


def all_routes() -> list[Route]:
    return build_router().all_routes()


def _allowed(route: Route, ctx: Context) -> bool:
    roles = route.spec.roles
    return not roles or (ctx.person is not None and ctx.person.role in roles)


def route_message(ctx: Context, table: RouteTable) -> bool:
    """Pick the handler for a message and run it. Returns whether anything handled it."""
    ev = ctx.event
    text = ev.text
    addressed = ev.to_me or ev.chat.kind is ChatKind.PRIVATE
    match = table.by_command(text)
    if match is not None:
        ctx.command, ctx.args = match.command, match.args
        explicit = addressed or text[:1] in "/#＃／"
        if not _allowed(match.route, ctx) and not explicit and ctx.person is not None:
            # A known person using a word reserved for another role without addressing the bot
            # ("通知大家…" from a liaison) is talking to people, not to us. An unknown person
            # is answered: they are told how to bind.
            return False
        match.route.fn(ctx)  # ctx.parse is made on first use, if the handler needs slots
        return True
    # A file sent as a reply to one of our reminders is a submission for that task.
    if ev.reply_to and (ev.files or ev.attachments):
        sub = table.by_intent("submit")
        if sub is not None and ctx.person is not None and ctx.person.role == "liaison":
            ctx.command, ctx.args = "提交", text
            sub.fn(ctx)
            return True
    if not addressed:
        return False
    parser = ctx.env.parser
    if parser is not None and text:
        parse = parser.parse(text, now=ctx.now)
        route = table.by_intent(parse.intent.value)
        if route is not None and parse.clarify is None and parse.confidence >= 0.5:
            ctx.parse = parse
            ctx.command, ctx.args = "", text
            route.fn(ctx)
            return True
        if parse.clarify:
            ctx.reply(parse.clarify)
            return True
    suggestions = table.suggest(text)
    hint = f"您是不是想用：{'、'.join(suggestions)}？" if suggestions else ""
    ctx.reply((hint + "\n" if hint else "") + texts.UNKNOWN)
    return True

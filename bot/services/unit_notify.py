"""Telling one unit something (a site's result, a rectification item): in the one group it is
reminded in (``reminders.choose_groups``, its liaisons @-mentioned), else privately to its
liaisons. Handlers queue the messages on their context; the CLI and the board write them to the
outbox directly (:func:`tell`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import outbox as outbox_svc
from bot.services.reminders import (
    LIAISON_PLATFORMS,
    choose_groups,
    identity_chat,
    liaison_mentions,
    load_people,
    pick_identity,
)


@dataclass(frozen=True, slots=True)
class Target:
    chat: ChatRef
    account: str | None
    mentions: tuple[str, ...] = ()


def targets(conn: Connection, unit_id: int) -> list[Target]:
    """Where a message for the unit goes: its group, else each liaison privately; [] if nowhere."""
    people = load_people(conn, [unit_id])
    group = choose_groups(conn, [unit_id], people).get(unit_id)
    if group is not None:
        return [Target(ChatRef.parse(group.chat), group.account,
                       liaison_mentions(people, [unit_id], group.platform))]
    out = []
    for p in people.get(unit_id, ()):
        ident = pick_identity(p.identities, LIAISON_PLATFORMS) if p.role == "liaison" else None
        if ident is not None:
            out.append(Target(identity_chat(ident), None))
    return out


def tell(conn: Connection, unit_id: int, text: str, *, cause: str, now: datetime,
         kind: str = "notify") -> int:
    """Queue ``text`` to the unit (see :func:`targets`); the number of messages queued."""
    rows = [(OutgoingMessage.text(t.chat, text, mentions=t.mentions), kind, cause, t.account)
            for t in targets(conn, unit_id)]
    if rows:
        outbox_svc.enqueue_many(conn, rows, now=now)
    return len(rows)

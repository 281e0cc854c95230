"""System alerts to the admin groups, written to the outbox like any other message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc

KIND = "alert"


def tell_admins(conn: Connection, text: str, *, now: datetime, cause: str = "",
                kind: str = KIND) -> int:
    """Queue ``text`` to every active admin group; returns how many groups it went to.

    With no admin group registered nobody can be told in chat; the caller's log line is then
    the only trace, so callers log what they alert about.
    """
    rows = [(OutgoingMessage.text(ChatRef.parse(chat), text), kind, cause, account)
            for chat, account in groups_svc.chats(conn, "admin")]
    outbox_svc.enqueue_many(conn, rows, now=now)
    return len(rows)

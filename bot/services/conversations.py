"""A person's conversation with the bot in one chat, kept in the database for a few minutes.

Two things are remembered per (chat, person): the last question answered, so that a follow-up
("那开封呢？", "退回的呢？") can complete it, and a clarifying question the bot asked ("您是想查询
郑州市的进度吗？"), so that 是 / 对 / 嗯 or a correction ("不是，是开封") answers it. Rows expire
after ``[nlu] conversation_ttl_s`` (one row per chat and person, overwritten, so the table stays
small); they are in the database so that the conversation survives a
restart and continues on whichever process receives the next message. Only the natural-language
path reads them (never a command, never a submission: the inbound hot path does not pay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select

from storage.models import Conversation
from storage.upsert import dialect_insert

_GET = select(Conversation.last_query, Conversation.last_at, Conversation.pending,
              Conversation.pending_at, Conversation.expires_at).where(
    Conversation.chat == bindparam("chat"), Conversation.person == bindparam("person"))


@dataclass(frozen=True)
class State:
    last: dict[str, Any] | None  # the last question answered (a query frame as JSON)
    pending: dict[str, Any] | None  # a clarifying question waiting for its answer


def load(conn: Connection, *, chat: str, person: str, now: datetime, ttl_s: float) -> State:
    """What is still fresh (asked within ``ttl_s``)."""
    r = conn.execute(_GET, {"chat": chat, "person": person}).first()
    if r is None:
        return State(None, None)
    fresh = now - timedelta(seconds=ttl_s)
    last = r.last_query if r.last_at is not None and r.last_at >= fresh else None
    pending = r.pending if r.pending_at is not None and r.pending_at >= fresh else None
    return State(last, pending)


def remember(conn: Connection, *, chat: str, person: str, now: datetime, ttl_s: float,
             last: dict[str, Any] | None = None, pending: dict[str, Any] | None = None,
             clear_pending: bool = False) -> None:
    """Store the last question and/or a pending clarification (one row per chat and person)."""
    values: dict[str, Any] = {"expires_at": now + timedelta(seconds=ttl_s)}
    if last is not None:
        values |= {"last_query": last, "last_at": now}
    if pending is not None:
        values |= {"pending": pending, "pending_at": now}
    elif clear_pending:
        values |= {"pending": None, "pending_at": None}
    stmt = dialect_insert(conn, Conversation).values(chat=chat, person=person, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["chat", "person"], set_=values))


"""Our own store of received messages; its unique key makes a re-delivered event a no-op."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from storage.models import InboundMessage
from storage.upsert import insert_ignoring_conflicts

TEXT_KEPT = 4000  # characters of a message kept in the store; the rest lives in the submission


@dataclass(frozen=True, slots=True)
class Received:
    dedupe_key: str
    chat: str
    sender: str
    message_id: str
    text: str


def store_many(conn: Connection, messages: list[Received], *, now: datetime) -> set[str]:
    """Store a batch of messages in one statement; returns the keys seen for the first time.

    The dispatcher stores a whole batch before handling it: one multi-row INSERT instead of one
    per message. A message stays stored even if its handler then fails, which is what a message
    store should do (a re-delivery of it is then a no-op, like any other).
    """
    if not messages:
        return set()
    stmt = insert_ignoring_conflicts(conn, InboundMessage, ("dedupe_key",), ("dedupe_key",))
    rows = conn.execute(stmt, [
        {"dedupe_key": m.dedupe_key, "chat": m.chat, "sender": m.sender,
         "message_id": m.message_id, "text": m.text[:TEXT_KEPT], "received_at": now}
        for m in messages])
    return {r.dedupe_key for r in rows}


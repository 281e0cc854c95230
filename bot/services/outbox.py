"""The outbox table: messages are written in the transaction that caused them.

Delivery (``bot/pipeline/delivery.py``) claims due rows, sends them through the adapter's rate-limited
queue and records the result here. On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so
several processes never take the same row; a claim is a lease (``not_before`` pushed into the
future), so a process that dies with claimed rows leaves them to be retried after the lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from bot.core.message import OutgoingMessage
from bot.core.serialize import dump
from storage.models import OutboxMessage

CLAIM_LEASE = timedelta(seconds=60)

# Prebuilt: every reply goes through these (building a statement costs about ten times as much
# as executing a prebuilt one, bench/README.md).
_INSERT = insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True)
_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("oid"))
    .values(state="sent", sent_at=bindparam("now"), platform_message_id=bindparam("pid"),
            delivered_as=bindparam("mode"), attempts=OutboxMessage.attempts + 1)
)
_BY_PLATFORM_ID = select(OutboxMessage.kind, OutboxMessage.cause).where(
    OutboxMessage.chat == bindparam("chat"),
    OutboxMessage.platform_message_id == bindparam("pid"))


@dataclass(frozen=True, slots=True)
class PendingMessage:
    id: int
    chat: str
    account: str | None
    content: list[dict[str, Any]]
    kind: str
    cause: str
    attempts: int


def enqueue(conn: Connection, msg: OutgoingMessage, *, now: datetime, kind: str = "reply",
            cause: str = "", account: str | None = None,
            not_before: datetime | None = None) -> int:
    return int(conn.execute(
        insert(OutboxMessage).returning(OutboxMessage.id),
        {"chat": msg.chat.key, "account": account, "content": dump(msg.segments), "kind": kind,
         "cause": cause, "state": "pending", "attempts": 0, "not_before": not_before or now,
         "created_at": now},
    ).scalar_one())


def enqueue_many(conn: Connection, rows: list[tuple[OutgoingMessage, str, str, str | None]], *,
                 now: datetime, not_before: datetime | None = None) -> list[int]:
    """(message, kind, cause, account) rows in one statement; ids in the given order."""
    if not rows:
        return []
    res = conn.execute(
        _INSERT,
        [{"chat": m.chat.key, "account": acc, "content": dump(m.segments), "kind": kind,
          "cause": cause, "state": "pending", "attempts": 0, "not_before": not_before or now,
          "created_at": now} for m, kind, cause, acc in rows],
    )
    return [int(i) for i in res.scalars()]


def last_id(conn: Connection) -> int:
    """The newest row's id (0 when empty): rows written after this moment have larger ids."""
    return int(conn.execute(select(func.max(OutboxMessage.id))).scalar_one() or 0)


def release_simulated(conn: Connection, *, after_id: int, due_by: datetime,
                      now: datetime) -> int:
    """Rows a simulated run (``dudao tick --at T``) wrote that are due at T: due now.

    The jobs write their messages as of T (``not_before = T``); a T in the future would keep
    them from a running service until T. What is due at T is meant to go out at once, so a
    schedule can be checked without waiting; what the jobs held beyond T (a bulletin kept for
    the next working morning) keeps its time.
    """
    res = conn.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > after_id, OutboxMessage.state == "pending",
               OutboxMessage.not_before <= due_by, OutboxMessage.not_before > now)
        .values(not_before=now))
    return int(res.rowcount)


def claim_for_accounts(conn: Connection, accounts: Mapping[str, list[str]], *, now: datetime,
                       exclude: set[int], limit: int = 200) -> list[PendingMessage]:
    """Claim (lease) due rows that one of ``accounts`` (platform -> account ids this process can
    send through; "" = the platform's account-less sender) may send, oldest first.

    A row with an account is taken only by the process holding that account; a row without
    one by any process with an account of its platform.
    """
    conds = []
    for platform, accs in accounts.items():
        if not accs:
            continue
        named = [a for a in accs if a]
        conds.append(and_(OutboxMessage.account.is_(None),
                          OutboxMessage.chat.like(f"{platform}:%")))
        if named:
            conds.append(and_(OutboxMessage.account.in_(named),
                              OutboxMessage.chat.like(f"{platform}:%")))
        if "" in accs:
            conds.append(OutboxMessage.chat.like(f"{platform}:%"))
    if not conds:
        return []
    q = (
        select(OutboxMessage.id, OutboxMessage.chat, OutboxMessage.account,
               OutboxMessage.content, OutboxMessage.kind, OutboxMessage.cause,
               OutboxMessage.attempts)
        .where(OutboxMessage.state == "pending", OutboxMessage.not_before <= now, or_(*conds))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if exclude:
        q = q.where(OutboxMessage.id.not_in(exclude))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = conn.execute(q).all()
    if rows:
        conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                     .values(not_before=now + CLAIM_LEASE))
    return [PendingMessage(r.id, r.chat, r.account, r.content, r.kind, r.cause, r.attempts)
            for r in rows]


def mark_sent(conn: Connection,
              results: Sequence[tuple[int, str] | tuple[int, str, str | None]], *,
              now: datetime) -> None:
    """(outbox id, platform message id[, how its file offers went: file / link / None])."""
    if results:
        # One executemany for the whole flush, not a statement per message.
        conn.execute(_MARK_SENT, [{"oid": r[0], "now": now, "pid": r[1] or None,
                                   "mode": r[2] if len(r) > 2 else None} for r in results])


def cancel_pending(conn: Connection, chat: str, *, reason: str) -> int:
    """Give up every message still waiting for ``chat`` (e.g. the person unsubscribed)."""
    res = conn.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat == chat, OutboxMessage.state == "pending")
        .values(state="failed", last_error=reason))
    return int(res.rowcount)


def mark_unconfirmed(conn: Connection, oid: int, *, error: str, now: datetime) -> None:
    """Handed to the platform, answer lost: counted as sent (never resent), with the reason."""
    conn.execute(update(OutboxMessage).where(OutboxMessage.id == oid).values(
        state="sent", sent_at=now, last_error=f"unconfirmed: {error}"[:500],
        attempts=OutboxMessage.attempts + 1))


def postpone(conn: Connection, oid: int, *, error: str, retry_at: datetime) -> None:
    """Try again at ``retry_at`` without counting an attempt (no account could send it)."""
    conn.execute(update(OutboxMessage).where(OutboxMessage.id == oid)
                 .values(not_before=retry_at, last_error=error[:500]))


def mark_retry(conn: Connection, oid: int, *, error: str, retry_at: datetime,
               max_attempts: int) -> bool:
    """Record a failed attempt. Returns False when the message is given up (state failed)."""
    attempts = conn.execute(
        select(OutboxMessage.attempts).where(OutboxMessage.id == oid)).scalar_one() + 1
    failed = attempts >= max_attempts
    conn.execute(
        update(OutboxMessage).where(OutboxMessage.id == oid).values(
            attempts=attempts, last_error=error[:500], not_before=retry_at,
            state="failed" if failed else "pending")
    )
    return not failed


def find_by_platform_id(conn: Connection, chat: str, platform_message_id: str) -> tuple[str, str] | None:
    """(kind, cause) of a message we sent, looked up by the id the platform gave it."""
    r = conn.execute(_BY_PLATFORM_ID, {"chat": chat, "pid": platform_message_id}).first()
    return (r.kind, r.cause) if r else None

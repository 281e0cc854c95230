"""From an adapter's event to committed replies.

Adapters call ``submit(event)`` (never blocking the socket reader). A single consumer takes the
queued events in batches and runs each batch as ONE database transaction on the DB thread:
every event gets its own SAVEPOINT, so one failing event rolls back alone, and the batch shares
one commit (group commit: at high rates the commit cost is paid once per batch, not per event).
Only after the commit succeeds are the replies handed to the outbox for delivery: the bot never
says "已收到" for something that is not stored. If the commit fails, every sender in the batch is
told "系统繁忙，请稍后再试" instead.

The queue is bounded. Above capacity, new events are answered "系统繁忙" at once rather than
piling up until every request times out (the failure mode of the NoneBot peer, bench README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Connection

from bot.core.adapter import Envelope
from bot.core.context import AuditNote, Context, NoticeContext, Outgoing, Quoted
from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.core.event import ChatKind, Event, MessageEvent
from bot.core.message import OutgoingMessage
from bot.core.router import RouteTable
from bot.domain.errors import DomainError
from bot.services import audit as audit_svc
from bot.services import inbound as inbound_svc
from bot.services import outbox as outbox_svc
from bot.services import people as people_svc
from bot.services import transactions

log = logging.getLogger("dudao.dispatch")

BUSY_TEXT = "系统繁忙，请稍后再试"
APOLOGY_TEXT = "抱歉，处理这条消息时出了问题，已记录并通知管理员，请稍后再试"
# How many times an event is tried again after a conflict with another process's transaction.
CONFLICT_RETRIES = 2


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        env: ServiceEnv,
        table: RouteTable,
        deliver: Callable[[list[Envelope]], None],
        send_direct: Callable[[OutgoingMessage, str | None], Awaitable[None]],
        batch_max: int = 64,
        queue_max: int = 5000,
    ) -> None:
        self.db = db
        self.env = env
        self.table = table
        self.deliver = deliver
        self.send_direct = send_direct
        self.batch_max = batch_max
        self._queue: asyncio.Queue[tuple[Event, asyncio.Future[list[Envelope]] | None]] = (
            asyncio.Queue(maxsize=queue_max))
        # Recent dedupe keys: a cheap first line before the database's unique key.
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_max = 20000
        self._task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.stats = {"events": 0, "batches": 0, "duplicates": 0, "errors": 0, "busy": 0}

    # ------------------------------------------------------------------ intake

    def submit(self, event: Event) -> None:
        """Queue an event (called by adapters from their reader; never blocks)."""
        key = event.dedupe_key
        if key in self._recent:
            self.stats["duplicates"] += 1
            return
        self._remember(key)
        try:
            self._queue.put_nowait((event, None))
        except asyncio.QueueFull:
            self.stats["busy"] += 1
            self._forget(key)  # let a re-delivery through later
            if isinstance(event, MessageEvent) and self._should_answer(event):
                self._spawn(self._answer_busy(event))

    async def feed(self, event: Event) -> list[Envelope]:
        """Queue an event and wait until it is committed; returns what it produced.

        Used where the platform wants the answer in the response (WeChat passive replies).
        """
        fut: asyncio.Future[list[Envelope]] = asyncio.get_running_loop().create_future()
        key = event.dedupe_key
        if key in self._recent:
            self.stats["duplicates"] += 1
            return []
        self._remember(key)
        await self._queue.put((event, fut))
        return await fut

    def _remember(self, key: str) -> None:
        self._recent[key] = None
        if len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def _forget(self, key: str) -> None:
        self._recent.pop(key, None)

    def _should_answer(self, event: MessageEvent) -> bool:
        return event.to_me or self.table.by_command(event.text) is not None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dispatcher")

    async def stop(self) -> None:
        """Finish what is queued (so nothing received is dropped), then stop."""
        if self._task is None:
            return
        await self._queue.put((_STOP, None))
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._side_tasks:
            await asyncio.gather(*self._side_tasks, return_exceptions=True)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stop = any(ev is _STOP for ev, _ in batch)
            batch = [(ev, f) for ev, f in batch if ev is not _STOP]
            if batch:
                await self._process(batch)
            if stop:
                return

    # ------------------------------------------------------------------ processing

    async def _process(self, batch: list[tuple[Event, asyncio.Future[list[Envelope]] | None]]
                       ) -> None:
        events = [ev for ev, _ in batch]
        started = time.perf_counter()
        now = self.env.clock.now()
        try:
            results = await self.db.run(lambda conn: self._handle_batch(conn, events, now))
        except Exception as exc:
            self.stats["errors"] += len(events)
            kind = ("database unavailable" if isinstance(exc, transactions.DatabaseUnavailable)
                    else "error")
            log.error("batch of %d events not committed (%s): %s", len(events), kind, exc)
            for ev, fut in batch:
                self._forget(ev.dedupe_key)  # a re-delivery may be processed later
                if isinstance(ev, MessageEvent) and self._should_answer(ev):
                    self._spawn(self._answer_busy(ev))
                if fut is not None and not fut.done():
                    fut.set_result([])
            return
        delivered: list[Envelope] = []
        for (_, fut), produced in zip(batch, results, strict=True):
            delivered.extend(produced)
            if fut is not None and not fut.done():
                fut.set_result(produced)
        self.stats["events"] += len(events)
        self.stats["batches"] += 1
        if delivered:
            self.deliver(delivered)
        elapsed = (time.perf_counter() - started) * 1000
        if log.isEnabledFor(logging.DEBUG):
            log.debug("batch of %d events committed in %.1f ms", len(events), elapsed)

    def _handle_batch(self, conn: Connection, events: list[Event], now: datetime
                      ) -> list[list[Envelope]]:
        """The batch's unit of work: the middleware before, each event, the middleware after."""
        batch = Batch(events, now)
        for stage in BEFORE:
            stage(conn, batch)
        for i in batch.lock_order():
            ev = events[i]
            key = ev.dedupe_key
            if isinstance(ev, MessageEvent):
                if key not in batch.fresh:
                    self.stats["duplicates"] += 1  # stored before: a re-delivery
                    continue
                batch.fresh.discard(key)  # the same event twice in one batch: once
            self._handle_one(conn, batch, i, key)
        for stage in AFTER:
            stage(conn, batch)
        return batch.envelopes

    def _handle_one(self, conn: Connection, batch: Batch, i: int, key: str) -> None:
        """One event in its own savepoint; what it produced is kept only if it did not fail."""
        ev, outgoing = batch.events[i], batch.outgoing[i]
        audits: list[AuditNote] = []

        def start_over() -> None:
            outgoing.clear()
            audits.clear()

        try:
            transactions.isolated(
                conn, lambda: self._route(conn, batch, i, outgoing, audits),
                retries=CONFLICT_RETRIES, what=key, before_retry=start_over)
            batch.audits.extend(audits)  # only for work that was not rolled back
        except DomainError as exc:
            # Expected refusal: the savepoint rolled back the event's writes; explain.
            log.info("refused %s: %s", key, exc.log)
            outgoing.clear()
            if isinstance(ev, MessageEvent):
                outgoing.append(_reply(ev, exc.message))
        except Exception as exc:
            if transactions.connection_lost(exc, conn):
                raise  # the database went away mid-handler: the whole batch is "busy"
            self.stats["errors"] += 1
            log.exception("handler failed for event %s", key)
            outgoing.clear()
            if isinstance(ev, MessageEvent) and self._should_answer(ev):
                outgoing.append(_reply(ev, APOLOGY_TEXT))

    def _route(self, conn: Connection, batch: Batch, i: int, outgoing: list[Outgoing],
               audits: list[AuditNote]) -> None:
        ev = batch.events[i]
        if isinstance(ev, MessageEvent):
            self.table.route(Context(
                event=ev, conn=conn, env=self.env, now=batch.now, outgoing=outgoing,
                audits=audits, person=batch.person_of(conn, ev.sender.key),
                quoted=batch.quoted.get(i)))
        else:
            self.table.observe(NoticeContext(
                event=ev, conn=conn, env=self.env, now=batch.now, outgoing=outgoing,
                audits=audits, person=batch.person_of(conn, ev.user.key) if ev.user else None))

    async def _answer_busy(self, ev: MessageEvent) -> None:
        try:
            await self.send_direct(_reply(ev, BUSY_TEXT).message, ev.self_id)
        except Exception as exc:
            log.warning("could not tell %s that the system is busy: %s", ev.sender.key, exc)


def _reply(ev: MessageEvent, text: str) -> Outgoing:
    in_group = ev.chat.kind is ChatKind.GROUP
    msg = OutgoingMessage.text(ev.chat, text, reply_to=ev.message_id if in_group else None)
    return Outgoing(msg, "reply", "", ev.self_id)


# ------------------------------------------------------------------------------ the middleware


class Batch:
    """One transaction's events, and what the middleware learns and collects about them."""

    __slots__ = ("audits", "envelopes", "events", "fresh", "now", "outgoing", "quoted",
                 "senders")

    def __init__(self, events: list[Event], now: datetime) -> None:
        self.events = events
        self.now = now
        self.fresh: set[str] = set()  # dedupe keys of the messages seen for the first time
        self.senders: dict[str, people_svc.PersonInfo] = {}
        self.quoted: dict[int, Quoted] = {}  # event index -> the bot's message it replies to
        self.outgoing: list[list[Outgoing]] = [[] for _ in events]
        self.audits: list[AuditNote] = []
        self.envelopes: list[list[Envelope]] = [[] for _ in events]

    def person_of(self, conn: Connection, identity: str) -> people_svc.PersonInfo | None:
        if people_svc.changed_since_marked(conn):
            # An earlier event of this batch bound or unbound someone: ask again.
            return people_svc.by_identity(conn, identity)
        return self.senders.get(identity)

    def lock_order(self) -> list[int]:
        """Indexes of the events in the order to handle them: by the sender's unit.

        A submission locks its unit's assignment rows (PostgreSQL). Two processes handling
        batches in arrival order could lock units 3 then 7 and 7 then 3 and deadlock; in unit
        order they only ever wait for each other. A unit's own messages keep their order
        (stable sort), and strangers (binding) come first, in order.
        """
        events, senders = self.events, self.senders

        def unit_of(i: int) -> int:
            ev = events[i]
            person = senders.get(ev.sender.key) if isinstance(ev, MessageEvent) else None
            return person.unit_id if person is not None and person.unit_id is not None else -1

        return sorted(range(len(events)), key=unit_of)


def dedupe(conn: Connection, batch: Batch) -> None:
    """Our own message store, whose unique key also rejects re-deliveries (even by another
    process): remembers the dedupe keys of the messages seen for the first time."""
    batch.fresh = inbound_svc.store_many(conn, [
        inbound_svc.Received(ev.dedupe_key, ev.chat.key, ev.sender.key, ev.message_id, ev.text)
        for ev in batch.events if isinstance(ev, MessageEvent)], now=batch.now)


def identify(conn: Connection, batch: Batch) -> None:
    """Everyone who wrote (or reacted, or followed) in this batch, in one query."""
    who: set[str] = set()
    for ev in batch.events:
        if isinstance(ev, MessageEvent):
            who.add(ev.sender.key)
        elif ev.user is not None:
            who.add(ev.user.key)
    batch.senders = people_svc.by_identities(conn, who)
    people_svc.mark_unchanged(conn)


def find_quoted(conn: Connection, batch: Batch) -> None:
    """Which replies quote a message the bot sent (the outbox kept its platform id): a reply
    to the bot addresses it, and a reply to a reminder or notice names its task or notice."""
    for i, ev in enumerate(batch.events):
        if isinstance(ev, MessageEvent) and ev.reply_to:
            found = outbox_svc.find_by_platform_id(conn, ev.chat.key, ev.reply_to)
            if found is not None:
                batch.quoted[i] = Quoted(*found)


def write_audit(conn: Connection, batch: Batch) -> None:
    """The audit rows of every event whose work stayed, in one statement."""
    audit_svc.record_many(conn, [
        audit_svc.entry(at=a.at, actor=a.actor, channel=a.channel, action=a.action,
                        target=a.target, detail=a.detail) for a in batch.audits])


def write_outbox(conn: Connection, batch: Batch) -> None:
    """The whole batch's messages in one statement; kept per event, in order."""
    flat = [o for outgoing in batch.outgoing for o in outgoing]
    if not flat:
        return
    # Written as already claimed (lease) by this process, which delivers them right after the
    # commit; the poller of any process takes them only if we die before sending.
    lease_until = batch.now + outbox_svc.CLAIM_LEASE
    ids = iter(outbox_svc.enqueue_many(
        conn, [(o.message, o.kind, o.cause, o.account) for o in flat], now=batch.now,
        not_before=lease_until))
    batch.envelopes = [[Envelope(next(ids), o.message, o.account, o.kind, o.cause)
                        for o in outgoing] for outgoing in batch.outgoing]


Stage = Callable[[Connection, Batch], None]
# The middleware chain around the handlers, in order.
BEFORE: tuple[Stage, ...] = (dedupe, identify, find_quoted)
AFTER: tuple[Stage, ...] = (write_audit, write_outbox)


class _Stop:
    dedupe_key = "__stop__"


_STOP: Event = _Stop()  # type: ignore[assignment]

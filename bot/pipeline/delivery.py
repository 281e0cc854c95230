"""Delivering the outbox: one rate-limited lane per sending account.

QQ accounts behind OneBot are risk-controlled when they send in bursts, WeCom robots allow 20
messages a minute, and official-account pushes have quotas. So every send goes
through the lane of its account: at least ``account_interval_ms`` between messages of the
account, ``group_interval_ms`` (+ jitter) between messages to the same chat, at most
``broadcast_per_minute`` non-reply messages a minute. Replies to a person who just asked are not
held behind a broadcast: they jump the lane's queue.

Acknowledgements waiting for one group are sent as one message when their turn comes
(``coalesce_acks``, ``bot/pipeline/coalesce.py``); reactions go to adapters that can show them,
outside the spacing (``Reactor``); a message offering a file (an issued document) is posted as a
file where the adapter can (``FileSender``), else as its download link, and every row's result
records which (``outbox.delivered_as``). Results are written back in small batches. A failed
send is retried with back-off; a risk-control failure pauses the whole account for
``risk_backoff_s`` and alerts the admins once; after ``max_attempts`` the message is marked
failed and the admins are told.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from bot.core.adapter import Envelope, FileSender, Reactor, Sender, SendError
from bot.core.database import Database
from bot.core.event import ChatRef, FileOffer, Text
from bot.core.message import REACTION, OutgoingMessage
from bot.core.serialize import load
from bot.domain.clock import Clock
from bot.pipeline import coalesce
from bot.services import outbox as outbox_svc
from config.settings import OutboxSettings

log = logging.getLogger("dudao.outbox")


def _row(d: Envelope) -> int:
    """The outbox row of an envelope: everything delivered here comes from the outbox."""
    if d.outbox_id is None:
        raise ValueError("an envelope without an outbox row cannot be delivered by the outbox")
    return d.outbox_id


def split_text(text: str, limit: int) -> list[str]:
    """Split near ``limit`` characters, preferring paragraph, then line, then sentence ends."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", "。", "；", "，", " "):
            idx = window.rfind(sep)
            if idx >= limit // 2:
                cut = idx + len(sep)
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest:
        parts.append(rest)
    return parts


def split_message(msg: OutgoingMessage, limit: int) -> list[OutgoingMessage]:
    text_len = sum(len(s.text) for s in msg.segments if isinstance(s, Text))
    if text_len <= limit:
        return [msg]
    head = tuple(s for s in msg.segments if not isinstance(s, Text))
    chunks = split_text(msg.plain, limit)
    out = [OutgoingMessage(msg.chat, (*head, Text(chunks[0])))]
    out += [OutgoingMessage(msg.chat, (Text(c),)) for c in chunks[1:]]
    return out


# Kinds that answer someone who just wrote: they jump the lane's queue and are no broadcast.
_ANSWERS = ("reply", REACTION)


async def offer_files(sender: Sender, d: Envelope) -> tuple[Envelope, str | None]:
    """The envelope as it will be sent, and how its file offers go: ``"file"`` when the
    adapter can post them into the chat (the ``FileSender`` capability), else ``"link"``, the
    offers replaced by their fallback text with the download link; None without offers."""
    if not any(isinstance(s, FileOffer) for s in d.message.segments):
        return d, None
    if isinstance(sender, FileSender):
        try:
            if await sender.can_send_file(d.message.chat, d.account):
                return d, "file"
        except Exception as exc:  # a capability probe that fails means "no": the link still works
            log.warning("file capability of %s unknown (%s); sending a link", d.message.chat.key,
                        exc)
    return as_link(d), "link"


def as_link(d: Envelope) -> Envelope:
    """``d`` with its file offers said as their fallback text (the download link)."""
    said = tuple(Text(s.fallback) if isinstance(s, FileOffer) else s for s in d.message.segments)
    return replace(d, message=OutgoingMessage(d.message.chat, said))


@dataclass
class _Lane:
    key: tuple[str, str]
    urgent: deque[Envelope] = field(default_factory=deque)
    normal: deque[Envelope] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_send: float = 0.0
    last_by_chat: dict[str, float] = field(default_factory=dict)
    recent_broadcasts: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0
    task: asyncio.Task[None] | None = None
    # Sends whose platform answer is still awaited. Spacing decides when a send may START; the
    # answer (an echo round trip) need not hold up the next send when no spacing is required.
    sending: set[asyncio.Task[None]] = field(default_factory=set)
    window: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(64))

    def finished(self, task: asyncio.Task[None]) -> None:
        self.sending.discard(task)
        self.window.release()


class OutboxDelivery:
    def __init__(self, *, db: Database, clock: Clock, settings: OutboxSettings,
                 senders: Mapping[str, Sender],
                 alert: Callable[[str], None] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.senders = senders
        self.alert = alert
        self.monotonic = monotonic
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._in_flight: set[int] = set()
        # (outbox id, platform message id, how a file offer went: "file", "link" or None)
        self._results: list[tuple[int, str, str | None]] = []
        self._results_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.sent = 0
        self.failed = 0

    # ------------------------------------------------------------------ intake

    def push(self, items: list[Envelope]) -> None:
        for d in items:
            oid = _row(d)
            if oid in self._in_flight:
                continue
            self._in_flight.add(oid)
            platform = d.message.chat.platform
            lane = self._lane((platform, d.account or ""))
            (lane.urgent if d.kind in _ANSWERS else lane.normal).append(d)
            lane.wake.set()

    def _lane(self, key: tuple[str, str]) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            lane = _Lane(key)
            self._lanes[key] = lane
            if not self._stopping:
                lane.task = asyncio.create_task(self._lane_worker(lane), name=f"lane-{key}")
        return lane

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._poller(), name="outbox-poller"))
        self._tasks.append(asyncio.create_task(self._flusher(), name="outbox-flusher"))

    async def stop(self, *, drain_s: float = 5.0) -> None:
        """Give queued replies a moment to go out, then stop; the rest stays in the table."""
        deadline = self.monotonic() + drain_s
        while self.monotonic() < deadline and any(  # noqa: ASYNC110 - several lanes, bounded
                lane.urgent or lane.sending for lane in self._lanes.values()):
            await asyncio.sleep(0.05)
        self._stopping = True
        for lane in self._lanes.values():
            if lane.task:
                lane.task.cancel()
            for t in lane.sending:
                t.cancel()
        for t in self._tasks:
            t.cancel()
        tasks = [t for t in (*self._tasks, *(lane.task for lane in self._lanes.values())) if t]
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._flush_results()

    async def poll_once(self) -> int:
        """Claim due rows this process can send and queue them. Returns how many."""
        accounts = {p: s.available_accounts(p) for p, s in self.senders.items()}
        if not any(accounts.values()):
            return 0
        now = self.clock.now()
        exclude = set(self._in_flight)

        def claim(conn: Connection) -> list[outbox_svc.PendingMessage]:
            return outbox_svc.claim_for_accounts(conn, accounts, now=now, exclude=exclude)

        rows = await self.db.run(claim)
        self.push([Envelope(r.id, OutgoingMessage(ChatRef.parse(r.chat), load(r.content)),
                             r.account, r.kind, r.cause) for r in rows])
        return len(rows)

    async def _poller(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox poll failed: %s", exc)
            await asyncio.sleep(self.settings.poll_interval_s)

    # ------------------------------------------------------------------ sending

    async def _lane_worker(self, lane: _Lane) -> None:
        platform, account = lane.key
        while True:
            if not lane.urgent and not lane.normal:
                lane.wake.clear()
                await lane.wake.wait()
                continue
            now = self.monotonic()
            if lane.paused_until > now:
                await asyncio.sleep(min(lane.paused_until - now, 5.0))
                continue
            d = lane.urgent.popleft() if lane.urgent else lane.normal.popleft()
            if d.kind == REACTION:
                # Not a message in the group: no spacing to keep, none used up.
                await self._start(lane, self._react(d, platform))
                continue
            await self._wait_turn(lane, d)
            # Taken after the wait: what arrived for the group meanwhile rides along.
            group = ([d] if not self.settings.coalesce_acks else
                     coalesce.take(d, lane.urgent, limit_chars=self.settings.split_chars))
            # Mark the start now so the next message's spacing counts from it.
            lane.last_send = self.monotonic()
            lane.last_by_chat[d.message.chat.key] = lane.last_send
            await self._start(lane, self._send_one(lane, group, platform, account or None))

    async def _start(self, lane: _Lane, send: Coroutine[Any, Any, None]) -> None:
        await lane.window.acquire()
        task = asyncio.create_task(send)
        lane.sending.add(task)
        task.add_done_callback(lane.finished)

    async def _react(self, d: Envelope, platform: str) -> None:
        """A reaction where the platform's adapter can (``Reactor``); elsewhere nothing is sent
        and the row is done all the same."""
        sender = self.senders.get(platform)
        try:
            if isinstance(sender, Reactor):
                await sender.react(d)
        except SendError as exc:
            # A lost reaction is not worth a retry storm or an alert: try again only when the
            # account was away.
            if exc.unavailable:
                await self._retry(d, str(exc), count=False)
                return
            log.info("reaction %s in %s not sent: %s", d.outbox_id, d.chat.key, exc)
        except Exception:
            log.exception("reaction %s failed unexpectedly", d.outbox_id)
        self._results.append((_row(d), "", None))
        self._results_event.set()

    async def _wait_turn(self, lane: _Lane, d: Envelope) -> None:
        s = self.settings
        gap = s.account_interval_ms / 1000
        chat_gap = s.group_interval_ms / 1000
        if s.jitter_ms:
            chat_gap += random.uniform(0, s.jitter_ms / 1000)
        now = self.monotonic()
        wait = max(0.0, lane.last_send + gap - now)
        last_chat = lane.last_by_chat.get(d.message.chat.key)
        if last_chat is not None:
            wait = max(wait, last_chat + chat_gap - now)
        if d.kind not in _ANSWERS and s.broadcast_per_minute > 0:
            window = lane.recent_broadcasts
            while window and window[0] < now - 60:
                window.popleft()
            if len(window) >= s.broadcast_per_minute:
                wait = max(wait, window[0] + 60 - now)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _send_one(self, lane: _Lane, group: list[Envelope], platform: str,
                        account: str | None) -> None:
        """Send one message for ``group`` (one row, or acknowledgements merged into one) and
        record the outcome on every row of it, as each row would have had it alone."""
        d = coalesce.merge(group)
        sender = self.senders.get(platform)
        if sender is None:
            for g in group:
                await self._retry(g, f"no sender for platform {platform}", count=False)
            return
        try:
            d, mode = await offer_files(sender, d)
            try:
                first_id = await self._send_parts(sender, d)
            except SendError as exc:
                if mode != "file" or exc.unavailable or exc.unconfirmed:
                    raise
                # The upload failed (the implementation could not fetch the link, a file
                # too large…): NapCat reports that as the 1200 risk control also uses, and a
                # file that did not arrive is no reason to pause the account. Say the link;
                # under real risk control that send fails too and takes the path below.
                log.warning("outbox %s: file upload to %s failed (%s); sending the link",
                            d.outbox_id, d.message.chat.key, exc)
                d, mode = as_link(d), "link"
                first_id = await self._send_parts(sender, d)
        except SendError as exc:
            if exc.risk_control and not exc.unconfirmed:
                lane.paused_until = self.monotonic() + self.settings.risk_backoff_s
                log.error("account %s:%s is risk-controlled; pausing %ss: %s", platform,
                          account, self.settings.risk_backoff_s, exc)
                if self.alert:
                    self.alert(f"发送账号 {platform}:{account} 被平台限制（风控），已暂停发送 "
                               f"{int(self.settings.risk_backoff_s // 60)} 分钟，请检查账号状态")
            for g in group:
                if exc.unconfirmed:
                    await self._unconfirmed(g, str(exc))
                elif exc.risk_control:
                    await self._retry(g, str(exc), count=True,
                                      delay=self.settings.risk_backoff_s)
                elif exc.unavailable:
                    await self._retry(g, str(exc), count=False)
                else:
                    await self._retry(g, str(exc), count=True, permanent=exc.permanent)
            return
        except Exception as exc:
            log.exception("send of outbox %s failed unexpectedly", d.outbox_id)
            for g in group:
                await self._retry(g, repr(exc), count=True)
            return
        now = self.monotonic()
        lane.last_send = now
        lane.last_by_chat[d.message.chat.key] = now
        if d.kind not in _ANSWERS:
            lane.recent_broadcasts.append(now)
        self.sent += 1
        # Every row of a merged message points at it (a reply to it quotes any of them) and
        # carries how its file offers went (merged acknowledgements hold none: None).
        self._results.extend((_row(g), first_id, mode) for g in group)
        self._results_event.set()

    async def _send_parts(self, sender: Sender, d: Envelope) -> str:
        """Send ``d`` (split when long); the platform id of its first part."""
        first_id = ""
        for i, part in enumerate(split_message(d.message, self.settings.split_chars)):
            mid = await sender.send(d if part is d.message else replace(d, message=part))
            if i == 0:
                first_id = mid
        return first_id

    async def _unconfirmed(self, d: Envelope, error: str) -> None:
        # Resending could post it twice (https://github.com/Mrs4s/go-cqhttp/issues/382); record
        # it as sent and say so.
        log.warning("outbox %s to %s: connection lost before the platform answered; "
                    "not resending: %s", d.outbox_id, d.message.chat.key, error)
        now = self.clock.now()
        try:
            await self.db.run(lambda conn: outbox_svc.mark_unconfirmed(
                conn, _row(d), error=error, now=now))
        except Exception as exc:
            log.warning("could not record outbox %s as unconfirmed: %s", d.outbox_id, exc)
            return  # still leased: retried after the lease, as if never sent
        self._in_flight.discard(d.outbox_id)
        if self.alert and d.kind != "alert":
            self.alert(f"消息 #{d.outbox_id} 发往 {d.message.chat.key} 时连接中断，"
                       "无法确认是否送达，为免重复未自动重发，请在群内核实")

    async def _retry(self, d: Envelope, error: str, *, count: bool, delay: float | None = None,
                     permanent: bool = False) -> None:
        self._in_flight.discard(d.outbox_id)
        retry_at = self.clock.now() + timedelta(seconds=delay or self.settings.retry_backoff_s)
        max_attempts = 1 if permanent else self.settings.max_attempts

        def record(conn: Connection) -> bool:
            if not count:
                outbox_svc.postpone(conn, _row(d), error=error, retry_at=retry_at)
                return True
            return outbox_svc.mark_retry(conn, _row(d), error=error, retry_at=retry_at,
                                         max_attempts=max_attempts)

        try:
            alive = await self.db.run(record)
        except Exception as exc:
            log.warning("could not record failure of outbox %s: %s", d.outbox_id, exc)
            return
        if not alive:
            self.failed += 1
            log.error("outbox %s to %s given up: %s", d.outbox_id, d.message.chat.key, error)
            if self.alert and d.kind != "alert":
                self.alert(f"消息 #{d.outbox_id} 发往 {d.message.chat.key} 多次失败，已放弃：{error[:100]}")

    # ------------------------------------------------------------------ results

    async def _flusher(self) -> None:
        while True:
            await self._results_event.wait()
            await asyncio.sleep(0.05)  # gather a few results per transaction
            await self._flush_results()

    async def _flush_results(self) -> None:
        self._results_event.clear()
        if not self._results:
            return
        batch, self._results = self._results, []
        now = self.clock.now()
        try:
            await self.db.run(lambda conn: outbox_svc.mark_sent(conn, batch, now=now))
        except Exception as exc:
            # The messages went out; if we cannot record it they stay leased and would be sent
            # again after the lease. Keep them and try again shortly.
            log.warning("could not record %d sent messages (will retry): %s", len(batch), exc)
            self._results[:0] = batch
            await asyncio.sleep(1.0)
            self._results_event.set()
            return
        for oid, _, _ in batch:
            self._in_flight.discard(oid)

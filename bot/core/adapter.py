"""The platform contract: what an adapter is, what it is given, and how a message leaves it.

Every platform is one package under ``bot/adapters/`` with a ``create(settings, host)``
function returning an :class:`Adapter` (or None when it is not configured). The adapter turns
the platform's payloads into core events and hands them to the :class:`Host` (``submit``, or
``feed`` to wait for the committed answer); the host asks it to resolve attachments before the
dispatcher sees the event; the outbox hands it :class:`Envelope` objects to send. Nothing
outside ``bot/adapters/`` knows a payload, and nothing in an adapter knows a table: what it
needs from the database comes through ``host.store`` (``bot/core/ports.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aiohttp import web

from bot.core.blobs import BlobStore
from bot.core.event import ChatRef, Event, MessageEvent
from bot.core.message import OutgoingMessage
from bot.core.ports import AdapterStore
from bot.domain.clock import Clock

if TYPE_CHECKING:
    from config.settings import Settings


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message on its way out, with what the outbox knows about it.

    ``outbox_id`` names the row (None for the few answers sent outside the outbox, such as
    "系统繁忙" while the database is down); ``kind`` is the row's kind (``reply``, ``reminder``,
    ``notice``…), so a platform can choose the channel (a WeChat template for reminders) without
    looking the row up again; ``cause`` is the record that caused it (``submission:12``);
    ``account`` the sending account, None for "any account of the platform". A long message
    split by the outbox arrives as several envelopes with the same ``outbox_id``.
    """

    outbox_id: int | None
    message: OutgoingMessage
    account: str | None
    kind: str
    cause: str

    @property
    def chat(self) -> ChatRef:
        return self.message.chat


class SendError(Exception):
    """A send that did not go out.

    ``risk_control``: the platform is throttling this account (NapCat 1200, go-cqhttp 100); the
    message may even have gone out, so it is never retried blindly: the account backs off and an
    admin is told. ``unavailable``: no connection for the account right now; retry after it
    reconnects without counting an attempt. ``unconfirmed``: the connection died after the message
    was handed to the platform and before it answered; it may have been posted, so it is not sent
    again (https://github.com/botuniverse/onebot-11: a send has no idempotency key). Otherwise: a
    failure that counts as an attempt; ``permanent``: one that no retry can mend.
    """

    def __init__(self, message: str, *, risk_control: bool = False,
                 unavailable: bool = False, permanent: bool = False,
                 unconfirmed: bool = False) -> None:
        super().__init__(message)
        self.risk_control = risk_control
        self.unavailable = unavailable
        self.permanent = permanent
        self.unconfirmed = unconfirmed


class Sender(Protocol):
    """What the outbox needs from an adapter: who can send now, and sending one envelope."""

    def available_accounts(self, platform: str) -> list[str]:
        """Accounts of ``platform`` this process can send through now ("" for account-less
        platforms such as an official account or a WeCom robot)."""
        ...

    async def send(self, envelope: Envelope) -> str:
        """Send; return the platform's message id ("" if it gives none). Raise SendError."""
        ...


@runtime_checkable
class Reactor(Protocol):
    """A sender that can react to a message with an emoji (QQ through NapCat or LLOneBot).

    The outbox hands it the envelopes of kind ``reaction`` (``bot.core.message.REACTION``: a
    ``Reply`` naming the message, a ``Face`` naming the emoji); senders without this capability
    never see them (nothing is sent). Whether an account can react depends on the
    implementation behind it, so the adapter decides per envelope.
    """

    async def react(self, envelope: Envelope) -> bool:
        """React; False when this account cannot (nothing sent). Raise SendError."""
        ...


@runtime_checkable
class FileSender(Protocol):
    """A capability an adapter may have: posting a file into a chat, fetched from a URL.

    The outbox asks before it sends a message holding a :class:`~bot.core.event.FileOffer`;
    where the answer is no (or the adapter lacks the capability), the offer's fallback text,
    which carries a download link, is said instead. Which implementations can (OneBot
    ``upload_group_file`` from an http(s) URL: NapCat and LLOneBot, not Lagrange or go-cqhttp)
    is the adapter's knowledge; services never check a platform.
    """

    async def can_send_file(self, chat: ChatRef, account: str | None) -> bool:
        """Whether a file offer to ``chat`` sent through ``account`` (None: any) would be
        posted as a file."""
        ...


class Adapter(Sender, Protocol):
    """One platform's way in and out (see the module docstring).

    Lifecycle: ``routes()`` are added to the web application before it starts; ``start()``
    when the service starts (connect out, open HTTP sessions); ``stop()`` when it stops taking
    events (sockets closed, callbacks in flight answered), before the dispatcher finishes its
    queue; ``close()`` last, after the outbox has drained, to release what sending needed.
    """

    @property
    def name(self) -> str: ...

    @property
    def platforms(self) -> tuple[str, ...]:
        """The chat platforms it receives from and sends for (``qq``, ``wx``; ``mp``…)."""
        ...

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def close(self) -> None: ...

    def health(self) -> Any:
        """This adapter's state for ``/healthz`` (plain JSON values)."""
        ...

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        """``event`` with its attachments downloaded into the host's file store (see
        ``bot.core.blobs.keep_attachments``). Called once, before the dispatcher sees it."""
        ...


class Host(Protocol):
    """What the service gives an adapter."""

    @property
    def clock(self) -> Clock: ...

    @property
    def files(self) -> BlobStore: ...

    @property
    def board_url(self) -> str: ...

    @property
    def store(self) -> AdapterStore: ...

    def submit(self, event: Event) -> None:
        """Queue an event for the dispatcher; never blocks (called from socket readers)."""
        ...

    async def feed(self, event: Event) -> list[Envelope]:
        """Queue an event and wait for its commit: the messages it produced, already in the
        outbox (platforms that answer in the HTTP response, such as WeChat's passive reply)."""
        ...

    def alert(self, text: str) -> None:
        """Tell the admin groups (coalesced: at most one message a minute)."""
        ...

    async def until_handling(self) -> None:
        """Return once the service handles messages. Events submitted before wait in its queue;
        this is for an adapter that should not invite input before (the console's prompt): at
        start the service may wait a few seconds for the language model."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, cancelled when the service stops."""
        ...


AdapterFactory = Callable[["Settings", Host], Adapter | None]
"""``create(settings, host)`` of an adapter package: the adapter, or None when not configured."""

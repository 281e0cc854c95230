"""The one way out: what the outbox hands an adapter (an Envelope), and the errors it understands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage


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

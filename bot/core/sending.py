"""What the outbox needs from an adapter that can send, and the errors it understands."""

from __future__ import annotations

from typing import Protocol

from bot.core.message import OutgoingMessage


class SendError(Exception):
    """A send that did not go out.

    ``risk_control``: the platform is throttling this account (NapCat 1200, go-cqhttp 100); the
    message may even have gone out, so it is never retried blindly: the account backs off and an
    admin is told. ``unavailable``: no connection for the account right now; retry after it
    reconnects without counting an attempt. ``unconfirmed``: the connection died after the message
    was handed to the platform and before it answered; it may have been posted, so it is not sent
    again (onebot.md §7.1: never retry a send blindly). Otherwise: a failure that counts as an
    attempt.
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
    platform: str

    def available_accounts(self) -> list[str]:
        """Accounts this process can send through now ("" for account-less senders)."""
        ...

    async def send(self, account: str | None, message: OutgoingMessage) -> str:
        """Send; return the platform's message id ("" if it gives none). Raise SendError."""
        ...

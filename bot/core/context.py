"""What a handler gets: the event, who sent it, the open transaction, and ways to answer.

:class:`Context` is for messages, :class:`NoticeContext` for notices and subscription events;
both collect what the handler wants sent (``outgoing``, written to the outbox by the dispatcher
in the same transaction) and what it did (``audits``, written with the rest of the batch's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from bot.core.event import ChatKind, ChatRef, Face, MessageEvent, NoticeEvent, Reply
from bot.core.message import REACTION, OutgoingMessage

if TYPE_CHECKING:
    from bot.core.env import ServiceEnv
    from bot.core.nlu import Parse


class Member(Protocol):
    """A registered person, as the router and the handlers see them."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def unit_id(self) -> int | None: ...

    @property
    def unit_name(self) -> str | None: ...

    @property
    def actor(self) -> str:
        """How the audit log names them (``person:8``)."""
        ...


@dataclass(slots=True)
class Outgoing:
    message: OutgoingMessage
    kind: str
    cause: str
    account: str | None


@dataclass(frozen=True, slots=True)
class AuditNote:
    """One audit entry a handler made (who did what to which record), written by the pipeline."""

    at: datetime
    actor: str
    channel: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Quoted:
    """The bot's own message that a message replies to: its outbox row's kind and cause."""

    kind: str
    cause: str


@dataclass(slots=True, kw_only=True)
class _Work:
    conn: Connection
    env: ServiceEnv
    now: datetime
    person: Member | None
    outgoing: list[Outgoing] = field(default_factory=list)
    audits: list[AuditNote] = field(default_factory=list)

    def send(self, chat: ChatRef, text: str, *, kind: str = "notify", cause: str = "",
             mentions: tuple[str, ...] = (), account: str | None = None) -> None:
        """Queue ``text`` to any chat; on the platform it came from, by the account that heard."""
        event = self._event()
        msg = OutgoingMessage.text(chat, text, mentions=mentions)
        same_platform = chat.platform == event.platform
        self.outgoing.append(Outgoing(msg, kind, cause,
                                      account or (event.self_id if same_platform else None)))

    def audit(self, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        self.audits.append(AuditNote(self.now, self.actor, "chat", action, target, detail or {}))

    @property
    def actor(self) -> str:
        raise NotImplementedError

    def _event(self) -> MessageEvent | NoticeEvent:
        raise NotImplementedError


@dataclass(slots=True, kw_only=True)
class Context(_Work):
    event: MessageEvent
    command: str = ""
    args: str = ""
    # Decided by the router: the bot was @-ed, asked privately, or a message of the bot's was
    # replied to (``quoted``); ``prefixed``: the text starts with / or #.
    addressed: bool = False
    prefixed: bool = False
    quoted: Quoted | None = None
    # The language layer's reading of the message, made on first use: a canonical command
    # ("提交 …") rarely needs it, and parsing costs a few hundred microseconds a message.
    _parse: Parse | None = field(default=None, init=False)
    _parsed: bool = field(default=False, init=False)

    @property
    def parse(self) -> Parse | None:
        if not self._parsed:
            parser = self.env.parser
            self._parse = parser.parse(self.event.text, now=self.now) if parser else None
            self._parsed = True
        return self._parse

    @parse.setter
    def parse(self, value: Parse | None) -> None:
        self._parse, self._parsed = value, True

    @property
    def in_group(self) -> bool:
        return self.event.chat.kind is ChatKind.GROUP

    @property
    def actor(self) -> str:
        return self.person.actor if self.person else self.event.sender.key

    def reply(self, text: str, *, cause: str = "") -> None:
        """Answer where we were asked: in the group (quoting the message), or privately."""
        msg = OutgoingMessage.text(self.event.chat, text,
                                   reply_to=self.event.message_id if self.in_group else None)
        self.outgoing.append(Outgoing(msg, "reply", cause, self.event.self_id))

    def acknowledge(self, text: str, *, cause: str) -> None:
        """Answer that something was received and stored (``已收到 #12 …``).

        Like :meth:`reply`, but the quote also names the sender: in a group the outbox may merge
        the acknowledgements waiting for their turn into one message with an @ of each sender
        (``[outbox] coalesce_acks``, bot/pipeline/coalesce.py).
        """
        msg = OutgoingMessage.text(self.event.chat, text,
                                   reply_to=self.event.message_id if self.in_group else None,
                                   reply_to_user=self.event.sender.id)
        self.outgoing.append(Outgoing(msg, "reply", cause, self.event.self_id))

    def react(self, emoji: str) -> None:
        """React to the message with an emoji where the platform and the implementation can
        (QQ through NapCat or LLOneBot); elsewhere nothing is sent. Goes out after the commit."""
        msg = OutgoingMessage(self.event.chat, (Reply(self.event.message_id),
                                                Face(emoji)))
        self.outgoing.append(Outgoing(msg, REACTION, "", self.event.self_id))

    def _event(self) -> MessageEvent:
        return self.event


@dataclass(slots=True, kw_only=True)
class NoticeContext(_Work):
    event: NoticeEvent

    @property
    def actor(self) -> str:
        if self.person is not None:
            return self.person.actor
        return self.event.user.key if self.event.user else "system"

    def reply(self, text: str) -> None:
        """Answer the person the notice is about, privately (where the platform allows it)."""
        ev = self.event
        chat = ChatRef(ev.platform, ChatKind.PRIVATE, ev.user.id) if ev.user else ev.chat
        if chat is not None:
            self.outgoing.append(Outgoing(OutgoingMessage.text(chat, text), "reply", "",
                                          ev.self_id))

    def _event(self) -> NoticeEvent:
        return self.event

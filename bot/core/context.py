"""The one object a handler gets: the event, who sent it, the open transaction, and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot.core.event import ChatKind, ChatRef, MessageEvent
from bot.core.message import OutgoingMessage
from bot.services import audit, groups
from bot.services.groups import GroupInfo

if TYPE_CHECKING:
    from bot.core.env import ServiceEnv
    from bot.core.nlu import Parse
    from bot.services.people import PersonInfo


@dataclass(slots=True)
class Outgoing:
    message: OutgoingMessage
    kind: str
    cause: str
    account: str | None


@dataclass(slots=True)
class Context:
    event: MessageEvent
    conn: Connection
    env: ServiceEnv
    now: datetime
    person: PersonInfo | None
    command: str = ""
    args: str = ""
    outgoing: list[Outgoing] = field(default_factory=list)
    # When given, audit rows are collected here and written by the caller with the others of
    # its batch (one statement); it must drop them if this message's work is rolled back.
    audit_rows: list[dict[str, Any]] | None = None
    # The language layer's reading of the message, made on first use: a canonical command
    # ("提交 …") rarely needs it, and parsing costs a few hundred microseconds a message.
    _parse: Parse | None = field(default=None, init=False)
    _parsed: bool = field(default=False, init=False)
    # The registered group the message came from, looked up on first use: most messages never
    # need it, and the lookup was a tenth of the cost of handling a submission (bench/README.md).
    _group: GroupInfo | None = field(default=None, init=False)
    _group_loaded: bool = field(default=False, init=False)

    @property
    def group(self) -> GroupInfo | None:
        if not self._group_loaded:
            chat = self.event.chat.key
            self._group = groups.get_by_chat(self.conn, chat) if self.in_group else None
            self._group_loaded = True
        return self._group

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

    def send(self, chat: ChatRef, text: str, *, kind: str = "notify", cause: str = "",
             mentions: tuple[str, ...] = (), account: str | None = None) -> None:
        msg = OutgoingMessage.text(chat, text, mentions=mentions)
        same_platform = chat.platform == self.event.platform
        self.outgoing.append(Outgoing(msg, kind, cause,
                                      account or (self.event.self_id if same_platform else None)))

    def audit(self, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        row = audit.entry(at=self.now, actor=self.actor, channel="chat", action=action,
                          target=target, detail=detail)
        if self.audit_rows is None:
            audit.record_many(self.conn, [row])
        else:
            self.audit_rows.append(row)

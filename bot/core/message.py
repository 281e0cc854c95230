"""Outgoing messages: what handlers and jobs ask to be sent, before an adapter renders it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.event import ChatRef, Mention, Reply, Segment, Text

# The outbox kind of a reaction: a Reply naming the message and a Face naming the emoji, sent by
# adapters that can react (bot.core.adapter.Reactor) and skipped by the others.
REACTION = "reaction"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to one chat. ``segments`` use the same segment types as inbound events."""

    chat: ChatRef
    segments: tuple[Segment, ...]

    @classmethod
    def text(cls, chat: ChatRef, text: str, *, reply_to: str | None = None,
             reply_to_user: str = "", mentions: tuple[str, ...] = ()) -> OutgoingMessage:
        segs: list[Segment] = []
        if reply_to:
            segs.append(Reply(reply_to, reply_to_user))
        for m in mentions:
            segs.append(Mention(m))
            segs.append(Text(" "))
        segs.append(Text(text))
        return cls(chat, tuple(segs))

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.segments if isinstance(s, Text))

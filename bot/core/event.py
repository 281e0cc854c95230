"""Platform-neutral inbound events.

Only adapters know OneBot JSON, WeChat XML or WeCom JSON; everything past an adapter sees these
frozen dataclasses: a message, a notice (something else that happened in a chat), or a
subscription event (following or leaving an account). Identities are written ``platform:id``
(``qq:10001``, ``wx:wxid_x``, ``mp:oABC``) and chats ``platform:group:id`` /
``platform:user:id``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class ChatKind(enum.StrEnum):
    GROUP = "group"
    PRIVATE = "user"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message was said: ``qq:group:20001`` or ``qq:user:10001``."""

    platform: str
    kind: ChatKind
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> ChatRef:
        parts = text.split(":", 2)
        if len(parts) != 3 or not all(parts) or parts[1] not in ("group", "user"):
            raise ValueError(f"not a chat reference (platform:group:id or platform:user:id): {text!r}")
        return cls(parts[0], ChatKind(parts[1]), parts[2])

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class UserRef:
    """A platform identity: ``qq:10001``."""

    platform: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> UserRef:
        platform, sep, ident = text.partition(":")
        if not sep or not platform or not ident or ":" in ident:
            raise ValueError(f"not an identity (platform:id, e.g. qq:10001): {text!r}")
        return cls(platform, ident)

    def __str__(self) -> str:
        return self.key


# --- message segments --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """An @. ``user_id`` is the platform id (no prefix); ``"all"`` means @全体成员."""

    user_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """Quotes an earlier message by its platform message id.

    ``user_id`` is who wrote it, when known (OneBot 12's reply segment carries it; ours set it on
    acknowledgements so the outbox can @ the sender when it merges several into one message).
    """

    message_id: str
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    file: str = ""
    url: str = ""
    name: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class File:
    """A file attachment. ``file_id``/``busid`` are handles of the implementation (short-lived)."""

    name: str
    file_id: str = ""
    url: str = ""
    size: int | None = None
    busid: str = ""


@dataclass(frozen=True, slots=True)
class Face:
    id: str


@dataclass(frozen=True, slots=True)
class Other:
    """A segment we do not interpret (video, record, json card…), kept for the message store."""

    type: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An outgoing picture kept in our FileStore, named by content hash so outbox rows stay small;
    the sender reads the bytes at send time (bot/core/media.py). ``fallback`` is said instead
    when it cannot be attached; ``{n}`` there is how many pictures with that text could not."""

    sha256: str
    name: str = ""
    size: int = 0
    fallback: str = ""


@dataclass(frozen=True, slots=True)
class FileOffer:
    """An outgoing file fetched by URL (a signed, expiring download link of ours). An adapter
    that can post files into the chat (``bot.core.adapter.FileSender``) posts it as a file named
    ``name``; for every other chat the outbox says ``fallback`` instead, which carries the link."""

    name: str
    url: str
    fallback: str


Segment = Text | Mention | Reply | Image | File | Face | Other | StoredImage | FileOffer


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An attachment downloaded when it arrived and kept by content hash
    (``bot/services/files.py``)."""

    name: str
    sha256: str
    size: int
    path: str


def plain_text(segments: tuple[Segment, ...] | list[Segment]) -> str:
    return "".join(s.text for s in segments if isinstance(s, Text))


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A message someone sent to a chat the bot is in (or to the bot privately)."""

    platform: str
    self_id: str
    chat: ChatRef
    sender: UserRef
    message_id: str
    segments: tuple[Segment, ...]
    time: datetime
    sender_name: str = ""
    # True when the message is addressed to the bot: @bot, a reply to the bot, a private chat.
    to_me: bool = False
    # The quoted message id, if this is a reply.
    reply_to: str | None = None
    # Attachments already downloaded and stored (filled in before dispatch).
    files: tuple[StoredFile, ...] = ()
    # Attachments that could not be fetched (names), so the sender can be told.
    missing_files: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return plain_text(self.segments).strip()

    @property
    def dedupe_key(self) -> str:
        return f"msg:{self.platform}:{self.self_id}:{self.chat.key}:{self.message_id}"

    @property
    def attachments(self) -> tuple[Image | File, ...]:
        return tuple(s for s in self.segments if isinstance(s, Image | File))


@dataclass(frozen=True, slots=True)
class NoticeEvent:
    """Something that happened in a chat that is not a message (member joined, file uploaded…)."""

    platform: str
    self_id: str
    kind: str  # e.g. "group_upload", "group_increase", "reaction", "subscribe"
    chat: ChatRef | None
    user: UserRef | None
    time: datetime
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        chat = self.chat.key if self.chat else "-"
        user = self.user.key if self.user else "-"
        extra = ",".join(f"{k}={v}" for k, v in sorted(self.detail.items()))
        return f"notice:{self.platform}:{self.self_id}:{self.kind}:{chat}:{user}:{self.time.timestamp():.0f}:{extra}"


@dataclass(frozen=True, slots=True)
class SubscriptionEvent(NoticeEvent):
    """A person's relation to an account changed: ``subscribe`` (关注; ``detail["key"]`` is the
    QR scene, e.g. an invite code), ``unsubscribe`` (取消关注), ``scan`` (a QR code scanned by a
    follower), ``click`` (a menu button; ``detail["key"]``), or ``unreachable`` (the platform
    refuses to deliver to them any more; ``detail["reason"]``). ``user`` is always set."""


Event = MessageEvent | NoticeEvent

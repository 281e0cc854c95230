"""OneBot 12 payloads <-> core events and messages (WeChat bridges such as ComWeChat).

v12 differs from v11 in names rather than ideas (https://12.onebot.dev/): ``type``/``detail_type``,
``self{platform,user_id}`` instead of ``self_id``, string ids, ``mention``/``mention_all``,
``reply{message_id}``, media by ``file_id``. The bot's platform decides the prefix of our
identities: ``wechat`` becomes ``wx`` (``wx:group:123@chatroom``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.adapters.onebot.values import (
    MalformedEvent,
    decode_segments,
    ident,
    opt_ident,
    opt_int,
    scalar,
    timestamp,
)
from bot.core.event import (
    ChatKind,
    ChatRef,
    Event,
    File,
    FileOffer,
    Image,
    Mention,
    MessageEvent,
    NoticeEvent,
    Other,
    Reply,
    Segment,
    StoredImage,
    Text,
    UserRef,
)
from bot.core.media import without_pictures
from bot.core.message import OutgoingMessage

# v12 platform names -> our identity prefixes. Unknown platforms keep their own name.
PLATFORM_PREFIX = {"wechat": "wx", "qq": "qq"}
DEFAULT_PLATFORM = "wechat"


def prefix_for(platform: str) -> str:
    return PLATFORM_PREFIX.get(platform, platform)


def self_of(payload: dict[str, Any]) -> tuple[str, str]:
    """``(v12 platform, bot user id)`` from the ``self`` object every non-meta event carries."""
    me = payload.get("self")
    if type(me) is not dict:
        raise MalformedEvent("event without a self object")
    platform = me.get("platform")
    return (platform if type(platform) is str and platform else DEFAULT_PLATFORM,
            ident(me.get("user_id"), "self.user_id"))


# --- inbound segments ----------------------------------------------------------------------


def _text(d: dict[str, Any]) -> Segment:
    return Text(scalar(d.get("text")))


def _mention(d: dict[str, Any]) -> Segment:
    return Mention(scalar(d.get("user_id")))


def _mention_all(d: dict[str, Any]) -> Segment:
    return Mention("all")


def _reply(d: dict[str, Any]) -> Segment:
    return Reply(scalar(d.get("message_id")))


def _image(d: dict[str, Any]) -> Segment:
    return Image(file=scalar(d.get("file_id")), url=scalar(d.get("url")),
                 name=scalar(d.get("name")), size=opt_int(d.get("size")))


def _file(d: dict[str, Any]) -> Segment:
    return File(name=scalar(d.get("name")) or scalar(d.get("file_name")),
                file_id=scalar(d.get("file_id")), url=scalar(d.get("url")),
                size=opt_int(d.get("size")))


_SEGMENTS: dict[str, Callable[[dict[str, Any]], Segment]] = {
    "text": _text, "mention": _mention, "mention_all": _mention_all, "reply": _reply,
    "image": _image, "file": _file,
}


def _segments(raw: Any, self_id: str) -> tuple[tuple[Segment, ...], bool, str | None]:
    if raw is None:
        return (), False, None
    if type(raw) is not list:  # v12 has no string form
        raise MalformedEvent(f"message is {type(raw).__name__}, not a segment list")
    return decode_segments(raw, self_id, _SEGMENTS)


# --- events ---------------------------------------------------------------------------------


def _message_event(p: dict[str, Any]) -> MessageEvent | None:
    platform, self_id = self_of(p)
    prefix = prefix_for(platform)
    user_id = ident(p.get("user_id"), "user_id")
    if user_id == self_id:
        return None
    dtype = p.get("detail_type")
    if dtype == "group":
        chat = ChatRef(prefix, ChatKind.GROUP, ident(p.get("group_id"), "group_id"))
    elif dtype == "private":
        chat = ChatRef(prefix, ChatKind.PRIVATE, user_id)
    else:  # channel messages (guilds) are not served
        return None
    segments, at_me, reply_to = _segments(p.get("message"), self_id)
    return MessageEvent(
        platform=prefix, self_id=self_id, chat=chat, sender=UserRef(prefix, user_id),
        message_id=ident(p.get("message_id"), "message_id"), segments=segments,
        time=timestamp(p.get("time")), sender_name=scalar(p.get("user_name")),
        to_me=dtype == "private" or at_me, reply_to=reply_to,
    )


# v12 notice names -> the kinds the v11 codec uses, so handlers see one vocabulary.
_NOTICE_KINDS = {
    "group_member_increase": "group_increase",
    "group_member_decrease": "group_decrease",
    "group_message_delete": "group_recall",
    "private_message_delete": "friend_recall",
    "friend_increase": "friend_add",
    "friend_decrease": "friend_decrease",
    "group_admin_set": "group_admin",
    "group_admin_unset": "group_admin",
}
_NOTICE_COMMON = frozenset({"id", "time", "type", "detail_type", "self", "group_id", "user_id"})


def _notice_event(p: dict[str, Any]) -> NoticeEvent | None:
    dtype = p.get("detail_type")
    if type(dtype) is not str:
        raise MalformedEvent("notice without a detail_type")
    platform, self_id = self_of(p)
    prefix = prefix_for(platform)
    group_id = opt_ident(p.get("group_id"), "group_id")
    user_id = opt_ident(p.get("user_id"), "user_id")
    if group_id:
        chat: ChatRef | None = ChatRef(prefix, ChatKind.GROUP, group_id)
    elif user_id:
        chat = ChatRef(prefix, ChatKind.PRIVATE, user_id)
    else:
        chat = None
    kind = _NOTICE_KINDS.get(dtype) or f"unknown:{dtype}"
    detail = {k: scalar(v) for k, v in p.items()
              if k not in _NOTICE_COMMON and isinstance(v, str | int | float)}
    return NoticeEvent(platform=prefix, self_id=self_id, kind=kind, chat=chat,
                       user=UserRef(prefix, user_id) if user_id else None,
                       time=timestamp(p.get("time")), detail=detail)


def decode_event(payload: dict[str, Any]) -> Event | None:
    """A v12 event as a core event; None for meta (the adapter's), requests and the bot's own."""
    etype = payload.get("type")
    if etype == "message":
        return _message_event(payload)
    if etype == "notice":
        return _notice_event(payload)
    return None


# --- outbound --------------------------------------------------------------------------------


def encode_segment(seg: Segment) -> dict[str, Any]:
    if isinstance(seg, Text):
        return {"type": "text", "data": {"text": seg.text}}
    if isinstance(seg, Mention):
        if seg.user_id == "all":
            return {"type": "mention_all", "data": {}}
        return {"type": "mention", "data": {"user_id": seg.user_id}}
    if isinstance(seg, Reply):
        return {"type": "reply", "data": {"message_id": seg.message_id}}
    if isinstance(seg, Image | File):
        # v12 sends media only by file_id: the adapter uploads URLs first (upload_file).
        file_id = seg.file if isinstance(seg, Image) else seg.file_id
        if not file_id:
            raise ValueError(f"{type(seg).__name__.lower()} has no file_id; upload it first")
        return {"type": "image" if isinstance(seg, Image) else "file",
                "data": {"file_id": file_id}}
    if isinstance(seg, Other):
        return {"type": seg.type, "data": dict(seg.data)}
    if isinstance(seg, StoredImage):  # encode_send says its fallback; this is the bare segment
        return {"type": "text", "data": {"text": "[图片]"}}
    if isinstance(seg, FileOffer):  # not posted as a file here: the offer is its link
        return {"type": "text", "data": {"text": seg.fallback}}
    # Face and anything else QQ-specific has no v12 form: keep the meaning as text.
    return {"type": "text", "data": {"text": f"[{type(seg).__name__.lower()}]"}}


def encode_send(msg: OutgoingMessage) -> tuple[str, dict[str, Any]]:
    """``send_message`` params for ``msg`` (the adapter adds the ``self`` of the account)."""
    # Stored pictures the adapter did not attach are said as their fallback text.
    msg = without_pictures(msg)
    message = [encode_segment(s) for s in msg.segments]
    if msg.chat.kind is ChatKind.GROUP:
        return "send_message", {"detail_type": "group", "group_id": msg.chat.id,
                                "message": message}
    return "send_message", {"detail_type": "private", "user_id": msg.chat.id, "message": message}

"""OneBot v11 payloads <-> core events and messages (QQ via NapCat, LLOneBot, Lagrange, go-cqhttp).

``decode_event`` is on the per-frame hot path: plain dict lookups, no validation library. It
returns None for what the pipeline must not see (the bot's own messages, requests, meta events,
message types we do not serve) and raises ``MalformedEvent`` for impossible field types, which the
adapter counts as a bad frame. Unknown notice types become ``unknown:<type>`` notices, never errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.adapters.onebot import cq
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
    Face,
    File,
    FileOffer,
    Image,
    Mention,
    MessageEvent,
    NoticeEvent,
    Reply,
    Segment,
    StoredImage,
    Text,
    UserRef,
)
from bot.core.media import without_pictures
from bot.core.message import OutgoingMessage

PLATFORM = "qq"

# QQ reactions that mean "thumbs up": the classic face 76 (赞) and the Unicode 👍 (U+1F44D), which
# NapCat reports by its decimal code point.
THUMBS_UP_IDS = frozenset({"76", "128077"})


# --- inbound segments ----------------------------------------------------------------------


def _text(d: dict[str, Any]) -> Segment:
    return Text(scalar(d.get("text")))


def _at(d: dict[str, Any]) -> Segment:
    return Mention(scalar(d.get("qq")), scalar(d.get("name")))


def _reply(d: dict[str, Any]) -> Segment:
    return Reply(scalar(d.get("id")))


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _image(d: dict[str, Any]) -> Segment:
    file = scalar(d.get("file"))
    url = scalar(d.get("url"))
    # Lagrange puts the URL in ``file`` and the name in ``filename``.
    if not url and _is_url(file):
        url = file
    name = scalar(d.get("filename")) or ("" if _is_url(file) else file)
    return Image(file=file, url=url, name=name, size=opt_int(d.get("file_size")))


def _file(d: dict[str, Any]) -> Segment:
    # NapCat {file: name, file_id, file_size, url}; LLOneBot adds a local ``path``;
    # Lagrange {file_name, file_hash, file_id, url};
    # go-cqhttp {path (= the file id), name, size, busid}.
    file_id = scalar(d.get("file_id")) or scalar(d.get("path"))
    name = scalar(d.get("name")) or scalar(d.get("file_name")) or scalar(d.get("file"))
    size = opt_int(d.get("file_size"))
    if size is None:
        size = opt_int(d.get("size"))
    return File(name=name, file_id=file_id, url=scalar(d.get("url")), size=size,
                busid=scalar(d.get("busid")))


def _face(d: dict[str, Any]) -> Segment:
    return Face(scalar(d.get("id")))


_SEGMENTS: dict[str, Callable[[dict[str, Any]], Segment]] = {
    "text": _text, "at": _at, "reply": _reply, "image": _image, "file": _file, "face": _face,
}


def _raw_message(payload: dict[str, Any]) -> list[Any]:
    message = payload.get("message")
    if type(message) is list:
        return message
    if type(message) is str:
        return cq.parse(message)
    if message is None:
        return []
    raise MalformedEvent(f"message is {type(message).__name__}")


# --- events ---------------------------------------------------------------------------------


def _message_event(p: dict[str, Any]) -> MessageEvent | None:
    self_id = ident(p.get("self_id"), "self_id")
    user_id = ident(p.get("user_id"), "user_id")
    if user_id == self_id:  # go-cqhttp reports some own messages as plain messages
        return None
    mtype = p.get("message_type")
    if mtype == "group":
        chat = ChatRef(PLATFORM, ChatKind.GROUP, ident(p.get("group_id"), "group_id"))
        private = False
    elif mtype == "private":
        chat = ChatRef(PLATFORM, ChatKind.PRIVATE, user_id)
        private = True
    else:  # guild channels and the like: not served
        return None
    segments, at_me, reply_to = decode_segments(_raw_message(p), self_id, _SEGMENTS)
    sender = p.get("sender")
    name = ""
    if type(sender) is dict:
        name = scalar(sender.get("card")) or scalar(sender.get("nickname"))
    return MessageEvent(
        platform=PLATFORM, self_id=self_id, chat=chat, sender=UserRef(PLATFORM, user_id),
        message_id=ident(p.get("message_id"), "message_id"), segments=segments,
        time=timestamp(p.get("time")), sender_name=name, to_me=private or at_me,
        reply_to=reply_to,
    )


# Fields every notice has; the rest (scalars only) goes into ``detail``.
_NOTICE_COMMON = frozenset({"time", "self_id", "post_type", "notice_type", "group_id", "user_id"})


def _scalar_detail(p: dict[str, Any]) -> dict[str, str]:
    return {k: scalar(v) for k, v in p.items()
            if k not in _NOTICE_COMMON and isinstance(v, str | int | float)}


def _upload_detail(p: dict[str, Any]) -> tuple[str, dict[str, str]]:
    file = p.get("file")
    if type(file) is not dict:
        raise MalformedEvent("group_upload without a file object")
    detail = {"file_id": scalar(file.get("id")), "name": scalar(file.get("name")),
              "size": scalar(file.get("size")), "busid": scalar(file.get("busid"))}
    if file.get("url"):
        detail["url"] = scalar(file.get("url"))
    return "group_upload", detail


def _emoji_like_detail(p: dict[str, Any]) -> tuple[str, dict[str, str]]:
    # NapCat/LLOneBot: {message_id, likes: [{emoji_id, count}], is_add?}; one reaction per notice
    # in practice, so the first entry is the one that changed.
    likes = p.get("likes")
    first = likes[0] if type(likes) is list and likes and type(likes[0]) is dict else {}
    return _reaction(p.get("message_id"), first.get("emoji_id"), first.get("count"),
                     p.get("is_add", True))


def _lagrange_reaction_detail(p: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return _reaction(p.get("message_id"), p.get("code"), p.get("count"),
                     p.get("sub_type") != "remove")


def _reaction(message_id: Any, emoji_id: Any, count: Any, added: Any) -> tuple[str, dict[str, str]]:
    emoji = scalar(emoji_id)
    return "reaction", {
        "message_id": opt_ident(message_id, "message_id"),
        "emoji": "👍" if emoji in THUMBS_UP_IDS else emoji,
        "emoji_id": emoji,
        "count": scalar(count),
        "added": "true" if added is not False else "false",
    }


def _plain(kind: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, str]]]:
    return lambda p: (kind, _scalar_detail(p))


_NOTICES: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, str]]]] = {
    "group_upload": _upload_detail,
    "group_msg_emoji_like": _emoji_like_detail,
    "reaction": _lagrange_reaction_detail,
    **{name: _plain(name) for name in (
        "group_increase", "group_decrease", "group_recall", "friend_recall", "group_admin",
        "group_ban", "friend_add", "notify", "group_card", "essence", "bot_offline",
    )},
}


def _notice_event(p: dict[str, Any]) -> NoticeEvent | None:
    ntype = p.get("notice_type")
    if type(ntype) is not str:
        raise MalformedEvent("notice without a notice_type")
    self_id = ident(p.get("self_id"), "self_id")
    group_id = opt_ident(p.get("group_id"), "group_id")
    user_id = opt_ident(p.get("user_id"), "user_id")
    # NapCat fills group_id with 0 on private notices (input_status): 0 is no group.
    if group_id and group_id != "0":
        chat: ChatRef | None = ChatRef(PLATFORM, ChatKind.GROUP, group_id)
    elif user_id:
        chat = ChatRef(PLATFORM, ChatKind.PRIVATE, user_id)
    else:
        chat = None
    handler = _NOTICES.get(ntype)
    if handler is None:
        kind, detail = f"unknown:{ntype}", _scalar_detail(p)
    else:
        kind, detail = handler(p)
    if not user_id and kind == "reaction":  # Lagrange names the reacting user operator_id
        user_id = opt_ident(p.get("operator_id"), "operator_id")
    return NoticeEvent(
        platform=PLATFORM, self_id=self_id, kind=kind, chat=chat,
        user=UserRef(PLATFORM, user_id) if user_id else None,
        time=timestamp(p.get("time")), detail=detail,
    )


def decode_event(payload: dict[str, Any]) -> Event | None:
    """A v11 event payload as a core event, or None when the pipeline should not see it.

    Meta events are the adapter's business (connection state), requests are not handled, and
    ``message_sent`` (the bot's own messages, non-standard) must never reach command handlers.
    """
    post_type = payload.get("post_type")
    if post_type == "message":
        return _message_event(payload)
    if post_type == "notice":
        return _notice_event(payload)
    return None


# --- outbound --------------------------------------------------------------------------------


def id_param(value: str) -> int | str:
    # The spec types ids as int64; every impl also takes numeric strings, but some are strict.
    return int(value) if value.isdigit() else value


def encode_segment(seg: Segment) -> dict[str, Any]:
    """One core segment as a v11 array segment; every data value is a string
    (https://github.com/botuniverse/onebot-11/blob/master/message/array.md)."""
    if isinstance(seg, Text):
        return {"type": "text", "data": {"text": seg.text}}
    if isinstance(seg, Mention):
        return {"type": "at", "data": {"qq": seg.user_id}}
    if isinstance(seg, Reply):
        return {"type": "reply", "data": {"id": seg.message_id}}
    if isinstance(seg, Image):
        source = seg.url or seg.file
        if not source:
            raise ValueError("an image needs a url or a file to be sent")
        return {"type": "image", "data": {"file": source}}
    if isinstance(seg, File):
        source = seg.url or seg.file_id
        if not source:
            raise ValueError("a file needs a url or a file_id to be sent")
        data = {"file": source, "name": seg.name}
        if seg.file_id:
            data["file_id"] = seg.file_id
        return {"type": "file", "data": data}
    if isinstance(seg, Face):
        return {"type": "face", "data": {"id": seg.id}}
    if isinstance(seg, StoredImage):  # encode_send says its fallback; this is the bare segment
        return {"type": "text", "data": {"text": "[图片]"}}
    if isinstance(seg, FileOffer):  # in a message (not an upload) the offer is its link
        return {"type": "text", "data": {"text": seg.fallback}}
    return {"type": seg.type, "data": dict(seg.data)}


def encode_segments(segments: tuple[Segment, ...] | list[Segment]) -> list[dict[str, Any]]:
    return [encode_segment(s) for s in segments]


def encode_send(msg: OutgoingMessage) -> tuple[str, dict[str, Any]]:
    """The action and params that send ``msg``: always a segment array, never a CQ string."""
    # Stored pictures the adapter did not attach are said as their fallback text.
    msg = without_pictures(msg)
    offer = next((s for s in msg.segments if isinstance(s, FileOffer)), None)
    if offer is not None and msg.chat.kind is ChatKind.GROUP:
        # A go-cqhttp extension every QQ impl has; NapCat and LLOneBot fetch an http(s) ``file``
        # themselves (onebot.md §4.3). The outbox sends offers only where the adapter said it
        # can (``OneBotAdapter.can_send_file``), one offer per message.
        return "upload_group_file", {"group_id": id_param(msg.chat.id), "file": offer.url,
                                     "name": offer.name}
    message = encode_segments(msg.segments)
    if msg.chat.kind is ChatKind.GROUP:
        return "send_group_msg", {"group_id": id_param(msg.chat.id), "message": message}
    return "send_private_msg", {"user_id": id_param(msg.chat.id), "message": message}

"""v11/v12 codec details beyond the golden samples: leniency, to_me rules, outbound encoding."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.onebot import codec_v11, codec_v12
from bot.adapters.onebot.values import MalformedEvent
from bot.core.event import (
    ChatRef,
    Face,
    File,
    Image,
    Mention,
    MessageEvent,
    Other,
    Reply,
    Text,
)
from bot.core.message import OutgoingMessage

from . import fake_impl as fi


def _decode(payload: dict[str, Any]) -> MessageEvent:
    event = codec_v11.decode_event(payload)
    assert isinstance(event, MessageEvent)
    return event


def test_only_the_leading_whitespace_after_at_me_is_stripped() -> None:
    event = _decode(fi.group_message(message=[
        fi.seg("text", text="先说 "), fi.seg("at", qq=str(fi.SELF_ID)),
        fi.seg("text", text="  提交 a  "), fi.seg("at", qq="123"), fi.seg("text", text=" b"),
    ]))
    assert event.to_me
    assert event.segments == (Text("先说 "), Text("提交 a  "), Mention("123"), Text(" b"))


def test_at_me_alone_leaves_no_empty_text() -> None:
    event = _decode(fi.group_message(message=[fi.seg("at", qq=fi.SELF_ID),
                                              fi.seg("text", text=" ")]))
    assert event.to_me
    assert event.segments == ()


def test_at_with_numeric_qq_matches_self() -> None:
    event = _decode(fi.group_message(message=[fi.seg("at", qq=fi.SELF_ID),
                                              fi.seg("text", text="x")]))
    assert event.to_me
    assert event.text == "x"


def test_reply_sets_reply_to_but_not_to_me() -> None:
    event = _decode(fi.group_message(message=[fi.seg("reply", id=-42),
                                              fi.seg("text", text="收到")]))
    assert event.reply_to == "-42"
    assert not event.to_me
    assert event.segments[0] == Reply("-42")


def test_message_missing_or_null_is_empty() -> None:
    p = fi.group_message()
    del p["message"]
    assert _decode(p).segments == ()
    assert _decode(fi.group_message(message=[{"type": "shake", "data": None}])).segments == (
        Other("shake"),)


def test_lenient_values() -> None:
    event = _decode(fi.group_message(
        message=[fi.seg("image", file="a.jpg", url="https://x/a", file_size=12.0),
                 fi.seg("face", id=14), fi.seg("text", text=5)],
        group_id=1.0, user_id="20000001", time="1764300000"))
    assert event.chat.id == "1"
    assert event.segments == (Image(file="a.jpg", url="https://x/a", name="a.jpg", size=12),
                              Face("14"), Text("5"))
    assert event.time.timestamp() == 1764300000


@pytest.mark.parametrize("patch", [
    {"message_id": {"x": 1}}, {"message_id": None}, {"message_id": True}, {"user_id": [1]},
    {"self_id": None}, {"group_id": None}, {"time": "yesterday"}, {"time": [1]},
    {"message": 3}, {"message": [1]}, {"message": [{"type": 1, "data": {}}]},
    {"message": [{"type": "text", "data": [1]}]},
])
def test_impossible_types_raise_malformed(patch: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        codec_v11.decode_event(fi.group_message(**patch))


def test_unknown_post_and_message_types_are_ignored() -> None:
    assert codec_v11.decode_event({"post_type": "weird"}) is None
    assert codec_v11.decode_event({}) is None
    assert codec_v11.decode_event(fi.group_message(message_type="guild")) is None


def test_notice_without_type_is_malformed_and_odd_fields_are_fine() -> None:
    with pytest.raises(MalformedEvent):
        codec_v11.decode_event({"post_type": "notice", "self_id": 1})
    event = codec_v11.decode_event(fi.notice("notify", sub_type="poke", group_id=fi.GROUP_ID,
                                             user_id=fi.USER_ID, raw_info=[{"a": 1}], flag=None))
    assert event is not None
    assert "raw_info" not in event.detail


def test_reaction_with_no_likes_does_not_crash() -> None:
    event = codec_v11.decode_event(fi.notice("group_msg_emoji_like", group_id=fi.GROUP_ID,
                                             user_id=fi.USER_ID, message_id=1, likes=[]))
    assert event is not None
    assert event.kind == "reaction"


def test_v11_encode_all_segment_types() -> None:
    chat = ChatRef.parse("qq:group:123")
    msg = OutgoingMessage(chat, (
        Text("a"), Mention("all"), Reply("9"), Image(url="https://x/i.png"),
        Image(file="base64://AAAA"), File(name="r.docx", url="https://x/r.docx"), Face("178"),
        Other("music", (("type", "qq"), ("id", "1"))),
    ))
    action, params = codec_v11.encode_send(msg)
    assert action == "send_group_msg"
    assert params["group_id"] == 123
    assert params["message"] == [
        {"type": "text", "data": {"text": "a"}},
        {"type": "at", "data": {"qq": "all"}},
        {"type": "reply", "data": {"id": "9"}},
        {"type": "image", "data": {"file": "https://x/i.png"}},
        {"type": "image", "data": {"file": "base64://AAAA"}},
        {"type": "file", "data": {"file": "https://x/r.docx", "name": "r.docx"}},
        {"type": "face", "data": {"id": "178"}},
        {"type": "music", "data": {"type": "qq", "id": "1"}},
    ]
    for seg in params["message"]:
        assert all(isinstance(v, str) for v in seg["data"].values())
    with pytest.raises(ValueError):
        codec_v11.encode_segment(Image())


def test_v11_round_trip_through_decode() -> None:
    msg = OutgoingMessage.text(ChatRef.parse("qq:group:1"), "提交 [x]", reply_to="5",
                               mentions=("42",))
    _, params = codec_v11.encode_send(msg)
    event = _decode(fi.group_message(message=params["message"]))
    assert event.segments == msg.segments


# --- v12 --------------------------------------------------------------------------------------

WX = {"platform": "wechat", "user_id": "wxid_bot"}


def _v12(**fields: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"id": "1", "time": 1764300000.5, "type": "message",
                         "detail_type": "group", "sub_type": "", "message_id": "m",
                         "self": WX, "user_id": "wxid_a", "group_id": "1@chatroom",
                         "message": [{"type": "text", "data": {"text": "hi"}}],
                         "alt_message": "hi"}
    p.update(fields)
    return p


def test_v12_message() -> None:
    event = codec_v12.decode_event(_v12())
    assert isinstance(event, MessageEvent)
    assert event.chat.key == "wx:group:1@chatroom"
    assert event.sender.key == "wx:wxid_a"
    assert event.platform == "wx"
    assert event.self_id == "wxid_bot"
    assert event.time.timestamp() == 1764300000.5


def test_v12_other_platform_keeps_its_name() -> None:
    event = codec_v12.decode_event(_v12(self={"platform": "telegram", "user_id": "b"}))
    assert event is not None
    assert event.platform == "telegram"


@pytest.mark.parametrize("patch", [
    {"self": None}, {"self": {"platform": "wechat"}}, {"message": "a CQ string"},
    {"message_id": {"x": 1}}, {"user_id": None},
])
def test_v12_malformed(patch: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        codec_v12.decode_event(_v12(**patch))


def test_v12_channel_messages_are_ignored() -> None:
    assert codec_v12.decode_event(_v12(detail_type="channel")) is None
    assert codec_v12.decode_event({"type": "meta", "detail_type": "connect"}) is None


def test_v12_encode() -> None:
    msg = OutgoingMessage(ChatRef.parse("wx:group:1@chatroom"), (
        Reply("m1"), Mention("wxid_a"), Mention("all"), Text("x"), Image(file="fid"),
        File(name="a", file_id="f2"), Face("1")))
    action, params = codec_v12.encode_send(msg)
    assert action == "send_message"
    assert params["detail_type"] == "group"
    assert params["group_id"] == "1@chatroom"
    assert params["message"] == [
        {"type": "reply", "data": {"message_id": "m1"}},
        {"type": "mention", "data": {"user_id": "wxid_a"}},
        {"type": "mention_all", "data": {}},
        {"type": "text", "data": {"text": "x"}},
        {"type": "image", "data": {"file_id": "fid"}},
        {"type": "file", "data": {"file_id": "f2"}},
        {"type": "text", "data": {"text": "[face]"}},
    ]
    _, private = codec_v12.encode_send(OutgoingMessage.text(ChatRef.parse("wx:user:wxid_a"), "y"))
    assert private["detail_type"] == "private"
    assert private["user_id"] == "wxid_a"
    with pytest.raises(ValueError):
        codec_v12.encode_segment(Image(url="https://x"))

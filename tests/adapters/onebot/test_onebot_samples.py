"""Golden payloads: each sample in samples.json names the core event it must decode to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.onebot import codec_v11, codec_v12
from bot.core.event import File, Image, MessageEvent, NoticeEvent

SAMPLES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "samples.json").read_text(encoding="utf-8"))["samples"]


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["name"] for s in SAMPLES])
def test_sample(sample: dict[str, Any]) -> None:
    decode = codec_v11.decode_event if sample["protocol"] == "v11" else codec_v12.decode_event
    event = decode(sample["payload"])
    expect = sample["expect"]
    if expect["class"] is None:
        assert event is None
        return
    assert type(event).__name__ == expect["class"]
    assert event is not None
    for key in ("platform", "self_id"):
        if key in expect:
            assert getattr(event, key) == expect[key]
    if "time" in expect:
        assert event.time.timestamp() == expect["time"]
    if isinstance(event, MessageEvent):
        _check_message(event, expect)
    else:
        assert isinstance(event, NoticeEvent)
        _check_notice(event, expect)


def _check_message(event: MessageEvent, expect: dict[str, Any]) -> None:
    if "chat" in expect:
        assert event.chat.key == expect["chat"]
    if "sender" in expect:
        assert event.sender.key == expect["sender"]
    for key in ("message_id", "text", "to_me", "reply_to", "sender_name"):
        if key in expect:
            assert getattr(event, key) == expect[key], key
    if "segments" in expect:
        assert [type(s).__name__ for s in event.segments] == expect["segments"]
    for kind, cls in (("image", Image), ("file", File)):
        if kind in expect:
            (seg,) = [s for s in event.segments if isinstance(s, cls)]
            for field, value in expect[kind].items():
                assert getattr(seg, field) == value, (kind, field)
    assert event.time.tzinfo is not None


def _check_notice(event: NoticeEvent, expect: dict[str, Any]) -> None:
    assert event.kind == expect["kind"]
    if "chat" in expect:
        assert event.chat is not None
        assert event.chat.key == expect["chat"]
    if "user" in expect:
        assert event.user is not None
        assert event.user.key == expect["user"]
    for key, value in expect.get("detail", {}).items():
        assert event.detail.get(key) == value, key
    assert all(isinstance(v, str) for v in event.detail.values())
    assert event.dedupe_key


def test_every_sample_has_a_unique_name() -> None:
    names = [s["name"] for s in SAMPLES]
    assert len(names) == len(set(names))

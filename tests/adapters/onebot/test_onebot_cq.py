"""CQ-code strings: the exact escaping of onebot.md §3.2, and round trips."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.onebot import cq


def test_escape_table() -> None:
    escaped = cq.escape_text("- [x] 使用 &data 获取, 完成")
    assert escaped == "- &#91;x&#93; 使用 &amp;data 获取, 完成"
    assert cq.escape_value("震惊,小伙") == "震惊&#44;小伙"
    assert cq.escape_value("http://a.b/?a=1&b=2") == "http://a.b/?a=1&amp;b=2"


def test_unescape_order_keeps_literal_entities() -> None:
    assert cq.unescape("&amp;#91;") == "&#91;"
    assert cq.unescape("&amp;amp;") == "&amp;"
    assert cq.unescape("&#91;&#93;&#44;&amp;") == "[],&"
    assert cq.unescape("&lt;&quot;&#x5b;") == "&lt;&quot;&#x5b;"  # only the four entities exist


def test_parse_share_example() -> None:
    segs = cq.parse("[CQ:share,title=震惊&#44;小伙,url=http://a.b/?a=1&amp;b=2]")
    assert segs == [{"type": "share", "data": {"title": "震惊,小伙", "url": "http://a.b/?a=1&b=2"}}]


def test_parse_mixed_and_lenient() -> None:
    assert cq.parse("[CQ:at,qq=10001] 你好[CQ:face,id=178]") == [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": " 你好"}},
        {"type": "face", "data": {"id": "178"}},
    ]
    # values may contain "="; codes without parameters; leading spaces in keys tolerated
    assert cq.parse("[CQ:x,a=b=c][CQ:shake][CQ:face, id=1]") == [
        {"type": "x", "data": {"a": "b=c"}},
        {"type": "shake", "data": {}},
        {"type": "face", "data": {"id": "1"}},
    ]
    # unescaped brackets from a sloppy implementation stay text
    assert cq.parse("a[b]c [CQ:oops") == [{"type": "text", "data": {"text": "a[b]c [CQ:oops"}}]
    assert cq.parse("") == []
    assert cq.parse("全角，【】不转义") == [{"type": "text", "data": {"text": "全角，【】不转义"}}]


def test_encode() -> None:
    assert cq.encode([
        {"type": "reply", "data": {"id": "-5"}},
        {"type": "text", "data": {"text": "a[1]&b"}},
        {"type": "share", "data": {"title": "x,y", "url": "u", "image": None}},
    ]) == "[CQ:reply,id=-5]a&#91;1&#93;&amp;b[CQ:share,title=x&#44;y,url=u]"


tricky = st.text(alphabet=st.sampled_from(list("&[],=;#9134amp CQ:ax报")), max_size=40)
texts = st.one_of(st.text(max_size=60), tricky)
names = st.from_regex(r"[a-z][a-z0-9_.\-]{0,10}", fullmatch=True)


@given(texts)
def test_text_round_trips(text: str) -> None:
    encoded = cq.escape_text(text)
    assert cq.unescape(encoded) == text
    expected = [{"type": "text", "data": {"text": text}}] if text else []
    assert cq.parse(encoded) == expected
    assert cq.encode(cq.parse(encoded)) == encoded


@given(st.lists(st.one_of(
    texts.filter(bool).map(lambda t: {"type": "text", "data": {"text": t}}),
    st.builds(lambda k, d: {"type": k, "data": d}, names.filter(lambda n: n != "text"),
              st.dictionaries(names, texts, max_size=3)),
), max_size=6))
def test_segments_round_trip(segments: list[dict[str, Any]]) -> None:
    # Adjacent text segments merge in the string form, so compare against the merged list.
    merged: list[dict[str, Any]] = []
    for seg in segments:
        if seg["type"] == "text" and merged and merged[-1]["type"] == "text":
            merged[-1] = {"type": "text", "data": {"text": merged[-1]["data"]["text"]
                                                    + seg["data"]["text"]}}
        else:
            merged.append(seg)
    encoded = cq.encode(segments)
    assert cq.parse(encoded) == merged
    assert cq.encode(cq.parse(encoded)) == encoded


def test_literal_entity_text_round_trips() -> None:
    text = "&amp;#91; [CQ:at,qq=1] &#44;"
    encoded = cq.escape_text(text)
    assert encoded == "&amp;amp;#91; &#91;CQ:at,qq=1&#93; &amp;#44;"
    assert cq.parse(encoded) == [{"type": "text", "data": {"text": text}}]

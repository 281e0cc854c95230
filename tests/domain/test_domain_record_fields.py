"""Records with required fields (the 四个一 field visit): what is written for each, what is
missing, the form to fill in."""

from __future__ import annotations

from bot.domain.record_fields import VISIT, missing_fields, read_record, template


def test_fields_on_lines_or_one_after_another() -> None:
    lines = "时间：2027年4月3日\n地点：中牟县城关镇\n发现问题：执法公示不全。\n典型经验：说理式执法文书"
    assert read_record(lines, VISIT) == {"时间": "2027年4月3日", "地点": "中牟县城关镇",
                                         "发现问题": "执法公示不全", "典型经验": "说理式执法文书"}
    inline = "时间:4月3日，地点: 中牟县 存在问题：无 经验做法：说理式执法"
    assert read_record(inline, VISIT) == {"时间": "4月3日", "地点": "中牟县", "发现问题": "无",
                                          "典型经验": "说理式执法"}
    assert missing_fields(inline, VISIT) == []


def test_missing_and_empty_fields_are_named_in_order() -> None:
    assert missing_fields("地点：中牟县 时间：", VISIT) == ["时间", "发现问题", "典型经验"]
    assert missing_fields("见附件", VISIT) == list(VISIT)
    # a label inside a value is not a new field ("发现三个问题：…")
    text = "时间：4月3日 地点：中牟县 发现问题：发现三个问题：一是公示不全 典型经验：无"
    assert read_record(text, VISIT)["发现问题"] == "发现三个问题：一是公示不全"


def test_unknown_fields_are_written_by_their_name() -> None:
    assert read_record("参训人数：120 内容：行政指导", ("参训人数", "内容")) == {
        "参训人数": "120", "内容": "行政指导"}
    assert template(("时间", "地点")) == "时间：\n地点："

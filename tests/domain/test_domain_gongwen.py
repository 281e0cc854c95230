"""The wording rules of GB/T 9704-2012 that do not depend on layout, and the document model."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.gongwen import (
    AttachmentStart,
    Document,
    Heading,
    Outline,
    PageBreak,
    Paragraph,
    Subtitle,
    Table,
    Title,
    Toc,
    TocEntry,
    check_prefix,
    cn_date,
    cn_numeral,
    doc_number,
    lateness,
    outline_marker,
    text_width,
)


def test_domain_document_number() -> None:
    assert doc_number("豫依法行政领办督", 2027, 3) == "豫依法行政领办督〔2027〕3号"
    assert doc_number("豫依法行政领办", 2015, 85) == "豫依法行政领办〔2015〕85号"
    assert doc_number("豫办", 2027, None) == "豫办〔2027〕　号"  # a draft: the place left blank
    with pytest.raises(ValueError, match="positive"):
        doc_number("豫办", 2027, 0)
    assert check_prefix(" 豫依法行政领办 ") == "豫依法行政领办"
    for bad in ("", "豫办〔", "豫办2", "（豫办）", "豫" * 41):
        with pytest.raises(InvalidInput):
            check_prefix(bad)


def test_domain_numerals_markers_and_dates() -> None:
    assert [cn_numeral(n) for n in (1, 9, 10, 11, 19, 20, 21, 99)] == [
        "一", "九", "十", "十一", "十九", "二十", "二十一", "九十九"]
    assert [outline_marker(level, 3) for level in (1, 2, 3, 4)] == ["三、", "（三）", "3.", "（3）"]
    o = Outline()
    got = [o.h(1, "甲").text, o.h(2, "乙").text, o.h(2, "丙").text, o.h(3, "丁").text,
           o.h(1, "戊").text, o.h(2, "己").text]
    assert got == ["一、甲", "（一）乙", "（二）丙", "1.丁", "二、戊", "（一）己"]
    assert cn_date(date(2027, 3, 5)) == "2027年3月5日"  # no leading zeros
    assert text_width("2027年3月5日") == 6  # half-width digits count half


def test_domain_lateness() -> None:
    assert lateness(timedelta(days=2, hours=10, minutes=59)) == "2天10小时"
    assert lateness(timedelta(days=3)) == "3天"
    assert lateness(timedelta(hours=5)) == "5小时"
    assert lateness(timedelta(minutes=59)) == "不足1小时"
    assert lateness(timedelta(0)) == "未逾期"


def test_domain_document_json_round_trip() -> None:
    doc = Document(
        kind="cases", title="标题\n第二行", mark="某某文件", number="豫办〔2027〕1号",
        addressee="各单位", attachment_note=("附件一",), signature="某办", date=date(2027, 1, 2),
        seal=False, copy_to=("甲", "乙"), printer="某办", print_date=date(2027, 1, 3),
        body=(Paragraph("正文"), Paragraph("顶格", indent=False), Heading(1, "一、总体", "_a"),
              Title("案例", "_b"), Subtitle("郑州市"), PageBreak(),
              Table(("单位", "数"), (("郑州市", "1"),), (2.0, 1.0), total=True)),
        attachments=(AttachmentStart("附件", "汇编"),
                     Toc("目录", (TocEntry("1. 案例", "_b", 3),))),
        meta={"demands": [{"text": "补报", "due": "2027-01-10"}]},
    )
    again = Document.from_json(doc.to_json())
    assert again == doc
    assert "抄送：甲，乙。" in doc.text() and "某办 2027年1月3日印发" in doc.text()
    issued = Document(kind="letter", title="t", body=()).numbered("豫办〔2027〕2号",
                                                                  date(2027, 2, 1))
    assert (issued.number, issued.date, issued.print_date) == (
        "豫办〔2027〕2号", date(2027, 2, 1), date(2027, 2, 1))

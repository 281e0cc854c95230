"""What the official documents say: every figure equals an independent count of the raw rows for
the same period (tests/reports/doc_oracle.py), on SQLite and PostgreSQL.

The documents are generated as the CLI generates them (bot.services.drafting), written to .docx
and read back with python-docx.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

from bot.domain.errors import InvalidInput
from bot.services import bulletins, stats
from bot.services import drafting as docs
from bot.services import rectifications as rect_svc
from bot.services.documents import Actor
from tests.reports import doc_oracle as oracle
from tests.reports.conftest import NOW, TZ, Seeded, at
from tests.reports.doc_oracle import (
    Figures,
    count,
    how_late,
    late_phrase,
    md,
    owed_rectifications,
    read,
    units_with,
)

ACTOR = Actor("cli:test")
DRAFTED = at("2026-10-02 17:00")  # the weekly bulletin's draft (a Friday); NOW is 31 December


def _completion(t: oracle.Tally, tasks: int) -> str:
    return (f"共部署督导任务{tasks}项，涉及各单位任务{t.assigned}项，其中已到截止时间{t.due}项。"
            f"各单位已报送{t.submitted}项，其中按时报送{t.on_time}项、逾期报送{t.late}项；"
            f"已到截止时间仍未报送{t.not_in}项；审核通过{t.accepted}项，退回待修改{t.returned}项；"
            f"按时报送率{t.rate()}。")


def _flags(t: oracle.Tally) -> str:
    return f"督导平台共标注红旗{t.red}面、蓝旗{t.blue}面、黄旗{t.yellow}面。"


def _kinds(o: oracle.Oracle) -> str:
    order = ("city", "county", "department", "central", "office")
    parts = [f"{oracle.KIND_NAMES[k]}按时报送率{o.kinds[k].rate()}" for k in order
             if k in o.kinds and o.kinds[k].due]
    return "分类别看，" + "，".join(parts) + "。"


def _scores(o: oracle.Oracle, *, bonus: bool) -> list[str]:
    out = []
    for unit, points, reason, when in sorted(o.scores, key=lambda s: s[3]):
        if (points > 0) != bonus:
            continue
        label, _, text = reason.partition("：")
        head = unit if bonus else f"{unit}（{label}）"
        out.append(f"{head}：{text}（{md(when)}，{'加' if bonus else '扣'}{abs(points):g}分）")
    return out


def _table_rows(o: oracle.Oracle, table: list[list[str]]) -> None:
    header = table[0]
    assert header[:7] == ["单位", "应报", "到期", "按时", "逾期", "未完成", "按时率"]
    rows = {r[0]: r for r in table[1:]}
    for name, t in o.units.items():
        if not (t.assigned or t.red or t.blue or t.yellow):
            continue
        assert rows[name][1:10] == [str(t.assigned), str(t.due), str(t.on_time), str(t.late),
                                    str(t.outstanding), t.rate(), str(t.red), str(t.blue),
                                    str(t.yellow)], name
    total = o.total
    assert rows["合计"][1:10] == [str(total.assigned), str(total.due), str(total.on_time),
                                str(total.late), str(total.outstanding), total.rate(),
                                str(total.red), str(total.blue), str(total.yellow)]


# ---------------------------------------------------------------------------------- 通报


def test_reports_bulletin_document_figures(seeded: Seeded, tmp_path: Path) -> None:
    bid = seeded.tx(lambda c: bulletins.draft_weekly(c, seeded.env, DRAFTED,
                                                     notify_admins=False))
    made = seeded.tx(lambda c: docs.draft_bulletin(c, seeded.env, bid, actor=ACTOR, now=NOW,
                                                   out=tmp_path / "通报.docx"))
    assert made.info.status == "draft" and made.info.number is None
    _, text, tables = read(made.path)
    # The year until the draft (Friday 2 October, 17:00) in figures; the week (from Monday
    # 28 September) item by item; all of it as the records stand now.
    o = seeded.tx(lambda c: count(c, datetime(2026, 1, 1, tzinfo=TZ), DRAFTED, NOW))
    week = seeded.tx(lambda c: count(c, at("2026-09-28 00:00"), DRAFTED, NOW))
    f = Figures(text)
    assert (o.tasks, week.tasks) == (4, 1)
    f.has("2026年1月1日至10月2日，" + _completion(o.total, o.tasks) + _flags(o.total))
    f.has(_kinds(o))
    red = units_with(o, "red")
    f.has(f"以下{len(red)}个单位按时完成任务、成效显著，被标注红旗："
          + "、".join(f"{n}（红旗{c}面）" for n, c in red) + "。")
    innovations = _scores(o, bonus=True)
    assert len(innovations) == 2  # the incident of November is after the draft
    f.has(f"以下{len(innovations)}项创新举措被认定并加分：" + "；".join(innovations) + "。")
    yellow = units_with(o, "yellow")
    f.has(f"以下{len(yellow)}个单位未按时完成任务，被标注黄旗："
          + "、".join(f"{n}（黄旗{c}面）" for n, c in yellow) + "。")
    late_in = sum(1 for x in o.late if x.first_at is not None)
    missing = sorted(oracle.Counter(x.unit for x in o.late if x.first_at is None).items(),
                     key=lambda r: (-r[1], r[0]))
    f.has(f"2026年1月1日至10月2日，逾期报送{late_in}项，到期仍未报送{len(o.late) - late_in}项，"
          f"材料被退回{len(o.returns)}次；仍未报送较多的单位："
          + "、".join(f"{n}（{c}项）" for n, c in missing) + "。")
    f.has("本周（9月28日至10月2日）截止的任务中，逾期或被退回的情况如下：")
    by_unit: dict[str, list[str]] = {}
    for item in week.late:
        by_unit.setdefault(item.unit, []).append(late_phrase(item, NOW))
    for r in week.returns:
        by_unit.setdefault(r.unit, []).append(
            f"《{r.title}》第{r.version}版（{md(r.submitted_at)}报送）被退回，原因：{r.reason}")
    for unit, items in by_unit.items():
        f.has(f"{unit}：" + "；".join(items) + "。")
    assert "执法问题" not in text
    assert f.unchecked() == []
    # Named by hand from the seed, so that the oracle itself is checked too.
    assert "省司法厅：《三季度调研》（9月30日截止）逾期7天16小时报送。" in text
    assert "郑州市：《三季度调研》（9月30日截止）至12月31日仍未报送，已逾期91天18小时。" in text
    assert "省公安厅（红旗" not in text
    _table_rows(o, tables[0])


def test_reports_bulletin_refuses_a_letter_draft(seeded: Seeded) -> None:
    lid = seeded.tx(lambda c: bulletins.draft_letter(c, seeded.env, seeded.unit["洛阳市"], NOW))
    with pytest.raises(InvalidInput) as refused:
        seeded.tx(lambda c: docs.draft_bulletin(c, seeded.env, lid, actor=ACTOR, now=NOW))
    assert "不是进度通报" in refused.value.message


# ---------------------------------------------------------------------------------- 督导建议书


def _rectification_items(s: Seeded) -> dict[str, int]:
    """省司法厅's items in every state, and one of 开封市's and one of last year; their ids."""
    sft, made = s.unit["省司法厅"], at("2026-10-01 09:00")

    def fn(c: Connection) -> dict[str, int]:
        def add(key: str, due: str, unit: int = sft) -> int:
            ids[key] = rect_svc.add(c, unit_id=unit, text=f"整改{key}：台账补录到位。",
                                    due=at(due), actor="cli:test", now=made).id
            return ids[key]

        def report(rid: int) -> None:
            rect_svc.report(c, rid, unit_id=sft, person_id=None, text="已整改", now=made)

        ids: dict[str, int] = {}
        add("open", "2026-11-30 18:00")
        report(add("returned", "2026-12-10 18:00"))
        rect_svc.send_back(c, ids["returned"], reason="缺少附件。", actor="cli:test", now=made)
        add("pending", "2026-12-31 18:00")  # NOW is 12:00 that day: still within its time
        report(add("reported", "2026-11-01 18:00"))  # waits for review: not owed
        report(add("closed", "2026-10-20 18:00"))
        rect_svc.close(c, ids["closed"], actor="cli:test", now=made)
        add("last_year", "2025-12-01 18:00")
        add("other_unit", "2026-11-30 18:00", unit=s.unit["开封市"])
        return ids

    return s.tx(fn)  # type: ignore[no-any-return]


def test_reports_letter_names_flags_lateness_returns_and_demands(seeded: Seeded,
                                                                  tmp_path: Path) -> None:
    ids = _rectification_items(seeded)
    made = seeded.tx(lambda c: docs.draft_letter(c, seeded.env, "司法厅", actor=ACTOR, now=NOW,
                                                 out=tmp_path / "建议书.docx"))
    d, text, _ = read(made.path)
    o = seeded.tx(lambda c: count(c, datetime(2026, 1, 1, tzinfo=TZ),
                                  datetime(2027, 1, 1, tzinfo=TZ), NOW, unit="省司法厅"))
    t = o.total
    f = Figures(text)
    late_in = sum(1 for x in o.late if x.first_at is not None)
    f.has(f"2026年，你单位承担督导任务{t.assigned}项，其中已到截止时间{t.due}项；"
          f"按时报送{t.on_time_due}项，逾期报送{late_in}项，到期仍未报送{len(o.late) - late_in}项；"
          f"材料被退回{len(o.returns)}次；被标注黄旗{t.yellow}面。")
    flags = o.yellow_flags["省司法厅"]
    late_titles = {x.title for x in o.late}
    f.has(f"被标注黄旗{len(flags)}面")
    # Both flags are on late tasks: counted, and listed once, with the late work.
    assert {title for title, _, _ in flags} <= late_titles
    f.has(f"其中{len(flags)}面为任务逾期或未报送所记，逐项见“未按时报送”部分。")
    f.has(f"未按时报送{len(o.late)}项")
    for item in o.late:
        f.has(late_phrase(item, NOW))
    f.has(f"材料被退回{len(o.returns)}次")
    for r in o.returns:
        f.has(f"《{r.title}》第{r.version}版（{md(r.submitted_at)}报送）被退回，原因：{r.reason}")
    # Rectification items still owed: past their deadline (as the export counts them), then
    # the ones still within their time; reported, closed, last year's and 开封市's are not named.
    overdue, pending = seeded.tx(lambda c: owed_rectifications(
        c, datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ), NOW, "省司法厅"))
    assert [r.id for r in overdue] == [ids["open"], ids["returned"]]
    assert [r.id for r in pending] == [ids["pending"]]
    year = seeded.tx(lambda c: stats.year_stats(c, seeded.env, 2026, now=NOW))
    assert year.rect_overdue[seeded.unit["省司法厅"]] == len(overdue)

    def head(r: oracle.Rect) -> str:
        label = {"open": "待整改", "returned": "已退回"}[r.status]
        why = f"，退回原因：{r.reason.rstrip('。')}" if r.status == "returned" else ""
        return f"#R{r.id}“{r.text.rstrip('。')}”（{md(r.due)}截止，{label}{why}）"

    f.has(f"整改事项逾期未完成{len(overdue)}项")
    for r in overdue:
        again = "重新" if r.status == "returned" else ""
        f.has(f"{head(r)}至{md(NOW)}仍未{again}报送整改情况，已逾期{how_late(NOW - r.due)}。")
    f.has(f"另有整改事项{len(pending)}项尚在整改期限内：" + "；".join(head(r) for r in pending))
    for key in ("reported", "closed", "last_year", "other_unit"):
        assert f"#R{ids[key]}“" not in text, key
    assert f"#R{ids['returned']}“整改returned：台账补录到位”（12月10日截止，已退回，退回原因：缺少附件）" \
        "至12月31日仍未重新报送整改情况，已逾期20天18小时。" in text
    assert f.unchecked() == []
    assert "逾期3天10小时报送" in text and "逾期7天16小时报送" in text

    # Demands: the returned report to be redone, reasons explained; a reply deadline five
    # working days on (31 Dec 2026 is a Thursday; 1 Jan is a holiday): 2027年1月8日.
    reply = "2027年1月8日"
    assert f"按退回意见修改《一季度报告》，于{reply}前重新报送。" in text
    assert f"请于{reply}前将整改落实情况书面报送" in text
    demands = made.document.meta["demands"]
    assert [x["due"] for x in demands] == ["2027-01-08"] * len(demands)
    assert any("《一季度报告》" in x["text"] for x in demands)
    numbers = "、".join(f"#R{r.id}" for r in overdue)
    assert f"于{reply}前完成整改事项{numbers}的整改，并报送整改情况。" in [x["text"] for x in demands]
    assert made.document.meta["reply_by"] == "2027-01-08"
    assert "补报" not in text  # nothing is missing outright
    assert d.paragraphs[0].text == "河南省全面推进依法行政工作领导小组办公室文件"
    assert "省司法厅全面推进依法行政工作领导小组办公室：" in text


def test_reports_letter_lists_a_flag_not_on_late_work(seeded: Seeded, tmp_path: Path) -> None:
    made = seeded.tx(lambda c: docs.draft_letter(c, seeded.env, "开封市", actor=ACTOR, now=NOW,
                                                 out=tmp_path / "开封.docx"))
    _, text, _ = read(made.path)
    # 开封市's one yellow flag is the incident of 2 November (its late task's flag turned blue).
    assert "（一）被标注黄旗1面\n1.趋利执法：趋利执法，违规罚款（11月2日记录）。" in text


def test_reports_letter_for_a_unit_with_nothing_wrong_is_refused(seeded: Seeded) -> None:
    with pytest.raises(InvalidInput) as refused:
        seeded.tx(lambda c: docs.draft_letter(c, seeded.env, "中央驻豫甲单位", actor=ACTOR,
                                              now=NOW))
    assert refused.value.message == "中央驻豫甲单位2026年没有黄旗、逾期、退回或逾期整改记录，无需督导建议书"


def test_reports_letter_asks_for_missing_work(seeded: Seeded, tmp_path: Path) -> None:
    made = seeded.tx(lambda c: docs.draft_letter(c, seeded.env, "省公安厅", actor=ACTOR, now=NOW,
                                                 out=tmp_path / "公安厅.docx"))
    _, text, _ = read(made.path)
    # Its yellow flags are both on missing work; the third missing task's flag was turned blue.
    assert "其中2面为任务逾期或未报送所记" in text
    # 年初部署 and 一季度报告 never came (三季度调研 neither, but its flag was turned blue).
    assert "于2027年1月8日前补报《年初部署》《一季度报告》《三季度调研》等3项材料。" in text
    assert "《年初部署》（1月1日截止）至12月31日仍未报送，已逾期364天12小时" in text


# ---------------------------------------------------------------------------------- 半年报告


def test_reports_halfyear_document_figures(seeded: Seeded, tmp_path: Path) -> None:
    made = seeded.tx(lambda c: docs.draft_halfyear(c, seeded.env, "2026H1", actor=ACTOR, now=NOW,
                                                   out=tmp_path / "半年.docx"))
    _, text, tables = read(made.path)
    o = seeded.tx(lambda c: count(c, datetime(2026, 1, 1, tzinfo=TZ),
                                  datetime(2026, 7, 1, tzinfo=TZ), NOW))
    f = Figures(text)
    f.has("2026年上半年，" + _completion(o.total, o.tasks))
    f.has(_kinds(o))
    f.has(_flags(o.total))
    red = units_with(o, "red")
    f.has(f"{len(red)}个单位被标注红旗：" + "、".join(f"{n}（红旗{c}面）" for n, c in red) + "。")
    innovations = _scores(o, bonus=True)
    f.has(f"认定创新举措{len(innovations)}项：" + "；".join(innovations) + "。")
    repeated = units_with(o, "yellow", 2)
    f.has(f"{len(repeated)}个单位被标注黄旗2面及以上："
          + "、".join(f"{n}（黄旗{c}面）" for n, c in repeated) + "。")
    assert [n for n, _ in repeated] == ["洛阳市", "省公安厅"]
    late_in = sum(1 for x in o.late if x.first_at is not None)
    per_unit = sorted(oracle.Counter(x.unit for x in o.late).items(), key=lambda r: (-r[1], r[0]))
    f.has(f"逾期报送{late_in}项，到期仍未报送{len(o.late) - late_in}项，涉及{len(per_unit)}个单位，"
          "其中较多的是：" + "、".join(f"{n}（{c}项）" for n, c in per_unit) + "。")
    f.has(f"材料被退回{len(o.returns)}次，退回原因主要是："
          + "；".join(f"{r}（{n}次）" for r, n in oracle.reasons(o).most_common(5)) + "。")
    f.has("没有通报批评的执法问题。")  # the one incident is in November
    assert f.unchecked() == []
    _table_rows(o, tables[0])


def test_reports_yearly_section_figures(seeded: Seeded, tmp_path: Path) -> None:
    made = seeded.tx(lambda c: docs.draft_yearly(c, seeded.env, 2026, actor=ACTOR, now=NOW,
                                                 out=tmp_path / "年度.docx"))
    _, text, tables = read(made.path)
    assert tables == []  # a section of the office's own report: text only
    o = seeded.tx(lambda c: count(c, datetime(2026, 1, 1, tzinfo=TZ),
                                  datetime(2027, 1, 1, tzinfo=TZ), NOW))
    f = Figures(text)
    f.has("2026年，" + _completion(o.total, o.tasks))
    f.has(_kinds(o))
    f.has(_flags(o.total))
    red = units_with(o, "red")
    f.has(f"{len(red)}个单位被标注红旗：" + "、".join(f"{n}（红旗{c}面）" for n, c in red) + "。")
    innovations = _scores(o, bonus=True)
    f.has(f"认定创新举措{len(innovations)}项：" + "；".join(innovations) + "。")
    repeated = units_with(o, "yellow", 2)
    f.has(f"{len(repeated)}个单位被标注黄旗2面及以上："
          + "、".join(f"{n}（黄旗{c}面）" for n, c in repeated) + "。")
    late_in = sum(1 for x in o.late if x.first_at is not None)
    per_unit = sorted(oracle.Counter(x.unit for x in o.late).items(), key=lambda r: (-r[1], r[0]))
    f.has(f"逾期报送{late_in}项，到期仍未报送{len(o.late) - late_in}项，涉及{len(per_unit)}个单位，"
          "其中较多的是：" + "、".join(f"{n}（{c}项）" for n, c in per_unit) + "。")
    f.has(f"材料被退回{len(o.returns)}次，退回原因主要是："
          + "；".join(f"{r}（{n}次）" for r, n in oracle.reasons(o).most_common(5)) + "。")
    incidents = _scores(o, bonus=False)
    f.has(f"通报批评粗暴执法、野蛮执法、趋利执法等问题{len(incidents)}起：" + "；".join(incidents) + "。")
    assert f.unchecked() == []
    for heading in ("一、推进情况", "二、工作经验", "三、存在的问题"):
        assert heading in text.splitlines()

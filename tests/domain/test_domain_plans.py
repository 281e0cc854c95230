"""A plan file's rows: each read into a task or a series, or every problem with its column."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.plans import PlanItem, Problem, RowContext, column, duplicates, plan_year, read_row
from bot.domain.presets import FOUR_ONES, preset_name
from bot.domain.recurrence import Recurrence

TZ = ZoneInfo("Asia/Shanghai")


def units(text: str) -> tuple[int, ...]:
    known = {"all": (1, 2, 3), "各地市": (1, 2), "郑州市": (1,)}
    if text not in known:
        raise InvalidInput(f"找不到单位：{text}")
    return known[text]


CTX = RowContext(2027, TZ, time(18), 30, units)


def read(**values: object) -> tuple[PlanItem | None, list[str]]:
    item, problems = read_row(7, values, CTX)
    return item, [str(p) for p in problems]


def test_a_one_off_task() -> None:
    item, problems = read(title="执法证件年审材料", system="督促检查", due="2027-03-15",
                          units="各地市", requirements="盖章扫描件")
    assert problems == [] and item is not None
    assert (item.title, item.system, item.units, item.requirements) == (
        "执法证件年审材料", "supervision", (1, 2), "盖章扫描件")
    assert item.due == datetime(2027, 3, 15, 18, tzinfo=TZ) and item.series is None


@pytest.mark.parametrize(("raw", "due"), [
    ("2027-03-15 09:30", datetime(2027, 3, 15, 9, 30, tzinfo=TZ)),
    ("2027/3/15", datetime(2027, 3, 15, 18, tzinfo=TZ)),
    ("2027年3月15日", datetime(2027, 3, 15, 18, tzinfo=TZ)),
    ("3月15日", datetime(2027, 3, 15, 18, tzinfo=TZ)),  # the plan's year
    ("2027-03-15T18:00+08:00", datetime(2027, 3, 15, 18, tzinfo=TZ)),
    (datetime(2027, 3, 15), datetime(2027, 3, 15, 18, tzinfo=TZ)),  # an Excel date cell
    (date(2027, 3, 15), datetime(2027, 3, 15, 18, tzinfo=TZ)),
])
def test_deadlines_as_people_write_them(raw: object, due: datetime) -> None:
    item, problems = read(title="x", due=raw)
    assert problems == [] and item is not None and item.due == due


def test_a_period_alone_is_due_at_each_periods_end_from_the_plans_year() -> None:
    item, _ = read(title="调研指导记录", system="服务指导", repeat="每季度")
    assert item is not None and item.series is not None and item.rule is Recurrence.QUARTERLY
    firsts = [(str(i.period), i.due.date().isoformat()) for i in item.series.instances(
        datetime(2027, 12, 31, 23, tzinfo=TZ))]
    assert firsts == [("2027Q1", "2027-03-31"), ("2027Q2", "2027-06-30"),
                      ("2027Q3", "2027-09-30"), ("2027Q4", "2027-12-31")]
    assert item.series.lead_days == 30 and item.units == (1, 2, 3)  # empty scope: every unit


def test_a_period_with_a_deadline_counts_from_it() -> None:
    item, _ = read(title="工作月报", repeat="monthly", due="2027-01-10")
    assert item is not None and item.series is not None
    assert [i.due.day for i in item.series.instances(None, limit=3)] == [10, 10, 10]


def test_every_problem_of_a_row_with_its_column() -> None:
    item, problems = read(title="", system="督查组", due="2027-02-30", repeat="每两周",
                          units="火星市", requirements="x" * 5001)
    assert item is None
    assert problems[0] == "第 7 行（任务列）：缺少任务名称"
    assert [p.split("：", 1)[0] for p in problems] == [
        "第 7 行（任务列）", "第 7 行（体系列）", "第 7 行（要求列）", "第 7 行（截止列）",
        "第 7 行（周期列）", "第 7 行（范围列）"]
    assert "不是有效的日期" in problems[3] and "找不到单位：火星市" in problems[5]
    _, problems = read(title="没有时间的任务")
    assert problems == ["第 7 行（截止列）：截止和周期至少要填一项"]
    _, problems = read(title="x", due="下个月")
    assert problems == ["第 7 行（截止列）：截止“下个月”看不懂，应写作 2027-03-31 或 2027-03-31 18:00"]
    _, problems = read(title="x\x00", due="2027-03-01")
    assert problems == ["第 7 行（任务列）：含有控制字符"]


def test_the_same_work_twice_is_a_problem() -> None:
    a, _ = read_row(2, {"title": "月报", "repeat": "每月"}, CTX)
    b, _ = read_row(5, {"title": "月报", "repeat": "monthly"}, CTX)
    c, _ = read_row(6, {"title": "月报", "due": "2027-01-31"}, CTX)
    assert a and b and c
    assert duplicates([a, b, c]) == [Problem(5, "title", "“月报”与第 2 行重复")]


def test_headers_and_years() -> None:
    assert [column(h) for h in ("任务", "截止时间", " Due ", "周期", "责任单位", "要求", "备注")] == [
        "title", "due", "due", "repeat", "units", "requirements", None]
    assert (plan_year(2027), plan_year("2027年"), plan_year("明年"), plan_year(True)) == (
        2027, 2027, None, None)


def test_the_four_ones_preset() -> None:
    assert preset_name(" 四个一 ") == preset_name("four-ones") == "四个一"
    with pytest.raises(InvalidInput):
        preset_name("三个一")
    kinds = {t.kind: t for t in FOUR_ONES}
    assert set(kinds) == {"visit", "seminar", "training", "cases"}
    assert kinds["visit"].rule is Recurrence.QUARTERLY
    assert kinds["visit"].fields == ("时间", "地点", "发现问题", "典型经验")
    assert all(kinds[k].rule is Recurrence.YEARLY for k in ("seminar", "training", "cases"))

"""A yearly work plan's rows: what each says, and every problem with line and column.

A plan file (``dudao plan import``: TOML, CSV or xlsx) has one row per piece of work with the
columns 任务, 体系, 截止 or 周期, 范围, 要求:

- 任务 (required): the title;
- 体系: 服务指导, 情况交流, 督促检查 (the default) or 分析评价 (or their ids);
- 截止: the deadline (2027-03-31, 2027-03-31 18:00, 2027/3/31, 2027年3月31日, 3月31日; without a
  time of day, the configured ``due_time``); a date without a year is in the plan's year;
- 周期: 每月, 每季度, 每半年, 每年 — a series. With 截止 it is the first deadline and the
  others follow from it; without, each instance is due at the end of its period, from the
  plan year's first period;
- 范围: the units, in the scope words of the chat (全部, 各地市, 直管县, 省直部门, unit names…);
  empty means every unit;
- 要求: the requirements, shown with the task.

Rows are checked one by one and then across rows (the same work twice); every problem is kept,
so the person fixing the file sees them all at once. The caller imports nothing unless the
whole file is clean.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from types import MappingProxyType
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.recurrence import Recurrence, SeriesRule, parse_recurrence, period_of

COLUMNS: Final = ("title", "system", "due", "repeat", "units", "requirements")
LABELS: Final = MappingProxyType({"title": "任务", "system": "体系", "due": "截止",
                                  "repeat": "周期", "units": "范围", "requirements": "要求"})
MAX_TITLE: Final = 200
MAX_TEXT: Final = 5000
SYSTEMS: Final = ("guidance", "exchange", "supervision", "evaluation")
_HEADERS: Final = MappingProxyType({
    **{c: c for c in COLUMNS},
    **{label: c for c, label in LABELS.items()},
    "任务名称": "title", "工作任务": "title", "标题": "title", "名称": "title", "task": "title",
    "工作体系": "system", "所属体系": "system",
    "截止时间": "due", "截止日期": "due", "完成时限": "due", "时限": "due", "deadline": "due",
    "重复": "repeat", "频次": "repeat", "频率": "repeat", "recurrence": "repeat",
    "周期性": "repeat",
    "单位": "units", "责任单位": "units", "适用范围": "units", "scope": "units",
    "说明": "requirements", "材料要求": "requirements", "报送要求": "requirements",
    "工作要求": "requirements", "description": "requirements",
})
_SYSTEM_WORDS: Final = MappingProxyType({
    **{s: s for s in SYSTEMS},
    "服务指导": "guidance", "情况交流": "exchange", "督促检查": "supervision",
    "分析评价": "evaluation", "督导检查": "supervision", "指导": "guidance",
    "交流": "exchange", "督查": "supervision", "评价": "evaluation",
})
_DATE: Final = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时点]\s*(\d{2})?\s*分?)?")


def column(header: str) -> str | None:
    """The column a header names (任务, 截止时间, due…), None for one we do not read."""
    word = re.sub(r"[\s_-]+", "", header.strip().lower())
    return _HEADERS.get(word) or _HEADERS.get(header.strip().lower())


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem in the file: ``line`` (0: the file as a whole) and ``column`` (its key)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line > 0 else "文件"
        label = LABELS.get(self.column, self.column)
        return f"{where}（{label}列）：{self.message}" if label else f"{where}：{self.message}"


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A checked row: a task (``rule`` None, ``due`` its deadline) or a series."""

    line: int
    title: str
    system: str
    units: tuple[int, ...]
    requirements: str
    due: datetime | None = None
    rule: Recurrence | None = None
    series: SeriesRule | None = None


@dataclass(frozen=True, slots=True)
class RowContext:
    """What reading a row needs: the plan's year, the time zone, the default time of day, how
    many days ahead instances are created, and the scope vocabulary (text → unit ids, raising a
    :class:`DomainError` with the reason)."""

    year: int
    tz: tzinfo
    due_time: time
    lead_days: int
    units: Callable[[str], tuple[int, ...]]


def read_row(line: int, values: Mapping[str, object], ctx: RowContext
             ) -> tuple[PlanItem | None, list[Problem]]:
    """One row by column key (see :func:`column`): the item, or None and its problems."""
    problems: list[Problem] = []

    def text(key: str) -> str:
        value = values.get(key)
        if value is None:
            return ""
        if isinstance(value, datetime | date) and key == "due":
            return ""  # read by _deadline
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.append(Problem(line, key, "应为文字"))
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out = re.sub(r"[ \t\u3000]+", " ", str(value)).strip()
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in out):
            problems.append(Problem(line, key, "含有控制字符"))
            return ""
        return out

    title = text("title")
    if not title and not problems:
        problems.append(Problem(line, "title", "缺少任务名称"))
    elif len(title) > MAX_TITLE:
        problems.append(Problem(line, "title", f"任务名称太长（不超过 {MAX_TITLE} 字）"))
    system_text = text("system")
    system = _SYSTEM_WORDS.get(system_text.lower(), "") if system_text else "supervision"
    if not system:
        problems.append(Problem(line, "system",
                                f"体系“{system_text}”无效，应为 服务指导、情况交流、督促检查、分析评价 之一"))
    requirements = text("requirements")
    if len(requirements) > MAX_TEXT:
        problems.append(Problem(line, "requirements", f"要求太长（不超过 {MAX_TEXT} 字）"))
    due = _deadline(line, values.get("due"), text("due"), ctx, problems)
    rule = None
    try:
        rule = parse_recurrence(text("repeat"))
    except DomainError as exc:
        problems.append(Problem(line, "repeat", exc.message))
    if due is None and rule is None and not any(p.column in ("due", "repeat") for p in problems):
        problems.append(Problem(line, "due", "截止和周期至少要填一项"))
    scope = text("units")
    units: tuple[int, ...] = ()
    try:
        units = ctx.units(scope or "all")
        if not units:
            problems.append(Problem(line, "units", f"范围“{scope}”中没有任何单位"))
    except DomainError as exc:
        problems.append(Problem(line, "units", exc.message))
    if problems:
        return None, problems
    series = None
    if rule is not None:
        if due is not None:
            series = SeriesRule(rule, due, ctx.tz, lead_days=ctx.lead_days)
        else:
            first = period_of(date(ctx.year, 1, 1), rule)
            series = SeriesRule.period_ends(rule, first, ctx.due_time, ctx.tz,
                                            lead_days=ctx.lead_days)
    return PlanItem(line, title, system, units, requirements, due, rule, series), []


def duplicates(items: list[PlanItem]) -> list[Problem]:
    """The same work twice in one file (title and deadline, or title and period rule)."""
    seen: dict[tuple[str, object], int] = {}
    problems = []
    for item in items:
        key = (item.title, item.rule or item.due)
        if key in seen:
            problems.append(Problem(item.line, "title",
                                    f"“{item.title}”与第 {seen[key]} 行重复"))
        else:
            seen[key] = item.line
    return problems


def plan_year(value: object) -> int | None:
    """A plan file's own year (TOML ``year = 2027``), if it names one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}年?", value.strip()):
        return int(value.strip()[:4])
    return None


def _deadline(line: int, raw: object, text: str, ctx: RowContext,
              problems: list[Problem]) -> datetime | None:
    if isinstance(raw, datetime):  # an Excel date cell
        moment = raw if raw.tzinfo else raw.replace(tzinfo=ctx.tz)
        if raw.tzinfo is None and moment.time() == time(0):
            moment = datetime.combine(moment.date(), ctx.due_time, tzinfo=ctx.tz)
        return moment
    if isinstance(raw, date):
        return datetime.combine(raw, ctx.due_time, tzinfo=ctx.tz)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ctx.tz)
        if len(text) <= 10:  # a date alone
            moment = datetime.combine(moment.date(), ctx.due_time, tzinfo=moment.tzinfo)
        return moment
    except ValueError:
        pass
    m = _DATE.fullmatch(text)
    if m is None:
        problems.append(Problem(line, "due", f"截止“{text}”看不懂，应写作 2027-03-31 或 "
                                             "2027-03-31 18:00"))
        return None
    year = int(m.group(1)) if m.group(1) else ctx.year
    try:
        day = date(year, int(m.group(2)), int(m.group(3)))
        at = time(int(m.group(4)), int(m.group(5) or 0)) if m.group(4) else ctx.due_time
    except ValueError:
        problems.append(Problem(line, "due", f"截止“{text}”不是有效的日期或时间"))
        return None
    return datetime.combine(day, at, tzinfo=ctx.tz)

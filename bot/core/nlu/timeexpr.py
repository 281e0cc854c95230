"""Time expressions (今天, 本周, 下周五, 月底, 7月15日前, 国庆前, 三个工作日内 ...) as dates.

Everything is relative to ``today`` (the local date of the injected clock) and to an injected
``is_workday`` calendar, so results are exact at year ends and around holidays.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final

from bot.domain.text import cn_int

IsWorkday = Callable[[date], bool]

# Lunar festivals by Gregorian date (the holiday calendar itself comes from ``is_workday``).
_SPRING: Final = MappingProxyType(
    {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
     2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
     2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
     2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8)}
)
_MID_AUTUMN: Final = MappingProxyType(
    {2024: date(2024, 9, 17), 2025: date(2025, 10, 6), 2026: date(2026, 9, 25),
     2027: date(2027, 9, 15), 2028: date(2028, 10, 3), 2029: date(2029, 9, 22),
     2030: date(2030, 9, 12)}
)
_DRAGON_BOAT: Final = MappingProxyType(
    {2024: date(2024, 6, 10), 2025: date(2025, 5, 31), 2026: date(2026, 6, 19),
     2027: date(2027, 6, 9), 2028: date(2028, 5, 28), 2029: date(2029, 6, 16),
     2030: date(2030, 6, 5)}
)

_N = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_WD = r"([一二三四五六日天1-7])"
_BEFORE = r"(之前|以前|前|为止)?"
_AFTER = r"(之后|以后|后)?"

_PATTERNS: Final = tuple(
    (kind, re.compile(rx))
    for kind, rx in (
        ("ymd", r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*[日号]?" + _BEFORE),
        ("year_half", r"(20\d\d\s*年?|今年|明年|去年)\s*(上半年|下半年)"),
        ("year_abs", r"(20\d\d)\s*年(?!\s*\d{1,2}\s*[-月/.])(度)?"),
        ("md", _N + r"\s*月\s*" + _N + r"\s*[日号]?" + _BEFORE),
        # "本月20号前", "下个月5日": a day of a month named relative to this one
        ("month_rel_day", r"(下个|下|本|这个|这|上个|上)\s*月(?:份)?\s*" + _N + r"\s*[日号]" + _BEFORE),
        ("md_num", r"(?<![\d#])(\d{1,2})[./](\d{1,2})(?![\d./])" + _BEFORE),
        ("month_part", _N + r"\s*月\s*(底|末|初|中旬|上旬|下旬|中)" + _BEFORE),
        ("month", _N + r"\s*(?:月份|月)(?![\d一二三四五六七八九十日号底末初中上下])"),
        ("workdays", _N + r"\s*个?\s*工作日\s*(内|之内|以内)?"),
        ("days", _N + r"\s*(天|日)\s*(内|之内|以内)"),
        ("weeks", _N + r"\s*个?\s*(周|星期|礼拜)\s*(内|之内|以内)"),
        ("week_day", r"(下下|下个|下|本|这个|这|上个|上)?\s*(周|星期|礼拜)" + _WD + _BEFORE),
        ("weekend", r"(下个|下|本|这个|这)?周末" + _BEFORE),
        ("week", r"(下下|下个|下|本|这个|这|上个|上)\s*(周|星期|礼拜)"),
        ("day", r"(?<![月\d一二三四五六七八九十#第])" + _N + r"\s*[号日]" + _BEFORE),
        ("rel_day", r"(大后天|今天|今日|明天|明日|后天|昨天|昨日|前天)" + _BEFORE),
        ("month_rel", r"(下个|下|本|这个|这|上个|上)\s*月\s*(底|末|初|中)?" + _BEFORE),
        ("month_end", r"(月底|月末)" + _BEFORE),
        ("quarter_rel", r"(下个|下|本|这个|这|上个|上)\s*季度?\s*(末|底)?" + _BEFORE),
        ("quarter_end", r"(季度末|季末|季度底)" + _BEFORE),
        ("half", r"(上半年|下半年)"),
        ("year_end", r"(年底|年末)" + _BEFORE),
        ("year", r"(今年|本年度|本年|明年|去年)"),
        ("festival", r"(国庆节?|十一(?=假|前|后|长假|节|期间)|元旦|春节|过年|五一|劳动节|中秋节?|端午节?"
                     r"|(?<![\d一二两三四五六七八九十几个多半今明去本])年(?=前|后))"
                     r"(假期|期间|长假|之前|以前|前|之后|以后|后)?"),
    )
)

_WEEKDAY: Final = MappingProxyType(
    {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "7": 6,
     "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5}
)


@dataclass(frozen=True)
class TimeSpan:
    start: date | None
    end: date | None
    span: tuple[int, int]  # where it was found in the text


def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    idx = y * 12 + (m - 1) + k
    return idx // 12, idx % 12 + 1


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def nearest_md(today: date, m: int, d: int, *, future: bool) -> date | None:
    """A month-day without a year: the occurrence nearest to today (or the next one)."""
    options = [x for y in (today.year - 1, today.year, today.year + 1)
               if (x := _safe_date(y, m, d)) is not None]
    if not options:
        return None
    if future:
        later = [x for x in options if x >= today]
        return min(later) if later else None
    return min(options, key=lambda x: abs((x - today).days))


def nth_workday_after(today: date, n: int, is_workday: IsWorkday) -> date:
    d = today
    count = 0
    for _ in range(400):
        if count >= n:
            break
        d += timedelta(days=1)
        if is_workday(d):
            count += 1
    return d


def _festival_date(name: str, year: int) -> date | None:
    if name.startswith("国庆") or name.startswith("十一"):
        return date(year, 10, 1)
    if name == "元旦":
        return date(year, 1, 1)
    if name in ("五一", "劳动节"):
        return date(year, 5, 1)
    if name in ("春节", "过年", "年"):
        return _SPRING.get(year)
    if name.startswith("中秋"):
        return _MID_AUTUMN.get(year)
    if name.startswith("端午"):
        return _DRAGON_BOAT.get(year)
    return None


def _festival(name: str, when: str, today: date, is_workday: IsWorkday) -> tuple[
        date | None, date | None] | None:
    fest = None
    for y in (today.year, today.year + 1):
        d = _festival_date(name, y)
        if d is not None and d >= today - timedelta(days=10):
            fest = d
            break
    if fest is None:
        return None
    if when in ("前", "之前", "以前"):
        d = fest - timedelta(days=1)
        for _ in range(30):
            if is_workday(d):
                break
            d -= timedelta(days=1)
        return (today, d) if d >= today else (d, d)
    if when in ("后", "之后", "以后"):
        d = fest
        for _ in range(30):
            if is_workday(d):
                break
            d += timedelta(days=1)
        return (d, None)
    start = end = fest
    if not is_workday(fest):
        for _ in range(30):
            if is_workday(start - timedelta(days=1)):
                break
            start -= timedelta(days=1)
        for _ in range(30):
            if is_workday(end + timedelta(days=1)):
                break
            end += timedelta(days=1)
    return (start, end)


def _week_start(today: date, rel: str) -> date:
    monday = today - timedelta(days=today.weekday())
    if rel.startswith("下下"):
        return monday + timedelta(days=14)
    if rel.startswith("下"):
        return monday + timedelta(days=7)
    if rel.startswith("上"):
        return monday - timedelta(days=7)
    return monday


def _before(point: date, today: date, before: str | None) -> tuple[date | None, date | None]:
    if before and point >= today:
        return (today, point)
    return (point, point)


def _quarter(today: date, k: int) -> tuple[date, date]:
    q0 = (today.month - 1) // 3
    y, m = _add_months(today.year, q0 * 3 + 1, 3 * k)
    y2, m2 = _add_months(y, m, 2)
    return date(y, m, 1), month_end(y2, m2)


def quarter_range(year: int, q: int) -> tuple[date, date]:
    return date(year, 3 * q - 2, 1), month_end(year, 3 * q)


def _resolve(kind: str, g: tuple[str | None, ...], today: date, is_workday: IsWorkday,
             future: bool) -> tuple[date | None, date | None] | None:
    if kind == "ymd":
        d = _safe_date(int(g[0] or 0), int(g[1] or 0), int(g[2] or 0))
        return None if d is None else _before(d, today, g[3])
    if kind in ("md", "md_num"):
        m, dd = cn_int(g[0] or ""), cn_int(g[1] or "")
        if m is None or dd is None:
            return None
        d = nearest_md(today, m, dd, future=future)
        return None if d is None else _before(d, today, g[2])
    if kind == "year_half":
        years = {"今年": today.year, "明年": today.year + 1, "去年": today.year - 1}
        y = years.get(g[0] or "", 0) or int((g[0] or "0").rstrip("年 "))
        return (date(y, 1, 1), date(y, 6, 30)) if g[1] == "上半年" else (date(y, 7, 1),
                                                                          date(y, 12, 31))
    if kind == "year_abs":
        y = int(g[0] or 0)
        return (date(y, 1, 1), date(y, 12, 31))
    if kind == "month_part":
        m = cn_int(g[0] or "")
        if m is None or not 1 <= m <= 12:
            return None
        y = today.year if m >= today.month - 6 else today.year + 1
        part = g[1] or ""
        last = month_end(y, m)
        if part in ("底", "末"):
            return (today, last) if last >= today else (last, last)
        ranges = {"初": (1, 10), "上旬": (1, 10), "中": (11, 20), "中旬": (11, 20),
                  "下旬": (21, last.day)}
        a, b = ranges[part]
        end = date(y, m, b)
        return (today, end) if g[2] and end >= today else (date(y, m, a), end)
    if kind == "month":
        m = cn_int(g[0] or "")
        if m is None or not 1 <= m <= 12:
            return None
        y = today.year if m >= today.month - 6 else today.year + 1
        return (date(y, m, 1), month_end(y, m))
    if kind == "workdays":
        n = cn_int(g[0] or "")
        return None if not n else (today, nth_workday_after(today, n, is_workday))
    if kind == "days":
        n = cn_int(g[0] or "")
        return None if not n else (today, today + timedelta(days=n))
    if kind == "weeks":
        n = cn_int(g[0] or "")
        return None if not n else (today, today + timedelta(days=7 * n))
    if kind == "week_day":
        start = _week_start(today, g[0] or "")
        d = start + timedelta(days=_WEEKDAY[g[2] or "一"])
        if not g[0] and g[3] and d < today:
            d += timedelta(days=7)
        return _before(d, today, g[3])
    if kind == "weekend":
        start = _week_start(today, g[0] or "")
        sat = start + timedelta(days=5)
        return (today, sat + timedelta(days=1)) if g[1] else (sat, sat + timedelta(days=1))
    if kind == "week":
        start = _week_start(today, g[0] or "")
        return (start, start + timedelta(days=6))
    if kind == "day":
        dd = cn_int(g[0] or "")
        if dd is None or not 1 <= dd <= 31:
            return None
        d = _safe_date(today.year, today.month, dd)
        if d is None or d < today - timedelta(days=7):
            y, m = _add_months(today.year, today.month, 1)
            d = _safe_date(y, m, dd)
        return None if d is None else _before(d, today, g[1])
    if kind == "rel_day":
        offset = {"大后天": 3, "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2,
                  "昨天": -1, "昨日": -1, "前天": -2}[g[0] or "今天"]
        return _before(today + timedelta(days=offset), today, g[1])
    if kind == "month_rel_day":
        rel = g[0] or ""
        k = 1 if rel.startswith("下") else -1 if rel.startswith("上") else 0
        y, m = _add_months(today.year, today.month, k)
        dd = cn_int(g[1] or "")
        d = _safe_date(y, m, dd) if dd is not None else None
        return None if d is None else _before(d, today, g[2])
    if kind == "month_rel":
        rel = g[0] or ""
        k = 1 if rel.startswith("下") else -1 if rel.startswith("上") else 0
        y, m = _add_months(today.year, today.month, k)
        last = month_end(y, m)
        mpart = g[1] or ""
        if mpart in ("底", "末"):
            return (today, last) if last >= today else (last, last)
        if mpart == "初":
            return (date(y, m, 1), date(y, m, 10))
        if mpart == "中":
            return (date(y, m, 11), date(y, m, 20))
        return (date(y, m, 1), last) if not g[2] or last < today else (today, last)
    if kind == "month_end":
        return (today, month_end(today.year, today.month))
    if kind == "quarter_rel":
        rel = g[0] or ""
        k = 1 if rel.startswith("下") else -1 if rel.startswith("上") else 0
        qa, qb = _quarter(today, k)
        return (today, qb) if (g[1] or g[2]) and qb >= today else (qa, qb)
    if kind == "quarter_end":
        return (today, _quarter(today, 0)[1])
    if kind == "half":
        if g[0] == "上半年":
            return (date(today.year, 1, 1), date(today.year, 6, 30))
        return (date(today.year, 7, 1), date(today.year, 12, 31))
    if kind == "year_end":
        return (today, date(today.year, 12, 31))
    if kind == "year":
        y = today.year + {"明年": 1, "去年": -1}.get(g[0] or "", 0)
        return (date(y, 1, 1), date(y, 12, 31))
    if kind == "festival":
        return _festival(g[0] or "", g[1] or "", today, is_workday)
    return None


def find_time(text: str, today: date, is_workday: IsWorkday, *,
              future: bool = False) -> TimeSpan | None:
    """The first time expression in ``text`` (normalised), or a range ``A到B``."""
    found: list[tuple[int, int, tuple[date | None, date | None]]] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(text):
            a, b = m.span()
            if any(a < y and x < b for x, y in taken):
                continue
            r = _resolve(kind, m.groups(), today, is_workday, future)
            if r is not None:
                found.append((a, b, r))
                taken.append((a, b))
    if not found:
        return None
    found.sort()
    a, b, (start, end) = found[0]
    if len(found) > 1:
        a2, b2, (s2, e2) = found[1]
        between = text[b:a2].strip()
        if between in ("到", "至", "-", "~", "—", "一"):
            return TimeSpan(start, e2 if e2 is not None else s2, (a, b2))
    return TimeSpan(start, end, (a, b))


_CLOCK: Final = re.compile(
    r"^\s*(上午|下午|晚上|中午|早上|早)?\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:点|时|:)"
    r"\s*(\d{2}|半)?\s*分?"
)


def find_clock(text: str) -> tuple[int, int, int] | None:
    """A time of day at the start of ``text``: (hour, minute, length)."""
    m = _CLOCK.match(text)
    if m is None:
        return None
    h = cn_int(m.group(2))
    if h is None or h > 23:
        return None
    if m.group(1) in ("下午", "晚上") and h < 12:
        h += 12
    if m.group(1) == "中午" and h < 6:
        h += 12
    mm = m.group(3)
    minute = 30 if mm == "半" else int(mm) if mm else 0
    return (h, min(minute, 59), m.end())

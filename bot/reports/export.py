"""The yearly statistics workbook (``dudao export --year Y --out F.xlsx``, DESIGN §5).

Three sheets, each ready to print (title, styled header repeated on every page, landscape,
fitted to the page width, frozen header): 年度统计 (per unit), 任务完成情况 (per task) and
半年报告 (H1 and H2); a fourth, 周期性任务, when the year has recurring work (series: the
plan's 周期 rows, 四个一): per unit and period, whether each instance was done. The numbers come from bot/services/stats.py, read in one transaction;
no SQL here. The file is written next to its destination and renamed into place, so a reader
never sees half a workbook and a failed export leaves an earlier file untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.periods import parse_year
from bot.services import stats as stats_svc
from bot.services.stats import Completion, FlagCounts, HalfYearReport, YearStats
from bot.services.tasks import SYSTEM_NAMES
from bot.services.units import KIND_NAMES

log = logging.getLogger("dudao.reports.export")

Progress = Callable[[str], None]

STATUS_NAMES = {"open": "进行中", "closed": "已关闭", "cancelled": "已撤销"}

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TITLE_FONT = Font(name="宋体", size=16, bold=True)
_NOTE_FONT = Font(name="宋体", size=9, color="555555")
_HEAD_FONT = Font(name="宋体", size=11, bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
_SECTION_FONT = Font(name="宋体", size=12, bold=True)
_SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
_BODY_FONT = Font(name="宋体", size=10)
_TOTAL_FONT = Font(name="宋体", size=10, bold=True)
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_FLAG_FILLS = {"红旗": PatternFill("solid", fgColor="F8CBAD"),
               "蓝旗": PatternFill("solid", fgColor="BDD7EE"),
               "黄旗": PatternFill("solid", fgColor="FFE699")}
# Cells get a named style (one assignment) rather than font, fill, border and alignment one by
# one: openpyxl hashes every style object assigned, which made the styling of 2,000 task rows
# cost seconds.
STYLE_HEAD = "dudao-head"
STYLE_BODY = "dudao-body"
STYLE_BODY_LEFT = "dudao-body-left"
STYLE_TOTAL = "dudao-total"
STYLE_TOTAL_LEFT = "dudao-total-left"
RATE_FORMAT = "0.0%"
POINTS_FORMAT = "0.00"
TIME_FORMAT = "yyyy-mm-dd hh:mm"

SHEET_UNITS = "年度统计"
SHEET_TASKS = "任务完成情况"
SHEET_HALVES = "半年报告"
SHEET_PLAN = "周期性任务"
SHEET_SITES = "示范点"
SHEET_RECTIFY = "整改事项"
TOTAL_LABEL = "合计"

# (header, width) per column. Tests and readers find columns by header, not by position.
UNIT_COLUMNS: tuple[tuple[str, float], ...] = (
    ("排名", 6), ("单位", 22), ("类别", 12), ("应报任务", 9), ("已到期", 8), ("已报送", 8),
    ("按时报送", 9), ("逾期报送", 9), ("已通过", 8), ("退回待改", 9), ("未完成", 8),
    ("按时率", 9), ("红旗", 7), ("蓝旗", 7), ("黄旗", 7), ("旗帜得分", 9), ("加分", 8),
    ("减分", 8), ("总分", 9),
)
TASK_COLUMNS: tuple[tuple[str, float], ...] = (
    ("编号", 7), ("任务", 40), ("工作体系", 10), ("截止时间", 17), ("状态", 8), ("应报单位", 9),
    ("已报送", 8), ("按时报送", 9), ("逾期报送", 9), ("已通过", 8), ("退回待改", 9),
    ("未完成", 8), ("按时率", 9), ("红旗", 7), ("蓝旗", 7), ("黄旗", 7),
)


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    year: int
    units: int
    tasks: int
    totals: dict[str, Any]
    seconds: float


# ---------------------------------------------------------------------------------- cells


def _local_naive(env: ServiceEnv, moment: datetime) -> datetime:
    # Excel has no time zones: write the service's local wall time.
    return env.local(moment).replace(tzinfo=None)


def _rate(c: Completion) -> float | str:
    r = c.on_time_rate
    return "—" if r is None else round(r, 4)


def _completion_cells(c: Completion) -> list[Any]:
    return [c.submitted, c.on_time, c.late, c.accepted, c.returned, c.outstanding, _rate(c)]


def _flag_cells(f: FlagCounts) -> list[Any]:
    return [f.red, f.blue, f.yellow]


def _add_styles(wb: Workbook) -> None:
    for name, font, fill, align in (
        (STYLE_HEAD, _HEAD_FONT, _HEAD_FILL, _CENTER),
        (STYLE_BODY, _BODY_FONT, None, _CENTER),
        (STYLE_BODY_LEFT, _BODY_FONT, None, _LEFT),
        (STYLE_TOTAL, _TOTAL_FONT, _TOTAL_FILL, _CENTER),
        (STYLE_TOTAL_LEFT, _TOTAL_FONT, _TOTAL_FILL, _LEFT),
    ):
        style = NamedStyle(name=name, font=font, border=_BORDER, alignment=align)
        if fill is not None:
            style.fill = fill
        wb.add_named_style(style)


def _title(ws: Worksheet, title: str, note: str, ncols: int) -> None:
    ws.cell(row=1, column=1, value=title).font = _TITLE_FONT
    ws.cell(row=1, column=1).alignment = _CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws.row_dimensions[1].height = 30
    ws.cell(row=2, column=1, value=note).font = _NOTE_FONT
    ws.cell(row=2, column=1).alignment = _LEFT
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)
    ws.row_dimensions[2].height = 30


def _header(ws: Worksheet, row: int, columns: Sequence[tuple[str, float]]) -> None:
    for index, (name, width) in enumerate(columns, 1):
        ws.cell(row=row, column=index, value=name).style = STYLE_HEAD
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.row_dimensions[row].height = 22


def _row(ws: Worksheet, row: int, values: Sequence[Any], *, formats: dict[int, str],
         total: bool = False, left: Sequence[int] = ()) -> None:
    for index, value in enumerate(values, 1):
        cell = ws.cell(row=row, column=index, value=value)
        if total:
            cell.style = STYLE_TOTAL_LEFT if index in left else STYLE_TOTAL
        else:
            cell.style = STYLE_BODY_LEFT if index in left else STYLE_BODY
        fmt = formats.get(index)
        if fmt and isinstance(value, int | float | datetime):
            cell.number_format = fmt


# A typed-in cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_stays_text(wb: Workbook) -> None:
    """Every string is written as a string: names, titles and reasons come from people (a CSV
    import, the CLI, 发布任务 in chat), and openpyxl stores a string starting with ``=`` as a
    live formula (``<f>``) and ``#N/A`` as an error. Text that would read as a formula when the
    cell is edited also gets Excel's quote prefix. Done once over the finished workbook, so no
    cell written by any sheet can miss it."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    cell.data_type = "s"
                    if value.startswith(FORMULA_STARTS):
                        cell.quotePrefix = True


def _print_setup(ws: Worksheet, header_rows: str, last_col: int, freeze: str | None) -> None:
    ws.print_title_rows = header_rows
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if freeze:
        ws.freeze_panes = freeze
    ws.print_area = f"A1:{get_column_letter(last_col)}{max(ws.max_row, 3)}"


def _column(columns: Sequence[tuple[str, float]], name: str) -> int:
    return [c for c, _ in columns].index(name) + 1


# ---------------------------------------------------------------------------------- sheets


def _scoring_note(env: ServiceEnv) -> str:
    w = stats_svc.weights_of(env)
    return f"计分：红旗 {w.red:g} 分，蓝旗 {w.blue:g} 分，黄旗 {w.yellow:g} 分，另计创新加分和执法问题减分"


def _unit_sheet(ws: Worksheet, env: ServiceEnv, data: YearStats) -> None:
    cols = UNIT_COLUMNS
    _title(ws, f"{data.year}年度督导工作统计表（各单位）",
           f"统计范围：截止时间在 {data.year} 年内的任务，以及当年记录的创新举措和执法问题；"
           f"数据截至 {_local_naive(env, data.as_of):%Y-%m-%d %H:%M}。按时率 = 按时报送 ÷ 已到期任务。"
           + _scoring_note(env), len(cols))
    _header(ws, 3, cols)
    formats = {_column(cols, "按时率"): RATE_FORMAT,
               **{_column(cols, n): POINTS_FORMAT for n in ("旗帜得分", "加分", "减分", "总分")}}
    left = (_column(cols, "单位"),)
    row = 4
    for u in data.units:
        c, s = u.completion, u.score
        _row(ws, row, [u.rank, u.name, KIND_NAMES.get(u.kind, u.kind), c.assigned, c.due,
                       *_completion_cells(c), *_flag_cells(u.flags), s.flag_points, s.bonus,
                       s.deduction, s.total], formats=formats, left=left)
        row += 1
    comp, flags, bonus, deduction = data.unit_totals
    flag_points = round(sum(u.score.flag_points for u in data.units), 2)
    score = round(sum(u.score.total for u in data.units), 2)
    _row(ws, row, ["", TOTAL_LABEL, f"{len(data.units)} 个单位", comp.assigned, comp.due,
                   *_completion_cells(comp), *_flag_cells(flags), flag_points, bonus, deduction,
                   score], formats=formats, total=True, left=left)
    _print_setup(ws, "1:3", len(cols), "C4")


def _task_sheet(ws: Worksheet, env: ServiceEnv, data: YearStats) -> None:
    cols = TASK_COLUMNS
    _title(ws, f"{data.year}年度督导任务完成情况表",
           f"统计范围：截止时间在 {data.year} 年内的任务；数据截至 "
           f"{_local_naive(env, data.as_of):%Y-%m-%d %H:%M}。按时、逾期以各单位第一次报送的时间计；"
           "未完成 = 未报送 + 退回待改；旗帜为各单位当前的旗帜。", len(cols))
    _header(ws, 3, cols)
    formats = {_column(cols, "截止时间"): TIME_FORMAT, _column(cols, "按时率"): RATE_FORMAT}
    left = (_column(cols, "任务"),)
    row = 4
    for t in data.tasks:
        c = t.completion
        _row(ws, row, [t.task_id, t.title, SYSTEM_NAMES.get(t.system, t.system),
                       _local_naive(env, t.due), STATUS_NAMES.get(t.status, t.status),
                       c.assigned, *_completion_cells(c), *_flag_cells(t.flags)],
             formats=formats, left=left)
        row += 1
    comp, flags = data.task_totals
    _row(ws, row, ["", TOTAL_LABEL, f"{len(data.tasks)} 项任务", "", "", comp.assigned,
                   *_completion_cells(comp), *_flag_cells(flags)],
         formats=formats, total=True, left=left)
    _print_setup(ws, "1:3", len(cols), "C4")


def _section(ws: Worksheet, row: int, label: str, ncols: int) -> int:
    cell = ws.cell(row=row, column=1, value=label)
    cell.font, cell.fill, cell.alignment = _SECTION_FONT, _SECTION_FILL, _LEFT
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
    ws.row_dimensions[row].height = 22
    return row + 1


def _list_block(ws: Worksheet, row: int, heading: str, header: Sequence[str],
                rows: Sequence[Sequence[Any]], formats: dict[int, str] | None = None) -> int:
    ws.cell(row=row, column=1, value=heading).font = _TOTAL_FONT
    row += 1
    for index, name in enumerate(header, 1):
        ws.cell(row=row, column=index, value=name).style = STYLE_HEAD
    row += 1
    if not rows:
        _row(ws, row, ["无", *[""] * (len(header) - 1)], formats={})
        return row + 2
    for values in rows:
        _row(ws, row, values, formats=formats or {}, left=(1, 3))
        row += 1
    return row + 1


def _half_block(ws: Worksheet, env: ServiceEnv, row: int, h: HalfYearReport) -> int:
    row = _section(ws, row, f"{h.label}督导工作情况（截止时间在 "
                            f"{_local_naive(env, h.window.start):%Y-%m-%d} 至 "
                            f"{_local_naive(env, h.window.end):%Y-%m-%d} 前的任务）", 4)
    c = h.completion
    figures: list[tuple[str, Any]] = [
        ("到期任务数", h.tasks), ("应报单位次", c.assigned), ("已到期", c.due),
        ("已报送", c.submitted), ("按时报送", c.on_time), ("逾期报送", c.late),
        ("已通过", c.accepted), ("退回待改", c.returned), ("未完成", c.outstanding),
        ("按时率", _rate(c)), ("红旗", h.flags.red), ("蓝旗", h.flags.blue),
        ("黄旗", h.flags.yellow),
    ]
    for index, name in enumerate(("指标", "数值"), 1):
        ws.cell(row=row, column=index, value=name).style = STYLE_HEAD
    row += 1
    for name, value in figures:
        _row(ws, row, [name, value], formats={2: RATE_FORMAT} if name == "按时率" else {},
             left=(1,))
        if name in _FLAG_FILLS:
            ws.cell(row=row, column=1).fill = _FLAG_FILLS[name]
        row += 1
    row += 1
    row = _list_block(ws, row, f"多次记黄旗的单位（{stats_svc.REPEATED_YELLOW} 面及以上）",
                      ("单位", "黄旗"), [(u.name, u.count) for u in h.repeated_yellow])
    row = _list_block(ws, row, "表扬单位（获红旗）", ("单位", "红旗"),
                      [(u.name, u.count) for u in h.commended])
    row = _list_block(ws, row, "创新举措", ("单位", "加分", "说明"),
                      [(s.unit, s.points, s.reason) for s in h.innovations], {2: POINTS_FORMAT})
    row = _list_block(ws, row, "执法问题", ("单位", "减分", "说明"),
                      [(s.unit, -s.points, s.reason) for s in h.incidents], {2: POINTS_FORMAT})
    return row + 1


def _half_sheet(ws: Worksheet, env: ServiceEnv, data: YearStats) -> None:
    _title(ws, f"{data.year}年督导工作半年报告",
           f"数据截至 {_local_naive(env, data.as_of):%Y-%m-%d %H:%M}；"
           "多次记黄旗的单位按督导建议书的标准列出。", 4)
    for letter, width in zip("ABCD", (34, 12, 60, 10), strict=True):
        ws.column_dimensions[letter].width = width
    row = 4
    for h in data.halves:
        row = _half_block(ws, env, row, h)
    _print_setup(ws, "1:2", 4, None)
    ws.page_setup.orientation = "portrait"


# A plan cell as words (the board's plan view says the same).
PLAN_STATES = {"accepted": "已通过", "received": "待审核", "returned": "退回待改",
               "owed": "未报送", "overdue": "逾期未报", "upcoming": "未开始",
               "cancelled": "已撤销"}
_PLAN_FILLS = {"overdue": PatternFill("solid", fgColor="FFE699"),
               "returned": PatternFill("solid", fgColor="F8CBAD"),
               "accepted": PatternFill("solid", fgColor="E2EFDA")}


def _plan_sheet(ws: Worksheet, env: ServiceEnv, grid: stats_svc.PlanGrid) -> None:
    cols: list[tuple[str, float]] = [("单位", 22), ("类别", 10), ("已报送", 8), ("已到期", 8),
                                     ("全年期数", 9)]
    cols += [(f"{c.label}{c.title}" if c.quarter else f"全年{c.title}", 14) for c in grid.columns]
    _title(ws, f"{grid.year}年度周期性任务完成情况表",
           f"每期任务（如每季度的调研指导记录）按单位列出；已报送 = 已报送且未被退回的期数，"
           f"已到期 = 截止时间已过的期数；数据截至 {_local_naive(env, grid.as_of):%Y-%m-%d %H:%M}。",
           len(cols))
    _header(ws, 3, cols)
    row = 4
    for u in grid.units:
        states = []
        for index in range(len(grid.columns)):
            cell = grid.cell(u.unit_id, index)
            states.append("" if cell is None else cell.shown)
        _row(ws, row, [u.name, KIND_NAMES.get(u.kind, u.kind), u.done, u.due, u.total,
                       *(PLAN_STATES.get(k, "") for k in states)], formats={}, left=(1,))
        for offset, key in enumerate(states):
            if key in _PLAN_FILLS:
                ws.cell(row=row, column=len(cols) - len(states) + offset + 1).fill = \
                    _PLAN_FILLS[key]
        row += 1
    _row(ws, row, [TOTAL_LABEL, f"{len(grid.units)} 个单位", sum(u.done for u in grid.units),
                   sum(u.due for u in grid.units), sum(u.total for u in grid.units),
                   *[""] * len(grid.columns)], formats={}, total=True, left=(1,))
    _print_setup(ws, "1:3", len(cols), "B4")


SITE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("编号", 7), ("单位", 18), ("示范点", 30), ("简介", 36), ("状态", 12), ("验收结论", 30),
    ("培育记录", 9), ("验收时间", 17),
)
RECT_COLUMNS: tuple[tuple[str, float], ...] = (
    ("编号", 7), ("单位", 18), ("整改要求", 40), ("来源", 10), ("整改期限", 17), ("状态", 10),
    ("逾期未完成", 10), ("报送时间", 17), ("销号时间", 17),
)


def _sites_sheet(ws: Worksheet, env: ServiceEnv, data: YearStats) -> None:
    """The year's candidates, the accepted ones (the year's list) first."""
    cols = SITE_COLUMNS
    accepted = [s for s in data.sites if s.status == "accepted"]
    _title(ws, f"{data.year}年度示范点名单及培育情况",
           f"验收通过 {len(accepted)} 个，共申报 {len(data.sites)} 个；验收通过的列在前面。", len(cols))
    _header(ws, 3, cols)
    formats = {_column(cols, "验收时间"): TIME_FORMAT}
    left = (_column(cols, "示范点"), _column(cols, "简介"), _column(cols, "验收结论"))
    row = 4
    for s in sorted(data.sites, key=lambda s: (s.status != "accepted", s.id)):
        _row(ws, row, [s.id, s.unit, s.name, s.description, s.label, s.reason, s.records,
                       _local_naive(env, s.decided_at) if s.decided_at else ""],
             formats=formats, left=left)
        row += 1
    _print_setup(ws, "1:3", len(cols), "C4")


def _rect_sheet(ws: Worksheet, env: ServiceEnv, data: YearStats) -> None:
    """Each item due in the year, then per unit how many are still owed past their deadline."""
    cols = RECT_COLUMNS
    items = data.rectifications
    overdue = data.rect_overdue
    closed = sum(1 for i in items if i.status == "closed")
    _title(ws, f"{data.year}年度整改事项完成情况表",
           f"统计范围：整改期限在 {data.year} 年内的整改事项；数据截至 "
           f"{_local_naive(env, data.as_of):%Y-%m-%d %H:%M}。逾期未完成 = 期限已过仍未报送整改"
           "情况（或被退回）的事项，按未按时完成计。", len(cols))
    _header(ws, 3, cols)
    formats = {_column(cols, n): TIME_FORMAT for n in ("整改期限", "报送时间", "销号时间")}
    left = (_column(cols, "整改要求"),)
    row = 4
    for i in items:
        source = f"抽查{i.check_id}" if i.check_id else ("督导建议书" if i.document_id else "督导发现")
        _row(ws, row, [f"R{i.id}", i.unit, i.text, source, _local_naive(env, i.due), i.label,
                       "是" if i.overdue(data.as_of) else "",
                       _local_naive(env, i.reported_at) if i.reported_at else "",
                       _local_naive(env, i.closed_at) if i.closed_at else ""],
             formats=formats, left=left)
        row += 1
    _row(ws, row, ["", TOTAL_LABEL, f"{len(items)} 项，已销号 {closed} 项", "", "", "",
                   sum(overdue.values()), "", ""], formats={}, total=True, left=left)
    row += 2
    names = {i.unit_id: i.unit for i in items}
    for uid, n in sorted(overdue.items(), key=lambda kv: (-kv[1], names[kv[0]])):
        _row(ws, row, ["", names[uid], f"逾期未完成 {n} 项", "", "", "", n, "", ""],
             formats={}, left=left)
        row += 1
    _print_setup(ws, "1:3", len(cols), "C4")


def build_workbook(env: ServiceEnv, data: YearStats, progress: Progress | None = None) -> Workbook:
    """The workbook for ``data``; pure (no database, no file)."""
    say = progress or (lambda _stage: None)
    wb = Workbook()
    _add_styles(wb)
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_UNITS
    say("写入年度统计")
    _unit_sheet(ws, env, data)
    say("写入任务完成情况")
    _task_sheet(wb.create_sheet(SHEET_TASKS), env, data)
    say("写入半年报告")
    _half_sheet(wb.create_sheet(SHEET_HALVES), env, data)
    if data.plan is not None:
        say("写入周期性任务")
        _plan_sheet(wb.create_sheet(SHEET_PLAN), env, data.plan)
    if data.sites:
        say("写入示范点")
        _sites_sheet(wb.create_sheet(SHEET_SITES), env, data)
    if data.rectifications:
        say("写入整改事项")
        _rect_sheet(wb.create_sheet(SHEET_RECTIFY), env, data)
    _text_stays_text(wb)
    wb.properties.title = f"{data.year}年度督导工作统计"
    wb.properties.creator = "dudao"
    return wb


# ---------------------------------------------------------------------------------- export


def check_out(out: Path) -> Path:
    if out.suffix.lower() != ".xlsx":
        raise InvalidInput(f"导出文件“{out}”应以 .xlsx 结尾", log=f"export to {out}")
    parent = out.parent
    if not parent.is_dir():
        raise InvalidInput(f"目录“{parent}”不存在", log=f"export dir {parent} missing")
    if out.is_dir():
        raise InvalidInput(f"“{out}”是一个目录", log=f"export to a directory {out}")
    return out


def save_atomic(wb: Workbook, out: Path) -> None:
    """Write to a temporary file in the same directory, flush it to disk, rename into place."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def totals_of(data: YearStats) -> dict[str, Any]:
    comp, flags, bonus, deduction = data.unit_totals
    rate = comp.on_time_rate
    return {"assigned": comp.assigned, "due": comp.due, "submitted": comp.submitted,
            "on_time": comp.on_time, "late": comp.late, "accepted": comp.accepted,
            "returned": comp.returned, "outstanding": comp.outstanding,
            "on_time_rate": None if rate is None else round(rate, 4),
            "red": flags.red, "blue": flags.blue, "yellow": flags.yellow,
            "bonus": bonus, "deduction": deduction,
            "rectifications": len(data.rectifications),
            "rectifications_closed": sum(1 for i in data.rectifications if i.status == "closed"),
            "rectifications_overdue": sum(data.rect_overdue.values()),
            "sites": len(data.sites),
            "sites_accepted": sum(1 for s in data.sites if s.status == "accepted")}


def export_year(db: Database, env: ServiceEnv, year: int | str, out: Path, *,
                progress: Progress | None = None) -> ExportResult:
    """Export the year's statistics to ``out`` (.xlsx). Bad input raises InvalidInput."""
    started = time.monotonic()
    y = parse_year(year)
    out = check_out(Path(out))
    say = progress or (lambda _stage: None)
    now = env.clock.now()
    say("读取数据")
    data = db.transaction(lambda conn: stats_svc.read_year(conn, env, y, now))
    wb = build_workbook(env, data, progress)
    say("保存文件")
    save_atomic(wb, out)
    seconds = time.monotonic() - started
    log.info("exported %d: %d units, %d tasks to %s in %.2f s", y, len(data.units),
             len(data.tasks), out, seconds)
    return ExportResult(out, y, len(data.units), len(data.tasks), totals_of(data), seconds)

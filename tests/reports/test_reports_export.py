"""The exported workbook, opened with openpyxl: its numbers against the database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.errors import InvalidInput
from bot.reports import export
from tests.reports.conftest import NOW, Seeded, at, expected, new_db

COUNTS = ("应报任务", "已到期", "已报送", "按时报送", "逾期报送", "已通过", "退回待改", "未完成",
          "红旗", "蓝旗", "黄旗")


def table(ws: Worksheet) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Data rows (header in row 3) and the totals row of a sheet."""
    header = [c.value for c in ws[3]]
    rows: list[dict[str, Any]] = []
    for values in ws.iter_rows(min_row=4, values_only=True):
        record = dict(zip(header, values, strict=True))
        if export.TOTAL_LABEL in values:
            return rows, record
        rows.append(record)
    raise AssertionError(f"no totals row in {ws.title}")


def half_figures(ws: Worksheet) -> dict[str, dict[str, Any]]:
    """半年报告: the 指标/数值 table and the unit lists under each half's section."""
    out: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    heading = ""
    for a, b, c, *_ in ws.iter_rows(min_row=3, values_only=True):
        if isinstance(a, str) and a.endswith("前的任务）"):
            current = out.setdefault(a[:8], {"lists": {}})
            heading = ""
            continue
        if isinstance(a, str) and b is None and c is None and a != "无":
            heading = a
            current["lists"][heading] = []
            continue
        if a in (None, "指标", "单位"):
            continue
        if heading:
            if a != "无":
                current["lists"][heading].append((a, b, c))
        else:
            current[a] = b
    return out


def test_reports_workbook_matches_database(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "stats.xlsx"
    res = export.export_year(seeded.db, seeded.env, 2026, out)
    assert res.path == out and out.is_file()
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away
    wb = load_workbook(out)
    assert wb.sheetnames == ["年度统计", "任务完成情况", "半年报告"]

    w = seeded.env.settings.scoring
    want = seeded.tx(lambda c: expected(c, 2026, NOW, (w.red, w.blue, w.yellow)))
    ids = seeded.unit
    rows, totals = table(wb["年度统计"])
    assert {r["单位"] for r in rows} == {n for n, i in ids.items() if i in want}
    for r in rows:
        e = want[ids[r["单位"]]]
        for k in COUNTS:
            assert r[k] == e.get(k, 0), (r["单位"], k)
        for k in ("加分", "减分", "旗帜得分", "总分"):
            assert r[k] == pytest.approx(e.get(k, 0)), (r["单位"], k)
        rate = e["按时率"]
        assert r["按时率"] == ("—" if rate is None else pytest.approx(round(rate, 4)))
    for k in COUNTS:
        assert totals[k] == sum(int(e.get(k, 0)) for e in want.values()), k
    assert totals["加分"] == pytest.approx(3.5) and totals["减分"] == pytest.approx(1.5)
    assert res.totals["red"] == totals["红旗"] and res.totals["assigned"] == totals["应报任务"]
    assert [r["单位"] for r in rows if r["排名"] == 1] == ["郑州市"]

    # 任务完成情况: one row per task due in 2026; totals agree with the per-unit sheet.
    trows, ttotals = table(wb["任务完成情况"])
    assert [r["任务"] for r in trows] == ["年初部署", "一季度报告", "半年自查", "三季度调研",
                                          "年底总结"]
    assert trows[0]["截止时间"] == datetime(2026, 1, 1, 0, 0)  # local wall time
    assert trows[1]["应报单位"] == 5 and trows[1]["退回待改"] == 1 and trows[1]["未完成"] == 2
    assert trows[4]["按时率"] == "—"  # no deadline passed yet
    for k in ("已报送", "按时报送", "逾期报送", "已通过", "退回待改", "未完成"):
        assert ttotals[k] == totals[k], k
    assert ttotals["应报单位"] == totals["应报任务"]
    # Task flags exclude the period flags (innovation, incident) the unit sheet counts.
    assert (ttotals["红旗"], ttotals["黄旗"]) == (totals["红旗"] - 3, totals["黄旗"] - 1)

    halves = half_figures(wb["半年报告"])
    assert set(halves) == {"2026年上半年", "2026年下半年"}
    h1, h2 = halves["2026年上半年"], halves["2026年下半年"]
    assert (h1["到期任务数"], h1["应报单位次"], h1["按时报送"], h1["逾期报送"]) == (3, 13, 7, 2)
    assert h2["到期任务数"] == 2
    assert h1["应报单位次"] + h2["应报单位次"] == totals["应报任务"]
    assert h1["红旗"] + h2["红旗"] == totals["红旗"]
    yellow_list = next(v for k, v in h1["lists"].items() if k.startswith("多次记黄旗"))
    assert [(a, b) for a, b, _ in yellow_list] == [("洛阳市", 2), ("省公安厅", 2)]
    assert next(v for k, v in h2["lists"].items() if k.startswith("多次记黄旗")) == []
    assert h2["lists"]["执法问题"] == [("开封市", 1.5, "趋利执法：趋利执法，违规罚款")]


def test_reports_workbook_is_set_up_for_printing(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "print.xlsx"
    export.export_year(seeded.db, seeded.env, 2026, out)
    wb = load_workbook(out)
    for name in ("年度统计", "任务完成情况"):
        ws = wb[name]
        assert "2026" in str(ws["A1"].value)
        assert ws.print_title_rows == "$1:$3"
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.freeze_panes == "C4"
        assert ws["A3"].font.b and ws["A3"].fill.fgColor.rgb.endswith("1F4E78")
        assert ws.column_dimensions["B"].width >= 20
    assert wb["年度统计"]["L4"].number_format == export.RATE_FORMAT


def test_reports_empty_year_gives_a_valid_empty_workbook(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    res = export.export_year(seeded.db, seeded.env, 2030, out)
    assert (res.units, res.tasks) == (0, 0)
    wb = load_workbook(out)
    for name in ("年度统计", "任务完成情况"):
        rows, totals = table(wb[name])
        assert rows == []
        assert totals["已报送"] == 0 and totals["按时率"] == "—"
    halves = half_figures(wb["半年报告"])
    assert halves["2030年上半年"]["到期任务数"] == 0
    assert halves["2030年下半年"]["lists"]["表扬单位（获红旗）"] == []


def test_reports_fresh_database_exports(tmp_path: Path) -> None:
    s = new_db(f"sqlite:///{tmp_path}/fresh.db", tmp_path, at("2026-03-01 09:00"))
    try:
        res = export.export_year(s.db, s.env, "2026", tmp_path / "fresh.xlsx")
    finally:
        s.db.close()
    assert res.totals["assigned"] == 0 and res.totals["on_time_rate"] is None


def test_reports_bad_output_is_refused_and_leaves_old_file(seeded: Seeded, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        export.export_year(seeded.db, seeded.env, 2026, tmp_path / "stats.csv")
    assert ".xlsx" in err.value.message
    with pytest.raises(InvalidInput) as err:
        export.export_year(seeded.db, seeded.env, 2026, tmp_path / "nowhere" / "s.xlsx")
    assert "不存在" in err.value.message
    with pytest.raises(InvalidInput):
        export.export_year(seeded.db, seeded.env, 1900, tmp_path / "s.xlsx")

    # A save that fails half way leaves the earlier export in place and no temporary file.
    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"earlier export")

    class CrashingWorkbook:  # stands in for openpyxl running out of disk mid-write
        def save(self, path: Path) -> None:
            Path(path).write_bytes(b"PK half a zip")
            raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        export.save_atomic(CrashingWorkbook(), out)  # type: ignore[arg-type]
    assert out.read_bytes() == b"earlier export"
    assert not list(tmp_path.glob(".keep.xlsx.*"))


def test_reports_progress_is_reported(seeded: Seeded, tmp_path: Path) -> None:
    stages: list[str] = []
    export.export_year(seeded.db, seeded.env, 2026, tmp_path / "p.xlsx", progress=stages.append)
    assert stages == ["读取数据", "写入年度统计", "写入任务完成情况", "写入半年报告", "保存文件"]

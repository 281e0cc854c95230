"""`dudao export --year Y --out F.xlsx` as an operator runs it: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.reports.conftest import Seeded, at, expected, new_db, seed_year

ROOT = Path(__file__).resolve().parents[2]


def dudao(cwd: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    if db is not None:
        env["DUDAO_DATABASE_URL"] = db
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def last_year(tmp_path: Path) -> Iterator[tuple[Seeded, str]]:
    # 2025: every deadline has passed whatever the wall clock says today.
    url = f"sqlite:///{tmp_path}/cli.db"
    s = new_db(url, tmp_path, at("2026-01-02 09:00"))
    seed_year(s, 2025)
    yield s, url
    s.db.close()


def test_reports_cli_export_json(last_year: tuple[Seeded, str], tmp_path: Path) -> None:
    s, url = last_year
    out = tmp_path / "年度统计.xlsx"
    r = dudao(tmp_path, "export", "--year", "2025", "--out", str(out), "--json", db=url)
    assert r.returncode == 0, r.stderr
    # stdout is the JSON alone (json.loads refuses anything around it). What stderr holds is
    # not checked beyond the absence of errors: progress lines show only when the export takes
    # over a second, which on a busy machine it may or may not.
    assert "Traceback" not in r.stderr and "错误" not in r.stderr, r.stderr
    got = json.loads(r.stdout)
    assert got["path"] == str(out) and got["year"] == 2025
    assert (got["units"], got["tasks"]) == (6, 5)

    w = s.env.settings.scoring
    want = s.tx(lambda c: expected(c, 2025, datetime.now(UTC), (w.red, w.blue, w.yellow)))
    t = got["totals"]
    for key, name in (("assigned", "应报任务"), ("due", "已到期"), ("submitted", "已报送"),
                      ("on_time", "按时报送"), ("late", "逾期报送"), ("returned", "退回待改"),
                      ("outstanding", "未完成"), ("red", "红旗"), ("blue", "蓝旗"),
                      ("yellow", "黄旗")):
        assert t[key] == sum(int(e.get(name, 0)) for e in want.values()), key
    assert t["due"] == t["assigned"]  # all of 2025 is past
    assert t["on_time_rate"] == round(
        sum(e.get("on_time_due", 0) for e in want.values()) / t["due"], 4)

    wb = load_workbook(out)
    ws = wb["年度统计"]
    totals = next(row for row in ws.iter_rows(min_row=4, values_only=True) if "合计" in row)
    header = [c.value for c in ws[3]]
    assert totals[header.index("应报任务")] == t["assigned"]


def test_reports_cli_export_text(last_year: tuple[Seeded, str], tmp_path: Path) -> None:
    _, url = last_year
    out = tmp_path / "empty.xlsx"
    r = dudao(tmp_path, "export", "--year", "2031", "--out", str(out), db=url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"已导出 {out}：0 个单位，0 项任务")
    assert load_workbook(out).sheetnames == ["年度统计", "任务完成情况", "半年报告"]


@pytest.mark.parametrize(("args", "words"), [
    (["--year", "20x6", "--out", "s.xlsx"], "年份“20x6”无效"),
    (["--year", "1899", "--out", "s.xlsx"], "年份“1899”无效"),
    (["--year", "2026", "--out", "s.csv"], "应以 .xlsx 结尾"),
    (["--year", "2026", "--out", "missing/s.xlsx"], "不存在"),
])
def test_reports_cli_bad_input(tmp_path: Path, args: list[str], words: str) -> None:
    r = dudao(tmp_path, "export", *args)
    assert r.returncode == 2
    assert r.stderr.startswith("错误：") and words in r.stderr
    assert r.stdout == ""
    # Refused before anything was opened: no database was created, no file written.
    assert sorted(p.name for p in tmp_path.iterdir()) == []

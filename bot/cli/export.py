"""``dudao export``: the year's statistics as an Excel workbook."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.cli.common import Subcommands, leaf
from bot.cli.session import admin_session


def cmd_export(args: argparse.Namespace) -> int:
    from bot.domain.periods import parse_year
    from bot.reports.export import check_out, export_year

    started = time.monotonic()
    year = parse_year(args.year)  # bad input fails before the database is touched
    out = check_out(Path(args.out))

    def progress(stage: str) -> None:
        # Quiet for a quick export; a big year says what it is doing after the first second.
        if time.monotonic() - started >= 1.0:
            print(f"导出中：{stage}…", file=sys.stderr, flush=True)

    with admin_session(args) as admin:
        res = export_year(admin.db, admin.env, year, out, progress=progress)
        t = res.totals
        rate = "—" if t["on_time_rate"] is None else f"{t['on_time_rate']:.1%}"
        admin.emit({"path": str(res.path), "year": res.year, "units": res.units,
                    "tasks": res.tasks, "totals": t, "seconds": round(res.seconds, 3)},
                   f"已导出 {res.path}：{res.units} 个单位，{res.tasks} 项任务；按时率 {rate}，"
                   f"红旗 {t['red']}、蓝旗 {t['blue']}、黄旗 {t['yellow']}")
    return 0


def register(sub: Subcommands) -> None:
    ex = leaf(sub, "export", cmd_export, "导出年度统计 Excel")
    ex.add_argument("--year", required=True, help="年份，如 2026")
    ex.add_argument("--out", required=True)

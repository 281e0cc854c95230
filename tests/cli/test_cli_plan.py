"""`dudao plan import | preset | list`, `dudao series list | cancel` and `dudao task add
--repeat`, run in-process as an operator runs them (the bundled roster, SQLite on disk).

Plans are for the year after next: nothing of it opens before 2 December of next year (30 days
ahead of its first period), so what an import creates at once does not depend on today's date.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.cli import main
from storage.db import Database
from storage.models import AuditEntry, Plan, Series, Task

Y = date.today().year + 2


class Cli:
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = tmp_path
        self.url = f"sqlite:///{tmp_path}/data/dudao.db"
        self.config = tmp_path / "dudao.toml"
        self.config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n'
                               f'[database]\nurl = "{self.url}"\n', encoding="utf-8")
        self.capsys = capsys

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            status = main(["--config", str(self.config), *args])
        except SystemExit as exc:  # argparse refuses the arguments
            status = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return status, out, err

    def json(self, *args: str) -> Any:
        status, out, err = self.run(*args, "--json")
        assert status == 0, err
        return json.loads(out)

    def count(self, model: Any) -> int:
        db = Database(self.url)
        try:
            return int(db.transaction(
                lambda c: c.execute(select(func.count()).select_from(model)).scalar_one()))
        finally:
            db.close()

    def audit(self, action: str) -> list[tuple[str, str, dict[str, Any]]]:
        db = Database(self.url)
        try:
            return [tuple(r) for r in db.transaction(lambda c: c.execute(  # type: ignore[misc]
                select(AuditEntry.actor, AuditEntry.target, AuditEntry.detail)
                .where(AuditEntry.action == action).order_by(AuditEntry.id)).all())]
        finally:
            db.close()


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


PLAN_CSV = f"""任务,体系,截止,周期,范围,要求
执法证件年审材料,督促检查,{Y}-03-15,,各地市,盖章扫描件
工作月报,情况交流,,每月,省直部门,每月5日前报送上月情况
半年工作总结,督促检查,{Y}年7月10日,,直管县和郑州市,
调研指导,服务指导,,每季度,,写明时间、地点
"""


def test_import_a_csv_plan_dry_run_first(cli: Cli) -> None:
    plan = cli.root / "计划.csv"
    plan.write_text(PLAN_CSV, encoding="utf-8-sig")  # as Excel saves "CSV UTF-8"
    dry = cli.json("plan", "import", str(plan), "--year", str(Y), "--dry-run")
    assert dry["dry_run"] is True and dry["year"] == Y
    assert [(i["line"], i["kind"], i["units"]) for i in dry["items"]] == [
        (2, "task", 18), (3, "series", 38), (4, "task", 11), (5, "series", 76)]
    monthly, quarterly = dry["items"][1], dry["items"][3]
    assert [i["period"] for i in monthly["instances"]] == [f"{Y}-{m:02d}" for m in range(1, 13)]
    assert [i["title"] for i in quarterly["instances"]][:2] == [f"{Y}年第一季度调研指导",
                                                                 f"{Y}年第二季度调研指导"]
    assert quarterly["instances"][0]["created_from"] == f"{Y - 1}-12-02T00:00:00+08:00"
    assert cli.count(Plan) == cli.count(Task) == cli.count(Series) == 0  # a dry run writes nothing

    done = cli.json("plan", "import", str(plan), "--year", str(Y))
    assert [t["title"] for t in done["tasks"]] == ["执法证件年审材料", "半年工作总结"]
    assert done["tasks"][0]["due"] == f"{Y}-03-15T18:00:00+08:00"
    assert [(s["title"], s["repeat"], s["units"]) for s in done["series"]] == [
        ("工作月报", "monthly", 38), ("调研指导", "quarterly", 76)]
    assert done["instances"] == []  # the first of them opens on 2 December next year
    assert cli.count(Task) == 2 and cli.count(Series) == 2
    [(actor, target, detail)] = cli.audit("plan.import")
    assert actor.startswith("cli:") and target == f"plan:{done['plan_id']}" and detail["file"] == "计划.csv"
    assert len(cli.audit("series.create")) == 2
    plans = cli.json("plan", "list")
    assert [(p["title"], p["tasks"], p["series"]) for p in plans] == [
        (f"{Y}年工作计划（计划）", 2, 2)]
    # the same file again: refused, nothing doubled
    status, _, err = cli.run("plan", "import", str(plan), "--year", str(Y))
    assert status == 2 and "已导入" in err and cli.count(Task) == 2


def test_import_xlsx_and_toml_plans(cli: Cli) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["任务名称", "工作体系", "截止时间", "周期", "责任单位", "报送要求"])
    ws.append(["执法案卷评查", "督促检查", datetime(Y, 5, 20), None, "郑州市,开封市", "评查表"])
    ws.append(["业务培训", "服务指导", None, "每年", "各地市", None])
    xlsx = cli.root / "plan.xlsx"
    wb.save(xlsx)
    done = cli.json("plan", "import", str(xlsx), "--year", str(Y), "--title", "xlsx计划")
    assert [(t["title"], t["due"], t["units"]) for t in done["tasks"]] == [
        ("执法案卷评查", f"{Y}-05-20T18:00:00+08:00", 2)]
    assert [(s["title"], s["repeat"]) for s in done["series"]] == [("业务培训", "yearly")]

    toml = cli.root / "plan.toml"
    toml.write_text(f'year = {Y}\n\n[["任务"]]\n"任务" = "半年总结"\n"截止" = "{Y}-07-10 12:00"\n'
                    f'"范围" = "省直部门"\n\n[["任务"]]\ntitle = "季度报告"\nrepeat = "quarterly"\n'
                    f'due = {Y}-04-10\n', encoding="utf-8")
    done = cli.json("plan", "import", str(toml))
    assert done["year"] == Y
    assert done["tasks"][0]["due"] == f"{Y}-07-10T12:00:00+08:00"
    [s] = done["series"]
    assert (s["first_due"], s["next_period"]) == (f"{Y}-04-10T18:00:00+08:00", f"{Y}Q2")


def test_a_bad_plan_names_every_line_and_column_and_imports_nothing(cli: Cli) -> None:
    bad = cli.root / "bad.csv"
    bad.write_text("任务,体系,截止,周期,范围\n"
                   f"执法证件年审材料,督促检查,{Y}-03-15,,各地市\n"
                   f",督查组,{Y}-02-30,,\n"
                   "工作月报,,,每两周,火星市\n"
                   "没有时间,,,,\n", encoding="utf-8")
    status, out, err = cli.run("plan", "import", str(bad), "--year", str(Y))
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "错误：计划文件 bad.csv 有 6 处问题，未导入任何任务："
    assert lines[1:] == [
        "  第 3 行（任务列）：缺少任务名称",
        "  第 3 行（体系列）：体系“督查组”无效，应为 服务指导、情况交流、督促检查、分析评价 之一",
        f"  第 3 行（截止列）：截止“{Y}-02-30”不是有效的日期或时间",
        "  第 4 行（周期列）：无法识别重复周期“每两周”，可选：每月、每季度、每半年、每年（或 monthly、"
        "quarterly、half-yearly、yearly）",
        "  第 4 行（范围列）：找不到单位：火星市（可用 dudao unit list 查看全部单位）",
        "  第 5 行（截止列）：截止和周期至少要填一项",
    ]
    assert cli.count(Plan) == cli.count(Task) == cli.count(Series) == 0  # the good row too
    wrong = cli.root / "wrong.csv"
    wrong.write_text("任务,截至\n月报,2027-01-01\n", encoding="utf-8")
    status, _, err = cli.run("plan", "import", str(wrong))
    assert status == 2 and err.splitlines()[1:] == [
        "  第 1 行：未知的列“截至”（可用：任务、体系、截止、周期、范围、要求）",
        "  第 1 行：表头缺少“截止”或“周期”列"]  # the rows cannot be read: not listed one by one
    past = cli.root / "past.csv"
    past.write_text("任务,周期\n工作月报,每月\n", encoding="utf-8")
    status, _, err = cli.run("plan", "import", str(past), "--year", "2020")
    assert status == 2 and "第 2 行（周期列）：2020年内已没有尚未截止的一期" in err
    status, _, err = cli.run("plan", "import", str(cli.root / "plan.xls"))
    assert status == 2 and "不支持的文件类型“.xls”" in err


def test_a_progress_bar_when_asked_for(cli: Cli) -> None:
    big = cli.root / "big.csv"
    rows = [f"任务{n:03d},督促检查,{Y}-06-{n % 28 + 1:02d},,郑州市" for n in range(300)]
    big.write_text("任务,体系,截止,周期,范围\n" + "\n".join(rows) + "\n", encoding="utf-8")
    status, out, err = cli.run("plan", "import", str(big), "--year", str(Y), "--progress",
                               "--dry-run")
    assert status == 0 and "校验 300/300" in err.splitlines()
    assert "校验 30/300" in err.splitlines() and len(err.splitlines()) == 11  # every tenth
    status, out, err = cli.run("plan", "import", str(big), "--year", str(Y), "--json")
    assert status == 0 and err == ""  # not a terminal, not asked: quiet
    assert len(json.loads(out)["tasks"]) == 300


def test_the_four_ones_preset_and_stopping_a_series(cli: Cli) -> None:
    made = cli.json("plan", "preset", "四个一", "--year", str(Y))
    assert [(s["title"], s["repeat"], s["kind"], s["units"]) for s in made["series"]] == [
        ("调研指导记录", "quarterly", "visit", 75), ("研讨交流或论文评选", "yearly", "seminar", 75),
        ("业务培训", "yearly", "training", 75), ("典型案例收集", "yearly", "cases", 75)]
    assert made["series"][0]["fields"] == ["时间", "地点", "发现问题", "典型经验"]
    assert all(s["next_at"] == f"{Y - 1}-12-02T00:00:00+08:00" for s in made["series"])
    status, _, err = cli.run("plan", "preset", "四个一", "--year", str(Y))
    assert status == 2 and f"{Y}年的“四个一”已创建" in err
    status, _, err = cli.run("plan", "preset", "三个一", "--year", str(Y))
    assert status == 2 and "没有名为“三个一”的预设" in err
    [(_, target, detail)] = cli.audit("plan.preset")
    assert detail["preset"] == "四个一" and len(detail["series"]) == 4

    listed = cli.json("series", "list")
    assert [s["id"] for s in listed] == [s["id"] for s in made["series"]]
    first = listed[0]["id"]
    stopped = cli.json("series", "cancel", str(first), "--reason", "改为半年一次")
    assert (stopped["status"], stopped["cancel_reason"], stopped["next_at"]) == (
        "cancelled", "改为半年一次", None)
    assert [s["id"] for s in cli.json("series", "list")] == [s["id"] for s in listed[1:]]
    assert len(cli.json("series", "list", "--all")) == 4
    [(actor, target, detail)] = cli.audit("series.cancel")
    assert actor.startswith("cli:") and target == f"series:{first}"
    assert detail["reason"] == "改为半年一次"
    status, _, err = cli.run("series", "cancel", str(first), "--reason", "again")
    assert status == 2 and "已于此前停止" in err
    status, _, err = cli.run("series", "cancel", str(first))
    assert status == 2 and "--reason" in err


def test_task_add_repeat_creates_a_series(cli: Cli) -> None:
    due = (datetime.now() + timedelta(days=10)).replace(hour=18, minute=0, second=0,
                                                        microsecond=0)
    made = cli.json("task", "add", "--title", "每季度调研报告", "--due", due.isoformat(),
                    "--units", "郑州市,开封市", "--repeat", "quarterly", "--system", "guidance")
    # the first quarter's period has begun (or begins within 30 days): created now, and the
    # next one too if its period begins within 30 days
    first = made["tasks"][0]
    quarter = (due.month - 1) // 3 + 1
    assert first["period"] == f"{due.year}Q{quarter}"
    assert first["title"] == f"{due.year}年第{'一二三四'[quarter - 1]}季度调研报告"
    assert first["due"] == due.isoformat() + "+08:00"  # a time without offset: Shanghai's
    assert made["repeat"] == "quarterly" and made["units"] == 2 and len(made["tasks"]) <= 2
    tasks = cli.json("task", "list")
    assert [(t["id"], t["series_id"], t["period"]) for t in tasks] == [
        (t["id"], made["series_id"], t["period"]) for t in made["tasks"]]
    shown = cli.json("series", "show", str(made["series_id"]))
    assert [(t["id"], t["period"], t["status"]) for t in shown["tasks"]] == [
        (t["id"], t["period"], "open") for t in made["tasks"]]
    status, _, err = cli.run("series", "show", "999")
    assert status == 2 and "没有编号为 999 的系列" in err
    status, _, err = cli.run("task", "add", "--title", "x", "--due", due.isoformat(),
                             "--repeat", "每两周")
    assert status == 2 and "无法识别重复周期“每两周”" in err
    status, _, err = cli.run("task", "add", "--title", "x", "--due", due.isoformat(),
                             "--until", due.isoformat())
    assert status == 2 and "--until 只用于周期性任务" in err
    status, _, err = cli.run("task", "add", "--title", "x", "--due", due.isoformat(),
                             "--repeat", "monthly", "--until",
                             (due - timedelta(days=1)).isoformat())
    assert status == 2 and "之前没有一期需要创建" in err
    status, _, err = cli.run("task", "add", "--title", "x", "--due", due.isoformat(),
                             "--recurrence", "quarterly")
    assert status == 2 and "unrecognized arguments: --recurrence" in err  # the dead flag is gone


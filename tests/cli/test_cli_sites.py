"""`dudao site …`, `dudao spotcheck …`, `dudao rectify …` and the rectification reminders of
`dudao tick --at`, run in-process as an operator runs them (the bundled roster, SQLite on disk).

Reminders are checked on a deadline in July 2027, a month without public holidays: Friday
2027-07-09, so 7, 3 and 1 working days before are 06-30, 07-06 and 07-08, the due day 07-09 and
the first overdue urging Monday 07-12.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.spot_checks import draw as pure_draw
from storage.db import Database
from storage.models import OutboxMessage, Rectification
from tests.cli.test_cli_plan import Cli
from tests.cli.test_cli_plan import cli as cli  # the fixture

DUE = "2027-07-09"


def _setup(cli: Cli) -> None:
    assert cli.run("group", "add", "qq:group:40001", "--name", "开封联络群",
                   "--units", "开封市")[0] == 0
    assert cli.run("person", "add", "qq:30002", "--unit", "开封市", "--role", "liaison")[0] == 0


def outbox(cli: Cli, cause: str) -> list[tuple[str, str, str]]:
    db = Database(cli.url)
    try:
        rows = db.transaction(lambda c: c.execute(
            select(OutboxMessage.chat, OutboxMessage.kind, OutboxMessage.content)
            .where(OutboxMessage.cause == cause).order_by(OutboxMessage.id)).all())
    finally:
        db.close()
    return [(chat, kind, "".join(s.get("text", "") for s in content if s.get("t") == "text")
             .strip()) for chat, kind, content in rows]


def set_reported(cli: Cli, rid: int) -> None:
    from sqlalchemy import update

    db = Database(cli.url)
    try:
        db.transaction(lambda c: c.execute(update(Rectification).where(Rectification.id == rid)
                                           .values(status="reported")))
    finally:
        db.close()


def test_rectification_add_list_close_and_return(cli: Cli) -> None:
    _setup(cli)
    item = cli.json("rectify", "add", "--unit", "开封", "--text", "执法案卷文书不规范",
                    "--due", DUE)
    assert (item["id"], item["number"], item["unit"], item["status"]) == (1, "#R1", "开封市", "open")
    assert item["due"] == "2027-07-09T18:00:00+08:00" and item["told"] == 1
    [(chat, kind, text)] = outbox(cli, "rectification:1")
    assert chat == "qq:group:40001" and kind == "notify"
    assert text.startswith("【整改通知】开封市：执法案卷文书不规范\n请于 7月9日 18:00 前完成整改")
    assert [i["id"] for i in cli.json("rectify", "list", "--status", "open")] == [1]
    assert cli.json("rectify", "list", "--status", "closed") == []
    status, _, err = cli.run("rectify", "close", "R1", "--return")
    assert status == 2 and "原因" in err
    status, _, err = cli.run("rectify", "close", "1", "--return", "--reason", "缺材料")
    assert status == 2 and "尚未报送" in err  # nothing reported yet: nothing to return
    set_reported(cli, 1)
    back = cli.json("rectify", "close", "R1", "--return", "--reason", "缺少整改前后对比")
    assert (back["status"], back["reason"]) == ("returned", "缺少整改前后对比")
    assert outbox(cli, "rectification:1")[-1][2].endswith("已退回：缺少整改前后对比。请按意见继续整改后重新报送")
    set_reported(cli, 1)
    assert cli.json("rectify", "close", "#R1")["status"] == "closed"
    status, _, err = cli.run("rectify", "close", "1")
    assert status == 2 and "已销号" in err
    assert [a[1] for a in cli.audit("rectification.create")] == ["rectification:1"]
    assert len(cli.audit("rectification.return")) == 1
    assert len(cli.audit("rectification.close")) == 1
    status, _, err = cli.run("rectify", "add", "--unit", "火星市", "--text", "x", "--due", DUE)
    assert status == 2 and "火星市" in err
    status, _, err = cli.run("rectify", "add", "--unit", "开封市", "--text", "x", "--due", "明天")
    assert status == 2 and "时间格式" in err


def test_rectification_reminders_follow_working_days_and_stop_when_reported(cli: Cli) -> None:
    _setup(cli)
    cli.json("rectify", "add", "--unit", "开封市", "--text", "执法公示不及时", "--due", DUE)

    def tick(at: str) -> list[str]:
        before = len(outbox(cli, "rectification:1"))
        assert cli.run("tick", "--at", at)[0] == 0
        return [t for _, k, t in outbox(cli, "rectification:1")[before:] if k == "reminder"]

    first = tick("2027-06-30T09:00+08:00")
    assert len(first) == 1 and first[0].startswith("【整改提醒】开封市：整改事项 #R1 将于 7月9日 18:00 到期")
    assert tick("2027-06-30T09:00+08:00") == []  # the same moment twice: nothing new
    assert tick("2027-06-30T15:00+08:00") == []  # later the same day: the stage went out
    assert tick("2027-07-03T10:00+08:00") == []  # Saturday
    assert len(tick("2027-07-06T09:30+08:00")) == 1
    assert len(tick("2027-07-08T09:30+08:00")) == 1
    assert len(tick("2027-07-09T09:30+08:00")) == 1
    assert tick("2027-07-10T10:00+08:00") == []  # Saturday after the deadline
    late = tick("2027-07-12T09:30+08:00")
    assert len(late) == 1 and late[0].startswith("【整改催办】开封市：整改事项 #R1 已于 7月9日 18:00 到期，已逾期 1 个工作日")
    assert tick("2027-07-12T09:30+08:00") == []
    set_reported(cli, 1)
    assert tick("2027-07-14T09:30+08:00") == []  # reported: no more urging


def test_spot_check_draw_is_recorded_and_reproducible(cli: Cli) -> None:
    first = cli.json("spotcheck", "draw", "--units", "kind:city", "--count", "5", "--seed", "42")
    again = cli.json("spotcheck", "draw", "--units", "各地市", "--count", "5", "--seed", "42")
    assert first["drawn"] == again["drawn"] and first["pool"] == again["pool"] == "kind:city"
    assert first["population"] == again["population"] and len(first["population"]) == 18
    assert first["drawn"] == pure_draw(first["population"], 5, 42)
    assert first["seed"] == "42" and first["verified"] and first["drawn_by"] == "cli:root"
    fresh = cli.json("spotcheck", "draw", "--units", "直管县", "--count", "3")
    assert len(fresh["drawn"]) == 3 and fresh["seed"] != "42"
    shown = cli.json("spotcheck", "show", str(fresh["id"]))
    assert shown["drawn"] == fresh["drawn"] and shown["seed"] == fresh["seed"]
    assert [c["id"] for c in cli.json("spotcheck", "list")] == [1, 2, 3]
    status, out, _ = cli.run("spotcheck", "draw", "--units", "kind:city", "--count", "5",
                             "--seed", "42")
    assert status == 0 and "种子：42" in out and "、".join(first["units"]) in out
    audits = cli.audit("spotcheck.draw")
    assert len(audits) == 4 and audits[0][2]["drawn"] == first["drawn"]
    status, _, err = cli.run("spotcheck", "draw", "--units", "kind:city", "--count", "99")
    assert status == 2 and "超过" in err
    # a finding on a drawn unit becomes a rectification item of that check
    unit = first["units"][0]
    item = cli.json("rectify", "add", "--unit", unit, "--text", "台账不全", "--due", DUE,
                    "--check", "1")
    assert item["check_id"] == 1
    undrawn = next(n for n in ("郑州市", "开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市")
                   if n not in first["units"])
    status, _, err = cli.run("rectify", "add", "--unit", undrawn, "--text", "x", "--due", DUE,
                             "--check", "1")
    assert status == 2 and "不在抽查" in err
    # 弄虚作假 found by the check: an incident (yellow flag, deduction)
    inc = cli.json("spotcheck", "incident", "1", "--unit", unit, "--reason", "弄虚作假，台账后补")
    assert inc["reason"].endswith("抽查发现：弄虚作假，台账后补") and inc["points"] < 0
    assert cli.audit("flag.incident")[0][2]["spotcheck"] == 1


def test_sites_nominate_record_accept_list(cli: Cli) -> None:
    _setup(cli)
    site = cli.json("site", "add", "--unit", "开封市", "--name", "兰考县市场监管所",
                    "--text", "包容审慎监管", "--year", "2027")
    assert (site["id"], site["status"], site["year"]) == (1, "nominated", 2027)
    other = cli.json("site", "add", "--unit", "郑州", "--name", "中牟县执法大队", "--year", "2027")
    rec = cli.json("site", "note", "1", "--kind", "visit", "--text", "实地走访，查阅台账")
    assert rec["kind"] == "visit"
    shown = cli.json("site", "show", "1")
    assert shown["status"] == "preparing" and shown["cultivation"][0]["text"] == "实地走访，查阅台账"
    status, _, err = cli.run("site", "accept", "1", "--reason", "好")
    assert status == 2 and "--pass" in err
    ok = cli.json("site", "accept", "1", "--pass", "--reason", "制度健全、成效明显")
    assert (ok["status"], ok["reason"], ok["decided_by"]) == ("accepted", "制度健全、成效明显",
                                                              "cli:root")
    no = cli.json("site", "accept", str(other["id"]), "--fail", "--reason", "未开展培育")
    assert no["status"] == "not_accepted"
    status, _, err = cli.run("site", "accept", "1", "--fail", "--reason", "改判")
    assert status == 2 and "验收通过" in err
    assert [s["name"] for s in cli.json("site", "list", "--year", "2027", "--status",
                                        "accepted")] == ["兰考县市场监管所"]
    assert len(cli.json("site", "list", "--year", "2027")) == 2
    assert cli.json("site", "list", "--year", "2026") == []
    told = [t for _, _, t in outbox(cli, "site:1")]
    assert told[-1] == "开封市的示范点“兰考县市场监管所”（编号 1）验收通过，列入本年度示范点名单：制度健全、成效明显"
    assert [a[0] for a in cli.audit("site.accept")] == ["cli:root"]
    assert len(cli.audit("site.record")) == 1 and len(cli.audit("site.reject")) == 1




def test_export_counts_the_years_sites_and_overdue_items(cli: Cli) -> None:
    """Last year's items are all past their deadline: the export's counts are checked against
    counts made here from what was created."""
    from datetime import date

    from openpyxl import load_workbook

    year = date.today().year - 1
    _setup(cli)
    made = [("开封市", f"{year}-03-10", "open"), ("开封市", f"{year}-05-10", "closed"),
            ("郑州市", f"{year}-06-01", "returned"), ("郑州市", f"{year + 1}-12-01", "open")]
    for n, (unit, due, _) in enumerate(made, 1):
        cli.json("rectify", "add", "--unit", unit, "--text", f"问题{n}", "--due", due)
    db = Database(cli.url)
    try:
        from sqlalchemy import update

        for n, (_, _, status) in enumerate(made, 1):
            db.transaction(lambda c, n=n, status=status: c.execute(
                update(Rectification).where(Rectification.id == n).values(status=status)))
    finally:
        db.close()
    cli.json("site", "add", "--unit", "开封市", "--name", "甲所", "--year", str(year))
    cli.json("site", "add", "--unit", "郑州市", "--name", "乙所", "--year", str(year))
    cli.json("site", "accept", "2", "--pass", "--reason", "好")
    in_year = [m for m in made if m[1].startswith(str(year))]
    overdue = sum(1 for m in in_year if m[2] in ("open", "returned"))
    out = cli.root / "stats.xlsx"
    res = cli.json("export", "--year", str(year), "--out", str(out))
    totals = res["totals"]
    assert (totals["rectifications"], totals["rectifications_overdue"],
            totals["rectifications_closed"]) == (len(in_year), overdue, 1)
    assert (totals["sites"], totals["sites_accepted"]) == (2, 1)
    wb = load_workbook(out)
    assert wb.sheetnames[-2:] == ["示范点", "整改事项"]
    rows = list(wb["整改事项"].iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows[:len(in_year)]] == ["R1", "R2", "R3"]
    assert [r[6] for r in rows[:len(in_year)]] == ["是", None, "是"]
    assert rows[len(in_year)][6] == overdue
    per_unit = {r[1]: r[6] for r in rows[len(in_year) + 2:] if r[1]}
    assert per_unit == {"开封市": 1, "郑州市": 1}
    sites_rows = list(wb["示范点"].iter_rows(min_row=4, values_only=True))
    assert [(r[2], r[4]) for r in sites_rows] == [("乙所", "验收通过"), ("甲所", "已申报")]

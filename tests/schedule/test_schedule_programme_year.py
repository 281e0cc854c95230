"""A programme year, simulated with the `dudao` command as an operator runs it (issue 16):
units, groups and people set up, the yearly plan imported (xlsx), 四个一 preset, then the year
passing with `dudao tick --at` every working morning around the deadlines (and on the days
instances open), the units doing their work in between, and finally `dudao export`.

Five units behave the same way all year, for every piece of work they are given:
- 郑州市 sends each three days after it appears; accepted 优 (red);
- 省司法厅 likewise; accepted 一般 (blue);
- 开封市 sends each an hour and a half after its deadline; accepted 良 (late: blue after the
  yellow);
- 洛阳市 and 省公安厅 never send anything (yellow; urged, then escalated).

Everything checked is counted independently here, from what the test itself did: which instance
appears when (30 days before its period), once; who was reminded (only units owing at that
moment: checked against the test's own log of submissions); the statistics and the export's
figures per unit.

The plan is for the year after next, so that nothing of it opens before the simulation starts,
whatever today's date.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from sqlalchemy import Connection, select

from bot.cli import main
from bot.services import flag_rules, stats, submissions
from bot.services.people import by_identity
from storage.db import Database
from storage.models import OutboxMessage, ReminderLedger, Submission, Task, TaskUnit, Unit

TZ = ZoneInfo("Asia/Shanghai")
Y = date.today().year + 2
RECORD = "时间：本季度 地点：基层执法单位 发现问题：公示不全 典型经验：说理式执法"
EARLY = {"郑州市": "优", "省司法厅": "一般"}
LATE = {"开封市": "良"}
NEVER = ("洛阳市", "省公安厅")
CITIES = ("郑州市", "开封市", "洛阳市")
DEPARTMENTS = ("省司法厅", "省公安厅")
LIAISON = {"郑州市": "qq:30001", "开封市": "qq:30002", "洛阳市": "qq:30003",
           "省司法厅": "qq:30004", "省公安厅": "qq:30005"}
PRE = {"before-7", "before-3", "before-1", "due"}


def local(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=TZ)


@dataclass
class Site:
    root: Path
    url: str
    ticks: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)  # every instance a tick made
    first_sent: dict[tuple[int, str], datetime] = field(default_factory=dict)  # our log

    def run(self, *args: str) -> Any:
        config = self.root / "dudao.toml"
        if not config.exists():
            config.write_text(f'[service]\ndata_dir = "{self.root / "data"}"\nroster = ""\n'
                              f'[database]\nurl = "{self.url}"\n', encoding="utf-8")
        out = io.StringIO()
        with redirect_stdout(out):
            status = main(["--config", str(config), *args, "--json"])
        assert status == 0, (args, out.getvalue())
        return json.loads(out.getvalue())

    def tick(self, moment: datetime) -> None:
        report = self.run("tick", "--at", moment.isoformat())
        assert not report["errors"], report["errors"]
        self.ticks += 1
        self.created += [dict(c, at=moment) for c in report["instances"] or ()]

    def tx(self, fn: Any) -> Any:
        db = Database(self.url)
        try:
            return db.transaction(fn)
        finally:
            db.close()


def setup(site: Site) -> None:
    roster = site.root / "units.csv"
    roster.write_text("编码,名称,简称,类型\n410100,郑州市,郑州,地市\n410200,开封市,开封,地市\n"
                      "410300,洛阳市,洛阳,地市\nSFT,省司法厅,司法厅,省直部门\n"
                      "GAT,省公安厅,公安厅,省直部门\nDDB,省督导办,督导办,办公室\n", encoding="utf-8")
    site.run("unit", "import", str(roster))
    site.run("group", "add", "qq:group:40001", "--name", "地市联络群", "--units", "各地市")
    site.run("group", "add", "qq:group:40002", "--name", "省直联络群", "--units", "省直部门")
    site.run("group", "add", "qq:group:40009", "--name", "督导办", "--purpose", "admin")
    for unit, ident in LIAISON.items():
        site.run("person", "add", ident, "--unit", unit, "--role", "liaison")
    site.run("person", "add", "mp:oLUOYANG", "--unit", "洛阳市", "--role", "official")
    site.run("person", "add", "qq:10001", "--role", "admin", "--name", "管理员")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["任务", "体系", "截止", "周期", "范围", "要求"])
    ws.append(["执法证件年审材料", "督促检查", datetime(Y, 3, 15), None, "各地市", "盖章扫描件"])
    ws.append(["半年工作总结", "督促检查", f"{Y}-07-10", None, "各地市和省直部门", None])
    ws.append(["执法监督工作总结", "分析评价", None, "每半年", "省直部门", "上下半年各一次"])
    wb.save(site.root / "plan.xlsx")
    imported = site.run("plan", "import", str(site.root / "plan.xlsx"), "--year", str(Y))
    assert [t["title"] for t in imported["tasks"]] == ["执法证件年审材料", "半年工作总结"]
    preset = site.run("plan", "preset", "四个一", "--year", str(Y))
    assert len(preset["series"]) == 4 and imported["instances"] == preset["instances"] == []


# -- what the test expects, worked out by hand ------------------------------------------------


def expected_instances() -> dict[tuple[str, str], tuple[date, datetime, tuple[str, ...]]]:
    """(title, period) → (the day it opens, its deadline, its units)."""
    five = CITIES + DEPARTMENTS
    quarter_ends = {1: date(Y, 3, 31), 2: date(Y, 6, 30), 3: date(Y, 9, 30), 4: date(Y, 12, 31)}
    quarter_starts = {1: date(Y, 1, 1), 2: date(Y, 4, 1), 3: date(Y, 7, 1), 4: date(Y, 10, 1)}
    out: dict[tuple[str, str], tuple[date, datetime, tuple[str, ...]]] = {}
    for q, cn in zip((1, 2, 3, 4), "一二三四", strict=True):
        out[(f"{Y}年第{cn}季度调研指导记录", f"{Y}Q{q}")] = (
            quarter_starts[q] - timedelta(days=30), local(quarter_ends[q], time(18)), five)
    for title in ("研讨交流或论文评选", "业务培训", "典型案例收集"):
        out[(f"{Y}年度{title}", f"{Y}")] = (date(Y - 1, 12, 2), local(date(Y, 12, 31), time(18)),
                                           five)
    out[(f"{Y}年上半年执法监督工作总结", f"{Y}H1")] = (
        date(Y - 1, 12, 2), local(date(Y, 6, 30), time(18)), DEPARTMENTS)
    out[(f"{Y}年下半年执法监督工作总结", f"{Y}H2")] = (
        date(Y, 6, 1), local(date(Y, 12, 31), time(18)), DEPARTMENTS)
    return out


ONE_OFF = {"执法证件年审材料": (local(date(Y, 3, 15), time(18)), CITIES),
           "半年工作总结": (local(date(Y, 7, 10), time(18)), CITIES + DEPARTMENTS)}


def tick_days() -> list[date]:
    """Working-day mornings around every deadline (from 15 days before to 25 after), and every
    day an instance opens (whatever its weekday)."""
    deadlines = {d.date() for _, d, _ in expected_instances().values()}
    deadlines |= {d.date() for d, _ in ONE_OFF.values()}
    days: set[date] = {opens for opens, _, _ in expected_instances().values()}
    for d in deadlines:
        days |= {d + timedelta(days=k) for k in range(-15, 26)
                 if (d + timedelta(days=k)).weekday() < 5}
    return sorted(days)


# -- the units' work --------------------------------------------------------------------------


def work(site: Site, moment: datetime) -> None:
    """What the units and the reviewer do at ``moment`` (10:00 and 19:30 every day)."""

    def go(conn: Connection) -> None:
        env = _env()
        units = dict(conn.execute(select(Unit.name, Unit.id)).all())
        rows = conn.execute(
            select(Task.id, Task.due, Task.created_at, TaskUnit.unit_id, TaskUnit.state)
            .join(TaskUnit, TaskUnit.task_id == Task.id)).all()
        names = {v: k for k, v in units.items()}
        for r in rows:
            name = names[r.unit_id]
            key = (r.id, name)
            if key in site.first_sent or r.state != "owed":
                continue
            sends = (name in EARLY and moment >= max(r.created_at, _SIM_START) + timedelta(days=3)
                     and moment < r.due) or (name in LATE and moment > r.due)
            if sends:
                person = by_identity(conn, LIAISON[name])
                assert person is not None
                submissions.submit(conn, task_id=r.id, unit_id=r.unit_id, person_id=person.id,
                                   text=RECORD, now=moment)
                site.first_sent[key] = moment
        # the reviewer reads everything received more than half a day ago
        for s in conn.execute(select(Submission).where(Submission.status == "received")).all():
            if s.submitted_at <= moment - timedelta(hours=12):
                rating = {**EARLY, **LATE}[names[s.unit_id]]
                submissions.review(conn, s.id, accept=True, rating=rating, reason=None,
                                   reviewer_id=None, now=moment)
                flag_rules.refresh_task_unit_flag(conn, env, s.task_id, s.unit_id, moment)

    site.tx(go)


_SIM_START = local(date(Y - 1, 12, 1), time(0))


def _env() -> Any:
    from bot.app import make_env
    from bot.domain.clock import FixedClock
    from config.settings import load_settings

    return make_env(load_settings(None, {}), FixedClock(_SIM_START))


# -- the year -----------------------------------------------------------------------------------


def test_a_programme_year(tmp_path: Path) -> None:
    site = Site(tmp_path, f"sqlite:///{tmp_path}/data/dudao.db")
    setup(site)
    days = tick_days()
    day = _SIM_START.date()
    last = date(Y + 1, 1, 31)
    ticked = set(days)
    while day <= last:
        if day in ticked:
            site.tick(local(day, time(9, 30)))
        work(site, local(day, time(10)))
        work(site, local(day, time(19, 30)))
        day += timedelta(days=1)
    site.tick(local(date(Y + 1, 1, 28), time(9, 30)))  # ticking again sends and makes nothing
    check_instances(site)
    check_reminders(site)
    check_statistics(site, tmp_path)


def check_instances(site: Site) -> None:
    expected = expected_instances()
    made = [(c["title"], c["period"]) for c in site.created]
    assert len(made) == len(set(made)) == len(expected)  # each once, over ~150 ticks
    assert set(made) == set(expected)
    for c in site.created:  # created at the first tick on or after the day it opens
        opens = expected[(c["title"], c["period"])][0]
        assert c["at"] == local(min(d for d in tick_days() if d >= opens), time(9, 30))
        assert c["at"].date() < date.fromisoformat(c["due"][:10])
    rows = site.tx(lambda conn: conn.execute(
        select(Task.title, Task.period, Task.due, Unit.name)
        .join(TaskUnit, TaskUnit.task_id == Task.id).join(Unit, Unit.id == TaskUnit.unit_id)
        .where(Task.series_id.is_not(None))).all())
    units: dict[tuple[str, str], set[str]] = defaultdict(set)
    for title, period, due, unit in rows:
        assert due == expected[(title, period)][1]
        units[(title, period)].add(unit)
    assert {k: tuple(sorted(v)) for k, v in units.items()} == {
        k: tuple(sorted(u)) for k, (_, _, u) in expected.items()}


def check_reminders(site: Site) -> None:
    def read(conn: Connection) -> tuple[list[Any], list[Any], dict[int, str], dict[int, str]]:
        ledger = conn.execute(select(ReminderLedger)).all()
        outbox = conn.execute(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
        return (ledger, outbox, dict(conn.execute(select(Unit.id, Unit.name)).all()),
                dict(conn.execute(select(Task.id, Task.title)).all()))

    ledger, outbox, unit_names, titles = site.tx(read)
    stages: dict[tuple[int, str], set[str]] = defaultdict(set)
    for row in ledger:
        unit = unit_names[row.unit_id]
        sent = site.first_sent.get((row.task_id, unit))
        # only units that owed at that moment (nothing sent yet by our own log)
        assert sent is None or sent > row.sent_at, (titles[row.task_id], unit, row.stage)
        stages[(row.task_id, unit)].add(row.stage)
    assert stages  # reminders went out
    for (task, unit), got in stages.items():
        assert unit not in EARLY, (titles[task], unit, got)  # sent early: never reminded
        if unit in LATE:
            assert got <= PRE and "before-7" in got  # urged until it sent, then no more
        else:
            assert {"before-7", "overdue-1", "overdue-2", "overdue-3", "escalate"} <= got
    for unit in NEVER:  # every piece of work of the units that never send was urged
        owed = {t for (t, u) in site_assignments(site) if u == unit}
        assert {t for (t, u) in stages if u == unit} == owed
    # a group message @-mentions only the liaisons of units with a reminder claimed in that
    # sweep (each of which, above, still owed what it was reminded of)
    liaison_unit = {ident.split(":")[1]: unit for unit, ident in LIAISON.items()}
    claimed_at: dict[datetime, set[str]] = defaultdict(set)
    for row in ledger:
        claimed_at[row.sent_at].add(unit_names[row.unit_id])
    groups = [m for m in outbox if m.chat in ("qq:group:40001", "qq:group:40002")]
    assert groups
    for m in groups:
        mentioned = {liaison_unit[s["user_id"]] for s in m.content if s["t"] == "mention"}
        assert mentioned and mentioned <= claimed_at[m.created_at], (m.created_at, mentioned)
        assert not mentioned & set(EARLY)
    assert len(ledger) == sum(len(s) for s in stages.values())


def site_assignments(site: Site) -> set[tuple[int, str]]:
    return set(site.tx(lambda conn: [
        (t, u) for t, u in conn.execute(select(TaskUnit.task_id, Unit.name)
                                        .join(Unit, Unit.id == TaskUnit.unit_id)).all()]))


def check_statistics(site: Site, tmp_path: Path) -> None:
    assigned: dict[str, int] = defaultdict(int)
    for _, _, units in expected_instances().values():
        for u in units:
            assigned[u] += 1
    for _, units in ONE_OFF.values():
        for u in units:
            assigned[u] += 1
    expected = {}
    for unit, n in assigned.items():
        on_time = n if unit in EARLY else 0
        late = n if unit in LATE else 0
        red = n if EARLY.get(unit) == "优" else 0
        blue = n if unit in LATE or EARLY.get(unit) == "一般" else 0
        yellow = n if unit in NEVER else 0
        expected[unit] = {"assigned": n, "due": n, "submitted": on_time + late,
                          "on_time": on_time, "late": late, "accepted": on_time + late,
                          "outstanding": n - on_time - late, "red": red, "blue": blue,
                          "yellow": yellow}
    now = local(date(Y + 1, 1, 31), time(20))
    rows = site.tx(lambda conn: stats.unit_year_stats(conn, _env(), Y, now=now))
    got = {u.name: {"assigned": u.completion.assigned, "due": u.completion.due,
                    "submitted": u.completion.submitted, "on_time": u.completion.on_time,
                    "late": u.completion.late, "accepted": u.completion.accepted,
                    "outstanding": u.completion.outstanding, "red": u.flags.red,
                    "blue": u.flags.blue, "yellow": u.flags.yellow} for u in rows}
    assert got == expected
    # the export: its totals and its sheets say the same
    out = tmp_path / "stats.xlsx"
    export = site.run("export", "--year", str(Y), "--out", str(out))
    totals = export["totals"]
    for key in ("assigned", "submitted", "on_time", "late", "outstanding", "red", "blue",
                "yellow"):
        assert totals[key] == sum(e[key] for e in expected.values()), key
    wb = load_workbook(out, read_only=True)
    sheet = [list(r) for r in wb["年度统计"].iter_rows(min_row=3, values_only=True)]
    head = sheet[0]
    by_unit = {r[head.index("单位")]: r for r in sheet[1:] if r[head.index("单位")] in expected}
    for unit, e in expected.items():
        r = by_unit[unit]
        assert (r[head.index("应报任务")], r[head.index("按时报送")], r[head.index("逾期报送")],
                r[head.index("未完成")], r[head.index("红旗")], r[head.index("蓝旗")],
                r[head.index("黄旗")]) == (e["assigned"], e["on_time"], e["late"],
                                          e["outstanding"], e["red"], e["blue"], e["yellow"])
    plan = [list(r) for r in wb["周期性任务"].iter_rows(min_row=3, values_only=True)]
    head = plan[0]
    series_per_unit = {u: sum(1 for _, _, units in expected_instances().values() if u in units)
                       for u in CITIES + DEPARTMENTS}
    # (`dudao export` counts as of the real clock, before the simulated year: nothing is past
    # its deadline yet, so the never-sending units' cells say 未报送 rather than 逾期未报)
    assert {r[head.index("单位")] for r in plan[1:-1]} == set(series_per_unit)
    for r in plan[1:-1]:
        unit = r[head.index("单位")]
        n = series_per_unit[unit]
        done = n if unit not in NEVER else 0
        assert (r[head.index("已报送")], r[head.index("已到期")], r[head.index("全年期数")]) == (
            done, 0, n), unit
        cells = [c for c in r[head.index("全年期数") + 1:] if c]
        assert cells == (["未报送"] * n if unit in NEVER else ["已通过"] * n), unit
    assert plan[-1][head.index("已报送")] == sum(
        n for u, n in series_per_unit.items() if u not in NEVER)
    wb.close()
    # the board's plan view, as of the end of the year: the same function, now with deadlines
    grid = site.tx(lambda conn: stats.plan_grid(conn, _env(), Y, now=now))
    assert {u.name: (u.done, u.due, u.total) for u in grid.units} == {
        u: (0 if u in NEVER else n, n, n) for u, n in series_per_unit.items()}
    overdue = {(u.name, c.name) for u in grid.units for i, c in enumerate(grid.columns)
               if (cell := grid.cell(u.unit_id, i)) is not None and cell.shown == "overdue"}
    assert overdue == {(u, t) for (t, _), (_, _, units) in expected_instances().items()
                       for u in units if u in NEVER}

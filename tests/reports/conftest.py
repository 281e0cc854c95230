"""A database seeded through the services with a year of supervision work, and an independent
count of what the statistics should say, computed in Python from the raw rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select

from bot.app import render_docx
from bot.core.env import ServiceEnv
from bot.domain.clock import FixedClock
from bot.domain.workdays import WorkCalendar
from bot.services import flag_rules, people, records, submissions, tasks, units
from config.settings import load_settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Flag, ScoreEntry, Submission, Task, TaskUnit
from tests.support.pg import pg_url

TZ = ZoneInfo("Asia/Shanghai")
UNITS = ("郑州市", "开封市", "洛阳市", "省司法厅", "省公安厅")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


NOW = at("2026-12-31 12:00")  # 年底总结 (due 18:00) is the one deadline still ahead


def make_env(clock: FixedClock, tmp_path: Path) -> ServiceEnv:
    settings = load_settings(None, {}, cwd=tmp_path)
    return ServiceEnv(settings=settings, clock=clock, calendar=WorkCalendar(TZ), tz=TZ,
                      render_document=render_docx)


@dataclass
class Seeded:
    db: Database
    env: ServiceEnv
    clock: FixedClock
    unit: dict[str, int]
    admin: int
    task: dict[str, int] = field(default_factory=dict)

    def tx(self, fn: Any) -> Any:
        return self.db.transaction(fn)

    def add_task(self, title: str, due: datetime, scope: str = ",".join(UNITS)) -> int:
        info, _ = self.tx(lambda c: tasks.add(c, title=title, due=due, units_spec=scope,
                                              system="supervision", created_by=None,
                                              now=at("2025-12-01 09:00")))
        self.task[title] = int(info.id)
        return int(info.id)

    def submit(self, title: str, unit: str, when: datetime) -> int:
        s = self.tx(lambda c: submissions.submit(c, task_id=self.task[title],
                                                 unit_id=self.unit[unit], person_id=None,
                                                 text=f"{unit}的材料", now=when))
        return int(s.id)

    def review(self, sid: int, when: datetime, rating: str | None = None,
               reason: str | None = None) -> None:
        def fn(c: Connection) -> None:
            s = submissions.review(c, sid, accept=rating is not None, rating=rating,
                                   reason=reason, reviewer_id=None, now=when)
            flag_rules.refresh_task_unit_flag(c, self.env, s.task_id, s.unit_id, when)

        self.tx(fn)

    def innovation(self, unit: str, points: float, reason: str, when: datetime) -> None:
        self.tx(lambda c: records.record_innovation(c, self.env, unit_id=self.unit[unit],
                                                    reason=reason, points=points,
                                                    admin_id=self.admin, now=when))

    def incident(self, unit: str, points: float, reason: str, when: datetime) -> None:
        self.tx(lambda c: records.record_incident(c, self.env, unit_id=self.unit[unit],
                                                  reason=reason, points=points,
                                                  admin_id=self.admin, now=when))

    def mark_deadlines(self, when: datetime) -> None:
        self.tx(lambda c: flag_rules.mark_passed_deadlines(c, self.env, when))


def new_db(url: str, tmp_path: Path, now: datetime) -> Seeded:
    db = Database(url)
    upgrade(db)
    clock = FixedClock(now)
    env = make_env(clock, tmp_path)

    def seed(c: Connection) -> tuple[dict[str, int], int]:
        units.import_rows(c, [
            units.RosterRow("410100", "郑州市", "郑州", "city", ("郑州",)),
            units.RosterRow("410200", "开封市", "开封", "city"),
            units.RosterRow("410300", "洛阳市", "洛阳", "city"),
            units.RosterRow("SFT", "省司法厅", "司法厅", "department"),
            units.RosterRow("GAT", "省公安厅", "公安厅", "department"),
            units.RosterRow("ZY01", "中央驻豫甲单位", "驻豫甲", "central"),
        ], now=at("2025-11-01 09:00"))
        admin = people.add(c, identity="qq:10001", unit=None, role="admin", name="管理员",
                           now=at("2025-11-01 09:00"))
        return {u.name: u.id for u in units.list_units(c)}, admin.id

    unit, admin = db.transaction(seed)
    return Seeded(db, env, clock, unit, admin)


def seed_year(s: Seeded, year: int) -> None:
    """A year of work. ``year`` must be in the past of s.clock for every deadline to pass,
    except that of 《年底总结》 (31 Dec) when the clock stands before it."""
    y = year
    s.add_task("年初部署", at(f"{y}-01-01 00:00"))  # the first moment of the year counts
    s.add_task("一季度报告", at(f"{y}-03-31 18:00"))
    s.add_task("半年自查", at(f"{y}-06-30 18:00"), "郑州市,开封市,洛阳市")
    s.add_task("三季度调研", at(f"{y}-09-30 18:00"), "郑州市,开封市,省司法厅,省公安厅")
    s.add_task("年底总结", at(f"{y}-12-31 18:00"), "郑州市,洛阳市")
    s.add_task("上年收尾", at(f"{y - 1}-12-31 23:59"), "郑州市,开封市")  # another year
    s.add_task("下年开局", at(f"{y + 1}-01-01 00:00"), "郑州市,开封市")  # another year

    # Deadlines are marked as the minute sweep would, just after they pass.
    # 年初部署: 郑州 on the dot (优); 开封 late, accepted after urging; 司法厅 late, not reviewed;
    # 洛阳 and 公安厅 nothing.
    s.review(s.submit("年初部署", "郑州市", at(f"{y}-01-01 00:00")), at(f"{y}-01-05 10:00"), "优")
    s.mark_deadlines(at(f"{y}-01-01 00:01"))
    s.review(s.submit("年初部署", "开封市", at(f"{y}-01-03 10:00")), at(f"{y}-01-05 10:00"), "良")
    s.submit("年初部署", "省司法厅", at(f"{y}-01-04 10:00"))

    # 一季度报告: 郑州 优 on time; 开封 一般 on time; 洛阳 returned, then resubmitted late and
    # accepted; 司法厅 returned, nothing since; 公安厅 nothing.
    s.review(s.submit("一季度报告", "郑州市", at(f"{y}-03-20 10:00")), at(f"{y}-03-25 10:00"), "优")
    s.review(s.submit("一季度报告", "开封市", at(f"{y}-03-30 10:00")), at(f"{y}-04-01 10:00"), "一般")
    first = s.submit("一季度报告", "洛阳市", at(f"{y}-03-28 10:00"))
    s.review(first, at(f"{y}-03-29 10:00"), reason="缺少盖章")
    sft = s.submit("一季度报告", "省司法厅", at(f"{y}-03-31 17:00"))
    s.mark_deadlines(at(f"{y}-03-31 18:01"))
    s.review(sft, at(f"{y}-04-02 10:00"), reason="内容不全")
    s.review(s.submit("一季度报告", "洛阳市", at(f"{y}-04-03 10:00")), at(f"{y}-04-05 10:00"), "良")

    # 半年自查: 郑州 优; 开封 on time, awaiting review; 洛阳 nothing.
    s.review(s.submit("半年自查", "郑州市", at(f"{y}-06-01 10:00")), at(f"{y}-06-10 10:00"), "优")
    s.submit("半年自查", "开封市", at(f"{y}-06-30 17:59"))
    s.mark_deadlines(at(f"{y}-06-30 18:01"))

    # 三季度调研: 开封 优; 司法厅 late, awaiting review; 郑州 and 公安厅 nothing, and an admin
    # turns 公安厅's yellow into blue after a talk.
    s.review(s.submit("三季度调研", "开封市", at(f"{y}-09-01 10:00")), at(f"{y}-09-05 10:00"), "优")
    s.mark_deadlines(at(f"{y}-09-30 18:01"))
    s.submit("三季度调研", "省司法厅", at(f"{y}-10-08 10:00"))
    s.tx(lambda c: flag_rules.override(c, s.task["三季度调研"], s.unit["省公安厅"], "blue",
                                       "已说明情况，经督促后纠正", admin_id=s.admin,
                                       now=at(f"{y}-10-12 10:00")))

    # 年底总结: 郑州 on time; the deadline (18:00) has not passed at the clock's 12:00.
    s.submit("年底总结", "郑州市", at(f"{y}-11-20 10:00"))

    # Other years: must not count.
    s.review(s.submit("上年收尾", "郑州市", at(f"{y - 1}-12-30 10:00")), at(f"{y}-01-02 10:00"),
             "优")
    s.mark_deadlines(at(f"{y}-12-31 11:00"))

    s.innovation("郑州市", 2.0, "首创“执法体检”", at(f"{y}-05-10 10:00"))
    s.innovation("洛阳市", 0.5, "柔性执法清单", at(f"{y}-08-10 10:00"))
    s.incident("开封市", 1.5, "趋利执法，违规罚款", at(f"{y}-11-02 10:00"))
    s.innovation("中央驻豫甲单位", 1.0, "只有加分", at(f"{y}-12-31 11:00"))
    s.innovation("省公安厅", 3.0, "去年的事", at(f"{y - 1}-12-31 23:00"))


# ---------------------------------------------------------------------------------- oracle


def expected(conn: Connection, year: int, now: datetime, weights: tuple[float, float, float]
             ) -> dict[int, dict[str, Any]]:
    """Per unit, what the 年度统计 sheet must show: counted in Python from the raw rows."""
    start, end = datetime(year, 1, 1, tzinfo=TZ), datetime(year + 1, 1, 1, tzinfo=TZ)
    due = {t.id: t.due for t in conn.execute(select(Task.id, Task.due))
           if start <= t.due < end}
    first: dict[tuple[int, int], datetime] = {}
    for s in conn.execute(select(Submission.task_id, Submission.unit_id, Submission.submitted_at)):
        k = (s.task_id, s.unit_id)
        first[k] = min(first.get(k, s.submitted_at), s.submitted_at)
    out: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    for tu in conn.execute(select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.state)):
        if tu.task_id not in due:
            continue
        d = out[tu.unit_id]
        f = first.get((tu.task_id, tu.unit_id))
        passed = due[tu.task_id] < now
        d["应报任务"] += 1
        d["已到期"] += passed
        d["已报送"] += f is not None
        d["按时报送"] += f is not None and f <= due[tu.task_id]
        d["逾期报送"] += f is not None and f > due[tu.task_id]
        d["已通过"] += tu.state == "accepted"
        d["退回待改"] += tu.state == "returned"
        d["未完成"] += tu.state in ("owed", "returned")
        d["on_time_due"] += f is not None and f <= due[tu.task_id] and passed
    names = {"red": "红旗", "blue": "蓝旗", "yellow": "黄旗"}
    for fl in conn.execute(select(Flag.unit_id, Flag.task_id, Flag.color, Flag.set_at)
                           .where(Flag.current.is_(True))):
        if (fl.task_id in due) or (fl.task_id is None and start <= fl.set_at < end):
            out[fl.unit_id][names[fl.color]] += 1
    for e in conn.execute(select(ScoreEntry.unit_id, ScoreEntry.points, ScoreEntry.created_at)):
        if start <= e.created_at < end:
            out[e.unit_id]["加分" if e.points > 0 else "减分"] += abs(e.points)
    red, blue, yellow = weights
    for d in out.values():
        d["旗帜得分"] = d["红旗"] * red + d["蓝旗"] * blue + d["黄旗"] * yellow
        d["总分"] = round(d["旗帜得分"] + d["加分"] - d["减分"], 2)
        d["按时率"] = d["on_time_due"] / d["已到期"] if d["已到期"] else None
    return {k: dict(v) for k, v in out.items()}


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/reports.db"
    return pg_url("dudao_test_reports")


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> Iterator[Seeded]:
    s = new_db(db_url, tmp_path, NOW)
    seed_year(s, 2026)
    s.clock.set(NOW)
    yield s
    s.db.close()

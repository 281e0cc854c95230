"""A unit's page in the order an official reads it, and light enough for a phone."""

from __future__ import annotations

import re

from sqlalchemy import Connection

from bot.services import records, submissions, tasks
from tests.web.conftest import NOW, Web, at


def _positions(page: str, *ids: str) -> list[int]:
    return [page.index(f'id="{i}"') for i in ids]


async def _open_as_official(web: Web, unit: str) -> None:
    base = str(web.client.make_url("")).rstrip("/")
    web.client.session.cookie_jar.clear()
    resp = await web.client.get(web.view_link(web.seed.units[unit]).removeprefix(base),
                                allow_redirects=False)
    assert resp.status == 302


async def test_web_unit_page_puts_what_is_owed_first(webapp: Web) -> None:
    seed = webapp.seed
    zz = seed.units["郑州市"]
    env = webapp.services.env

    def write(conn: Connection) -> None:
        # Owed: a task due later this year. Returned: 郑州市's submission to task 2. Last year:
        # a task 郑州市 finished in 2025 (history, hidden until asked for). This year's flags:
        # task 1's red and an innovation.
        tasks.add(conn, title="四季度工作总结", due=at("2026-12-20 18:00"), units_spec="郑州市",
                  system="supervision", created_by=seed.admin_id, now=at("2026-07-05 09:00"))
        submissions.review(conn, seed.pending_submission, accept=False, rating=None,
                           reason="缺少盖章扫描件", reviewer_id=seed.admin_id, now=NOW)
        old, _ = tasks.add(conn, title="2025年度总结", due=at("2025-12-20 18:00"),
                           units_spec="郑州市", system="supervision", created_by=seed.admin_id,
                           now=at("2025-12-01 09:00"))
        sub = submissions.submit(conn, task_id=old.id, unit_id=zz, person_id=None, text="总结",
                                 now=at("2025-12-10 10:00"))
        submissions.review(conn, sub.id, accept=True, rating="优", reason=None,
                           reviewer_id=seed.admin_id, now=at("2025-12-11 10:00"))
        records.record_innovation(conn, env, unit_id=zz, reason="首创执法服务站", points=2,
                                  admin_id=seed.admin_id, now=NOW)

    webapp.services.db.transaction(write)
    await _open_as_official(webapp, "郑州市")
    page = await (await webapp.client.get(f"/units/{zz}")).text()
    owed, returned, flags, kids, history = _positions(
        page, "owed", "returned", "year-flags", "children", "history")
    assert owed < returned < flags < kids < history
    assert "四季度工作总结" in page[owed:returned] and "还有 163 天" in page[owed:returned]
    assert "缺少盖章扫描件" in page[returned:flags] and "三季度调研报告" in page[returned:flags]
    assert "首创执法服务站" in page[flags:kids]  # this year's innovation, with its reason
    assert re.search(r'id="year-red">2<', page)  # task 1's red flag and the innovation
    assert "中牟县" in page[kids:history]
    assert "一季度工作报告" in page[history:] and "2025年度总结" not in page
    assert 'href="/units/' + str(zz) + '?all=1#history">往年的任务（1 项）' in page
    every = await (await webapp.client.get(f"/units/{zz}?all=1")).text()
    assert "2025年度总结" in every[every.index('id="history"'):]
    assert "/review" not in page and "改旗" not in page  # read-only


async def test_web_unit_page_for_a_unit_with_200_tasks_stays_under_100_kb(webapp: Web) -> None:
    """The phone's budget (issue 18) at the size of a busy year: 200 tasks, most submitted and
    reviewed; bench/bench_board.py measures the same at 300 units × 200 tasks."""
    seed = webapp.seed
    zz = seed.units["郑州市"]

    def write(conn: Connection) -> None:
        for i in range(200):
            due = at("2026-01-05 18:00").replace(day=1 + i % 28, month=1 + i % 12)
            t, _ = tasks.add(conn, title=f"第{i + 1}项督导任务：季度材料报送", due=due,
                             units_spec="郑州市", system="supervision", created_by=seed.admin_id,
                             now=at("2026-01-01 09:00"))
            if i % 3:
                sub = submissions.submit(conn, task_id=t.id, unit_id=zz, person_id=None,
                                         text="郑州市关于本项任务的落实情况报告，请审阅。" * 2,
                                         now=at("2026-01-01 10:00"))
                if i % 3 == 1:
                    submissions.review(conn, sub.id, accept=True, rating="良", reason=None,
                                       reviewer_id=seed.admin_id, now=at("2026-01-02 10:00"))

    webapp.services.db.transaction(write)
    await _open_as_official(webapp, "郑州市")
    resp = await webapp.client.get(f"/units/{zz}")
    body = await resp.read()
    assert resp.status == 200 and body.count(b'<tbody class=c ') == 202
    assert len(body) < 100_000, len(body)

"""The board's plan view (/plan) and its JSON (/api/v1/plan): the year's recurring work per unit
and quarter, from the same records as everything else; a read-only link sees its own units; on
a phone and a wide screen in a real browser.

On top of the seed: 四个一 created on 1 June 2026 for every unit, so the second quarter's record
is overdue (the clock stands at 2026-07-10), the third's is open, the fourth's not created yet;
郑州市 has sent its third-quarter record, 开封市 its second-quarter one (returned)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from bot.services import plans, submissions
from storage.models import Task
from tests.web import layout
from tests.web.conftest import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    API_TOKEN,
    Web,
    at,
)
from tests.web.test_web_browser import (
    DESKTOP_UA,
    PHONE,
    SHOWN,
    WECHAT_UA,
    WIDE,
    _binary,
    _check,
    _cjk_font_or_fail_in_ci,
)

RECORD = "时间：7月3日 地点：中牟县 发现问题：公示不全 典型经验：说理式执法"


def four_ones(web: Web) -> dict[str, int]:
    seed = web.seed

    def write(conn: Connection) -> dict[str, int]:
        plans.preset(conn, web.services.env, "四个一", year=2026, now=at("2026-06-01 09:00"),
                     actor="cli:test", channel="cli")
        ids = {r.period: r.id for r in conn.execute(
            select(Task.id, Task.period).where(Task.title.like("%调研指导记录")))}
        submissions.submit(conn, task_id=ids["2026Q3"], unit_id=seed.units["郑州市"],
                           person_id=None, text=RECORD, now=at("2026-07-09 10:00"))
        sid = submissions.submit(conn, task_id=ids["2026Q2"], unit_id=seed.units["开封市"],
                                 person_id=None, text=RECORD, now=at("2026-06-20 10:00")).id
        submissions.review(conn, sid, accept=False, rating=None, reason="地点不具体",
                           reviewer_id=seed.admin_id, now=at("2026-06-22 10:00"))
        return ids

    return web.services.db.transaction(write)


CELL = re.compile(r'<tr data-u="(\d+)">(.*?)</tr>', re.S)
STATE = re.compile(r'data-state="(\w+)"')


async def test_web_plan_view_per_unit_and_quarter(webapp: Web) -> None:
    four_ones(webapp)
    assert (await webapp.login()).status == 303
    html = await (await webapp.client.get("/plan?year=2026")).text()
    assert "第二季度" in html and "第三季度" in html and "第四季度" in html and "全年" in html
    rows = {int(u): STATE.findall(body) for u, body in CELL.findall(html)}
    units = webapp.seed.units
    assert set(rows) == set(units.values())  # every unit but the office: the seed has none
    # columns: Q2, Q3, Q4 visit records, then the three yearly pieces of work
    assert rows[units["郑州市"]] == ["overdue", "received", "upcoming", "owed", "owed", "owed"]
    assert rows[units["开封市"]] == ["returned", "owed", "upcoming", "owed", "owed", "owed"]
    assert rows[units["省财政厅"]] == ["overdue", "owed", "upcoming", "owed", "owed", "owed"]
    assert re.search(rf'data-u="{units["郑州市"]}">.*?<td title="已报送 1 期，已到期 1 期，全年 6 期">1/1</td>',
                     html, re.S)
    kind = await (await webapp.client.get("/plan?year=2026&kind=county")).text()
    assert [int(u) for u, _ in CELL.findall(kind)] == [units["中牟县"]]
    bad = await (await webapp.client.get("/plan?year=twenty")).text()
    assert "年份“twenty”无效" in bad
    empty = await (await webapp.client.get("/plan?year=2025")).text()
    assert "2025年还没有周期性工作" in empty


async def test_web_plan_for_a_read_only_link_and_as_json(webapp: Web) -> None:
    four_ones(webapp)
    units = webapp.seed.units
    link = webapp.view_link(units["郑州市"])
    resp = await webapp.client.get("/" + link.split("/", 3)[3])  # the link signs the viewer in
    assert resp.status == 200
    html = await (await webapp.client.get("/plan?year=2026")).text()
    assert {int(u) for u, _ in CELL.findall(html)} == {units["郑州市"], units["中牟县"]}

    api = await webapp.client.get("/api/v1/plan?year=2026",
                                  headers={"Authorization": f"Bearer {API_TOKEN}"})
    body = await api.json()
    assert [(c["period"], c["label"], c["quarter"], c["task_id"] is not None)
            for c in body["columns"]] == [
        ("2026Q2", "第二季度", 2, True), ("2026Q3", "第三季度", 3, True),
        ("2026Q4", "第四季度", 4, False), ("2026", "全年", 0, True), ("2026", "全年", 0, True),
        ("2026", "全年", 0, True)]
    by_name = {u["name"]: u for u in body["units"]}
    assert by_name["郑州市"]["cells"] == ["overdue", "received", "upcoming", "owed", "owed", "owed"]
    assert (by_name["郑州市"]["done"], by_name["郑州市"]["due"], by_name["郑州市"]["total"]) == (1, 1, 6)
    anonymous = await webapp.client.get("/api/v1/plan?year=2026",
                                        headers={"Authorization": "Bearer nope"})
    assert anonymous.status == 401


@pytest.mark.browser
async def test_web_browser_plan_view_on_a_phone_and_wide(webapp: Web, tmp_path: Path) -> None:
    binary = _binary()
    _cjk_font_or_fail_in_ci()
    four_ones(webapp)
    from tests.web.cdp import chromium

    base = str(webapp.client.make_url("")).rstrip("/")
    shots = Path(os.environ.get("DUDAO_SCREENSHOT_DIR", tmp_path))
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    async with chromium(binary, tmp_path / "profile") as page:
        await page.emulate(*WIDE, mobile=False, user_agent=DESKTOP_UA)
        await page.goto(f"{base}/login")
        await page.submit(f"""
            document.querySelector('input[name=login]').value = {json.dumps(ADMIN_LOGIN)};
            document.querySelector('input[name=password]').value = {json.dumps(ADMIN_PASSWORD)};
            document.querySelector('#login-submit').click();""")
        for width, height in (PHONE, WIDE):
            phone = width == PHONE[0]
            await page.emulate(width, height, mobile=phone,
                               user_agent=WECHAT_UA if phone else DESKTOP_UA)
            await page.goto(f"{base}/plan?year=2026")
            await page.screenshot(shots / f"plan-{width}.png")
            _check(await layout.audit(page), width, f"plan at {width}px")
            assert (await page.js(f"{SHOWN}('#plan-list')")) is phone
            assert (await page.js(f"{SHOWN}('#plan')")) is not phone
            if phone:
                text = await page.js("document.getElementById('plan-list').innerText")
                assert "郑州市" in text and "已完成 1 期 / 已到期 1 期" in text
                assert "待办：第二季度调研指导记录（逾期未报）" in text
                assert "待办：第二季度调研指导记录（退回待改）" in text  # 开封市
            else:
                cell = json.loads(await page.js("""JSON.stringify((() => {
                    const td = document.querySelector('#plan tbody tr td[data-state=overdue]');
                    return [td.textContent.trim(), getComputedStyle(td).backgroundColor,
                            td.title];})())"""))
                assert cell[0] == "逾" and cell[2] == "逾期未报送" and cell[1] != "rgba(0, 0, 0, 0)"

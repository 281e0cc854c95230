"""The board's pages for demonstration sites, spot checks and rectification items, over HTTP:
admins' forms (CSRF-checked, audited, the unit told through the outbox), the year's list of
accepted sites, a reproducible draw, an item closed or returned, the unit page showing its open
items, and a read-only link seeing only its own units and no forms (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.domain.spot_checks import draw as pure_draw
from bot.services import rectifications
from storage.models import AuditEntry
from tests.web.conftest import EXCHANGE, Web

FLASH = re.compile(r'id="flash">([^<]*)<')
ERROR = re.compile(r'id="flash-error">([^<]*)<')


async def post(web: Web, path: str, form: dict[str, str], page: str) -> tuple[str, str]:
    token = await web.csrf(page)
    resp = await web.client.post(path, data={"csrf": token, "next": page, **form})
    html = await resp.text()
    ok, err = FLASH.search(html), ERROR.search(html)
    return (ok.group(1) if ok else ""), (err.group(1) if err else "")


def audits(web: Web, action: str) -> list[tuple[str, str, str]]:
    return web.services.db.transaction(lambda c: [tuple(r) for r in c.execute(
        select(AuditEntry.actor, AuditEntry.channel, AuditEntry.target)
        .where(AuditEntry.action == action).order_by(AuditEntry.id))])


async def flow(web: Web) -> None:
    assert (await web.login()).status == 303
    # sites: nominate, record cultivation, accept
    ok, err = await post(web, "/sites", {"unit": "开封", "name": "兰考县市场监管所",
                                         "description": "包容审慎监管"}, "/sites")
    assert ok == "已登记示范点候选 1：开封市 兰考县市场监管所" and not err
    ok, _ = await post(web, "/sites/1/records", {"kind": "visit", "text": "实地走访"}, "/sites")
    assert ok == "已记录示范点 1 的培育情况（实地走访）"
    _, err = await post(web, "/sites/1/decision", {"verdict": "pass", "reason": ""}, "/sites")
    assert err == "验收结论需写明理由"
    ok, _ = await post(web, "/sites/1/decision", {"verdict": "pass", "reason": "成效明显"},
                       "/sites")
    assert ok == "示范点 1（开封市 兰考县市场监管所）：验收通过"
    html = await (await web.client.get("/sites?year=2026")).text()
    assert re.search(r'<ol id="accepted"><li>开封市 · 兰考县市场监管所', html)
    assert '<b id="n-accepted">1</b>' in html
    assert web.outbox_texts(EXCHANGE)[-1] == ("开封市的示范点“兰考县市场监管所”（编号 1）验收通过，"
                                              "列入本年度示范点名单：成效明显")
    assert [a[1] for a in audits(web, "site.accept")] == ["web"]
    # a forged form is refused
    resp = await web.client.post("/sites", data={"csrf": "forged", "unit": "开封", "name": "x"})
    assert resp.status == 403
    # a spot check, and the same pool and seed again: the same units
    ok, _ = await post(web, "/spotchecks", {"pool": "kind:city", "count": "1", "seed": "7"},
                       "/spotchecks")
    ok2, _ = await post(web, "/spotchecks", {"pool": "各地市", "count": "1", "seed": "7"},
                        "/spotchecks")
    units = web.seed.units
    expected = pure_draw([units["郑州市"], units["开封市"]], 1, 7)
    name = {v: k for k, v in units.items()}[expected[0]]
    assert ok == f"抽查 1：抽中 {name}（种子 7）" and ok2 == f"抽查 2：抽中 {name}（种子 7）"
    html = await (await web.client.get("/spotchecks")).text()
    assert html.count("<code>7</code>") == 2 and "一致" in html
    # rectification: add from the check, the unit reports, return, close
    ok, _ = await post(web, "/rectifications", {"unit": name, "text": "案卷归档不全",
                                                "due_date": "2026-07-08", "check_id": "1"},
                       "/rectifications")
    assert ok == f"已建立整改事项 #R1：{name}，7月8日 18:00 截止，已通知该单位"
    assert web.outbox_texts(EXCHANGE)[-1].startswith(f"【整改通知】{name}：案卷归档不全")
    html = await (await web.client.get("/rectifications")).text()
    assert '<b id="n-overdue">1</b>' in html and "已逾期" in html
    unit_html = await (await web.client.get(f"/units/{expected[0]}")).text()
    assert 'id="unit-rect-1"' in unit_html and "案卷归档不全" in unit_html
    now = web.clock.now()
    web.services.db.transaction(lambda c: rectifications.report(
        c, 1, unit_id=expected[0], person_id=None, text="已补齐", now=now))
    ok, _ = await post(web, "/rectifications/1/return", {"reason": "缺目录"}, "/rectifications")
    assert ok == f"已退回整改事项 #R1（{name}）：缺目录"
    _, err = await post(web, "/rectifications/1/return", {"reason": "再退"}, "/rectifications")
    assert err == "整改事项 #R1 当前为已退回，不能退回（单位尚未报送整改情况）"
    ok, _ = await post(web, "/rectifications/1/close", {}, "/rectifications")
    assert ok == f"整改事项 #R1（{name}）已销号"
    unit_html = await (await web.client.get(f"/units/{expected[0]}")).text()
    assert 'id="unit-rect-1"' not in unit_html and "没有未完成的整改事项" in unit_html
    assert [a[1:] for a in audits(web, "rectification.close")] == [("web", "rectification:1")]


async def test_web_sites_checks_rectifications(webapp: Web) -> None:
    await flow(webapp)


async def test_web_sites_checks_rectifications_postgres(webapp_pg: Web) -> None:
    await flow(webapp_pg)


async def test_web_read_only_link_sees_its_units_and_no_forms(webapp: Web) -> None:
    web = webapp
    units = web.seed.units
    now = web.clock.now()

    def add(conn: Any) -> None:
        for unit in ("郑州市", "开封市"):
            rectifications.add(conn, unit_id=units[unit], text=f"{unit}的整改", due=now,
                               actor="cli:test", now=now)

    web.services.db.transaction(add)
    link = web.view_link(units["开封市"])
    resp = await web.client.get("/" + link.split("/", 3)[3])  # the link signs the viewer in
    assert resp.status == 200
    html = await (await web.client.get("/rectifications")).text()
    assert "开封市的整改" in html and "郑州市的整改" not in html
    assert 'id="add-rect"' not in html and "/close" not in html
    resp = await web.client.post("/rectifications/1/close", data={"csrf": await web.csrf(
        "/rectifications")})
    assert resp.status == 403

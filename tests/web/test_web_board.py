"""The board's pages, admin actions and JSON API against the real app and a seeded database."""

from __future__ import annotations

import re
from datetime import UTC

import pytest
from sqlalchemy import select

from bot.services import board as board_svc
from bot.services import bulletins as bulletins_svc
from bot.services import units as units_svc
from storage.models import AuditEntry, Bulletin, Flag, Submission, Task, TaskUnit
from tests.web.conftest import API_TOKEN, EXCHANGE, NOW, TZ, Web, at


def row_cells(html: str, unit_id: int) -> list[str]:
    m = re.search(rf"<tr data-u={unit_id}>(.*?)</tr>", html)
    assert m, f"no row for unit {unit_id}"
    return re.findall(r"<td(?: class=(\w+))?>", m.group(1))


async def test_web_board_shows_flags_and_counts_from_the_database(webapp: Web) -> None:
    await webapp.login()
    html = await (await webapp.client.get("/")).text()
    u = webapp.seed.units
    # [red count, blue count, yellow count, task 1, task 2]
    assert row_cells(html, u["郑州市"]) == ["nr", "nb", "ny", "fr", "sr"]
    assert row_cells(html, u["开封市"]) == ["nr", "nb", "ny", "fb", "so"]
    assert row_cells(html, u["中牟县"]) == ["nr", "nb", "ny", "fy", "so"]
    assert row_cells(html, u["省财政厅"]) == ["nr", "nb", "ny", "sr", "so"]
    assert re.search(r'id="total-red">1<', html) and re.search(r'id="total-yellow">1<', html)
    assert "按时完成，成效显著" in html  # the legend of the rules
    # Filters: only cities; only the guidance system; a period without tasks.
    cities = await (await webapp.client.get("/?kind=city")).text()
    assert f"data-u={u['中牟县']}>" not in cities and f"data-u={u['郑州市']}>" in cities
    guidance = await (await webapp.client.get("/?system=guidance")).text()
    assert "三季度调研报告" in guidance and "一季度工作报告" not in guidance
    h1 = await (await webapp.client.get("/?period=2026H1")).text()
    assert "一季度工作报告" in h1 and "三季度调研报告" not in h1
    # The same half however it is written (bot/domain/periods.py).
    for spelt in ("2026-H1", "2026年上半年"):
        same = await (await webapp.client.get("/", params={"period": spelt})).text()
        assert "一季度工作报告" in same and "三季度调研报告" not in same, spelt
    bad = await webapp.client.get("/?period=someday")
    assert bad.status == 200 and "看不懂" in await bad.text()


async def test_web_grid_is_four_statements_whatever_its_size(webapp: Web) -> None:
    def grid_traced(c):
        statements: list[str] = []
        raw = c.connection.dbapi_connection
        raw.set_trace_callback(statements.append)  # sees the driver-level statement too
        try:
            return board_svc.grid(c, tz=TZ), statements
        finally:
            raw.set_trace_callback(None)

    g, statements = webapp.services.db.transaction(grid_traced)
    # units, tasks, every cell, the units' period flags
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 4
    assert len(g.cells) == 8
    assert g.totals()["red"] == 1 and g.task_done[webapp.seed.task1] == 3
    # With a task filter the cell statement is still one, restricted to the chosen tasks.
    g, statements = webapp.services.db.transaction(
        lambda c: (board_svc.grid(c, tz=TZ, system="guidance"), []))
    assert {t for _, t in g.cells} == {webapp.seed.task2}


async def test_web_unit_and_task_pages_show_submissions_flags_and_attachments(webapp: Web) -> None:
    await webapp.login()
    zz = webapp.seed.units["郑州市"]
    unit = await (await webapp.client.get(f"/units/{zz}")).text()
    assert "调研报告.docx" in unit and "按时完成，成效显著" in unit
    assert 'id="unit-red">1<' in unit
    link = re.search(r'href="/files/(\d+)"', unit)
    assert link
    resp = await webapp.client.get(f"/files/{link.group(1)}")
    assert resp.status == 200 and await resp.read() == b"PK\x03\x04 fake docx bytes"
    assert "attachment" in resp.headers["Content-Disposition"]
    task = await (await webapp.client.get(f"/tasks/{webapp.seed.task1}")).text()
    assert "逾期" in task and "中牟县" in task and "<svg" in task
    assert (await webapp.client.get("/tasks/999")).status == 404
    charts = await (await webapp.client.get("/charts")).text()
    # Two charts, each drawn for a wide screen and for a phone.
    assert charts.count('<svg xmlns="http://www.w3.org/2000/svg" class="wide"') == 2
    assert charts.count('<svg xmlns="http://www.w3.org/2000/svg" class="narrow"') == 2
    assert "一季度工作报告" in charts


async def test_web_accepting_a_submission_updates_the_database_and_tells_the_unit(webapp: Web
                                                                                  ) -> None:
    await webapp.login()
    zz, sid = webapp.seed.units["郑州市"], webapp.seed.pending_submission
    token = await webapp.csrf(f"/units/{zz}")
    resp = await webapp.client.post(f"/submissions/{sid}/review",
                                    data={"csrf": token, "action": "accept", "rating": "优",
                                          "next": f"/units/{zz}"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith(f"/units/{zz}?msg=")
    row = webapp.services.db.transaction(lambda c: c.execute(
        select(Submission.status, Submission.rating, Submission.reviewed_by)
        .where(Submission.id == sid)).one())
    assert tuple(row) == ("accepted", "优", webapp.seed.admin_id)
    texts = webapp.outbox_texts(EXCHANGE)
    assert any(f"（#{sid}）已审核通过，评价：优" in t for t in texts), texts
    audit = webapp.services.db.transaction(lambda c: c.execute(
        select(AuditEntry.actor, AuditEntry.channel).where(
            AuditEntry.action == "submission.accept")).all())
    assert [tuple(a) for a in audit] == [(f"person:{webapp.seed.admin_id}", "web")]
    # Reviewing it again is refused with the chat's own message, shown on the page.
    resp = await webapp.client.post(f"/submissions/{sid}/review",
                                    data={"csrf": token, "action": "accept", "rating": "良",
                                          "next": f"/units/{zz}"})
    assert "不能重复审核" in await resp.text()


async def test_web_returning_needs_a_reason_and_then_tells_the_unit(webapp: Web) -> None:
    await webapp.login()
    sid = webapp.seed.pending_submission
    token = await webapp.csrf("/")
    resp = await webapp.client.post(f"/submissions/{sid}/review",
                                    data={"csrf": token, "action": "return", "reason": " "})
    assert "退回需要写明原因" in await resp.text()
    await webapp.client.post(f"/submissions/{sid}/review",
                             data={"csrf": token, "action": "return", "reason": "缺少盖章扫描件"})
    state = webapp.services.db.transaction(lambda c: c.execute(
        select(TaskUnit.state).where(TaskUnit.last_submission_id == sid)).scalar_one())
    assert state == "returned"
    assert any("已退回：缺少盖章扫描件" in t for t in webapp.outbox_texts(EXCHANGE))
    task = await (await webapp.client.get(f"/tasks/{webapp.seed.task2}")).text()
    assert "缺少盖章扫描件" in task


async def test_web_flag_override_is_recorded_with_its_reason(webapp: Web) -> None:
    await webapp.login()
    zm, t1 = webapp.seed.units["中牟县"], webapp.seed.task1
    token = await webapp.csrf("/")
    resp = await webapp.client.post("/flags/override", data={
        "csrf": token, "task_id": str(t1), "unit_id": str(zm), "color": "blue", "reason": ""})
    assert "必须写明原因" in await resp.text()
    await webapp.client.post("/flags/override", data={
        "csrf": token, "task_id": str(t1), "unit_id": str(zm), "color": "blue",
        "reason": "因灾延期，经批准"})
    flags = webapp.services.db.transaction(lambda c: c.execute(
        select(Flag.color, Flag.current, Flag.source).where(Flag.unit_id == zm)
        .order_by(Flag.id)).all())
    assert [tuple(f) for f in flags] == [("yellow", False, "rule"), ("blue", True, "override")]
    unit = await (await webapp.client.get(f"/units/{zm}")).text()
    assert "因灾延期，经批准" in unit and "管理员改旗" in unit


async def test_web_publishing_a_task_assigns_the_units(webapp: Web) -> None:
    await webapp.login()
    token = await webapp.csrf("/tasks")
    resp = await webapp.client.post("/tasks", data={
        "csrf": token, "next": "/tasks", "title": "<b>四季度</b>总结", "due_date": "2026-12-20",
        "due_time": "17:00", "system": "evaluation", "scope": "kind:city", "units": "",
        "description": ""})
    page = await resp.text()
    assert "已发布任务" in page and "共 2 个单位" in page
    assert "&lt;b&gt;四季度&lt;/b&gt;总结" in page and "<b>四季度</b>" not in page  # escaped
    task = webapp.services.db.transaction(lambda c: c.execute(
        select(Task.id, Task.due, Task.system).where(Task.title == "<b>四季度</b>总结")).one())
    assert task.due == at("2026-12-20 17:00").astimezone(UTC) and task.system == "evaluation"
    resp = await webapp.client.post("/tasks", data={
        "csrf": token, "next": "/tasks", "title": "x", "due_date": "2026-12-20",
        "scope": "units", "units": "不存在市"})
    assert "找不到单位：不存在市" in await resp.text()


async def test_web_publishing_a_bulletin_queues_it_for_the_groups(webapp: Web) -> None:
    env = webapp.services.env
    bid = webapp.services.db.transaction(
        lambda c: bulletins_svc.draft_weekly(c, env, NOW))
    await webapp.login()
    page = await (await webapp.client.get("/bulletins")).text()
    assert f"/bulletins/{bid}/publish" in page
    token = await webapp.csrf("/bulletins")
    resp = await webapp.client.post(f"/bulletins/{bid}/publish",
                                    data={"csrf": token, "next": "/bulletins"})
    assert "已发布" in await resp.text()
    status = webapp.services.db.transaction(lambda c: c.execute(
        select(Bulletin.status, Bulletin.approved_by).where(Bulletin.id == bid)).one())
    assert tuple(status) == ("published", webapp.seed.admin_id)
    assert len(webapp.outbox_texts(EXCHANGE)) == 1


async def test_web_api_with_a_bearer_token(webapp: Web) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    bad = await webapp.client.get("/api/v1/units", headers={"Authorization": "Bearer nope"})
    assert bad.status == 401
    units = await (await webapp.client.get("/api/v1/units", headers=headers)).json()
    # Lists are paged (DESIGN §5): the records are under "items".
    assert {u["name"] for u in units["items"]} == {"郑州市", "开封市", "中牟县", "省财政厅"}
    board = await (await webapp.client.get("/api/v1/board", headers=headers)).json()
    assert board["totals"]["red"] == 1 and board["totals"]["blue"] == 1
    zz = webapp.seed.units["郑州市"]
    by_id = {u["id"]: u for u in board["units"]}
    assert by_id[zz]["cells"] == {str(webapp.seed.task1): "red",
                                  str(webapp.seed.task2): "received"}
    tasks = await (await webapp.client.get("/api/v1/tasks", headers=headers)).json()
    assert [(t["title"], t["submitted"], t["units"]) for t in tasks["items"]] == [
        ("一季度工作报告", 3, 4), ("三季度调研报告", 1, 4)]
    unit = await (await webapp.client.get(f"/api/v1/units/{zz}", headers=headers)).json()
    assert unit["flags"] == {"red": 1, "blue": 0, "yellow": 0}
    assert unit["submissions"][0]["attachments"][0]["name"] == "调研报告.docx"
    missing = await webapp.client.get("/api/v1/units/999", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"
    assert (await webapp.client.get("/api/v1/board?period=x", headers=headers)).status == 400
    # An admin's board session works as well.
    await webapp.login()
    assert (await webapp.client.get("/api/v1/units")).status == 200


async def test_web_names_are_escaped_everywhere(webapp: Web) -> None:
    evil = '<script>alert("x")</script>'

    def rename(c):
        units_svc.import_rows(c, [units_svc.RosterRow("4102", evil, "开封", "city")], now=NOW)

    webapp.services.db.transaction(rename)
    await webapp.login()
    for path in ("/", f"/units/{webapp.seed.units['开封市']}", f"/tasks/{webapp.seed.task1}",
                 "/charts"):
        html = await (await webapp.client.get(path)).text()
        assert evil not in html, path
        assert "&lt;script&gt;" in html, path


@pytest.mark.postgres
async def test_web_board_review_and_api_on_postgres(webapp_pg: Web) -> None:
    web = webapp_pg
    await web.login()
    html = await (await web.client.get("/")).text()
    u = web.seed.units
    assert row_cells(html, u["郑州市"]) == ["nr", "nb", "ny", "fr", "sr"]
    assert row_cells(html, u["中牟县"]) == ["nr", "nb", "ny", "fy", "so"]
    filtered = await (await web.client.get("/?period=2026H2&kind=city")).text()
    assert row_cells(filtered, u["郑州市"]) == ["nr", "nb", "ny", "sr"]
    sid = web.seed.pending_submission
    token = await web.csrf("/")
    await web.client.post(f"/submissions/{sid}/review",
                          data={"csrf": token, "action": "accept", "rating": "优"})
    board = await (await web.client.get("/api/v1/board")).json()
    assert board["totals"]["red"] == 2
    for path in ("/tasks", f"/tasks/{web.seed.task2}", f"/units/{u['郑州市']}", "/charts",
                 "/notices", "/audit"):
        assert (await web.client.get(path)).status == 200, path


async def test_web_innovation_and_incident_add_a_period_flag_and_points(webapp: Web) -> None:
    await webapp.login()
    kf = webapp.seed.units["开封市"]
    token = await webapp.csrf(f"/units/{kf}")
    resp = await webapp.client.post(f"/units/{kf}/record", data={
        "csrf": token, "next": f"/units/{kf}", "kind": "innovation",
        "reason": "首创“枫桥式”执法服务站", "points": "2", "evidence": ""})
    page = await resp.text()
    assert "已记录创新举措：开封市记红旗一面、加 2 分" in page
    assert 'id="unit-red">1<' in page and "+2.0" in page
    resp = await webapp.client.post(f"/units/{kf}/record", data={
        "csrf": token, "next": f"/units/{kf}", "kind": "incident",
        "reason": "趋利执法，造成不良影响", "points": "", "evidence": "群众投诉"})
    page = await resp.text()
    assert "已记录执法问题：开封市记黄旗一面" in page and 'id="unit-yellow">1<' in page
    resp = await webapp.client.post(f"/units/{kf}/record", data={
        "csrf": token, "next": f"/units/{kf}", "kind": "innovation", "reason": ""})
    assert "flash-error" in await resp.text()
    board = await (await webapp.client.get("/")).text()
    # 开封市: its blue task flag plus the two period flags
    assert re.search(rf"<tr data-u={kf}><th class=un><a [^>]+>开封市</a></th>"
                     r"<td class=nr>1</td><td class=nb>1</td><td class=ny>1</td>", board)
    # A period counts the period flags set in it, as the statistics (and the export) do.
    for period, n in (("2026", 2), ("2026H2", 2), ("2026H1", 0)):
        g = webapp.services.db.transaction(lambda c, p=period: board_svc.grid(c, tz=TZ, period=p))
        assert g.period_flags[kf] == n, period
    actions = webapp.services.db.transaction(lambda c: [r.action for r in c.execute(
        select(AuditEntry.action).where(AuditEntry.channel == "web").order_by(AuditEntry.id))])
    assert actions == ["web.login", "flag.innovation", "flag.incident"]

"""The board's correction pages over HTTP (issue 14): people and groups (list, edit, remove) and a
task's edit and cancel forms — admin only, CSRF-checked, audited, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import AuditEntry, Flag, Group, Person, Task
from tests.web.conftest import EXCHANGE, Web


def _q(web: Web, stmt: Any) -> list[Any]:
    return list(web.services.db.transaction(lambda c: c.execute(stmt).all()))


def _audit(web: Web, action: str) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in _q(web, select(AuditEntry.actor, AuditEntry.channel,
                                             AuditEntry.target)
                                 .where(AuditEntry.action == action))]


async def _post(web: Web, path: str, page: str, **data: str) -> str:
    token = await web.csrf(page)
    resp = await web.client.post(path, data={"csrf": token, "next": page, **data})
    assert resp.status == 200, resp.status
    return await resp.text()


async def _people_and_groups(web: Web) -> None:
    await web.login()
    admin = f"person:{web.seed.admin_id}"
    html = await (await web.client.get("/people")).text()
    assert "qq:30001" in html and 'class="inline person-edit"' in html
    (liaison,) = _q(web, select(Person.id).where(Person.name == "张联络"))
    pid = liaison.id
    page = await _post(web, f"/people/{pid}/edit", "/people", name="张三丰", unit="开封市",
                       role="liaison")
    assert "已修改 qq:30001：开封市 联络员 张三丰" in page
    row = _q(web, select(Person.name, Person.unit_id).where(Person.id == pid))[0]
    assert (row.name, row.unit_id) == ("张三丰", web.seed.units["开封市"])
    # the same values again: one clear line, nothing written
    page = await _post(web, f"/people/{pid}/edit", "/people", name="张三丰", unit="开封市",
                       role="liaison")
    assert "qq:30001 没有变化" in page
    assert _audit(web, "person.edit") == [(admin, "web", f"person:{pid}")]
    # without the CSRF token: refused
    resp = await web.client.post(f"/people/{pid}/remove", data={"next": "/people"})
    assert resp.status == 403
    page = await _post(web, f"/people/{pid}/remove", "/people")
    assert "已停用 qq:30001" in page
    assert _q(web, select(Person.active).where(Person.id == pid))[0].active is False
    assert "qq:30001" not in await (await web.client.get("/people")).text()
    assert _audit(web, "person.remove") == [(admin, "web", f"person:{pid}")]

    html = await (await web.client.get("/groups")).text()
    assert EXCHANGE in html
    (group,) = _q(web, select(Group.id).where(Group.chat == EXCHANGE))
    page = await _post(web, f"/groups/{group.id}/edit", "/groups", name="郑州联络群",
                       units="郑州市,中牟县")
    assert "已修改群 qq:group:40001（郑州联络群），服务 2 个单位" in page
    page = await _post(web, f"/groups/{group.id}/remove", "/groups")
    assert "已移除群 qq:group:40001" in page
    assert _q(web, select(Group.active).where(Group.id == group.id))[0].active is False
    assert [a[2] for a in _audit(web, "group.edit")] == [EXCHANGE]
    assert [a[2] for a in _audit(web, "group.remove")] == [EXCHANGE]


async def _task_edit_and_cancel(web: Web) -> None:
    await web.login()
    t1, t2 = web.seed.task1, web.seed.task2
    html = await (await web.client.get(f"/tasks/{t2}")).text()
    assert 'id="task-edit"' in html and 'value="2026-09-30"' in html
    page = await _post(web, f"/tasks/{t2}/edit", f"/tasks/{t2}", title="三季度调研报告",
                       due_date="2026-10-15", due_time="18:00",
                       units="郑州市,开封市,中牟县,省财政厅")
    assert f"已修改任务 {t2}《三季度调研报告》：截止 10月15日 18:00，4 个单位，已通知 1 个群" in page
    told = web.outbox_texts(EXCHANGE)[-1]
    assert told.startswith(f"【任务变更】《三季度调研报告》（任务 {t2}）截止时间由 9月30日 18:00 改为 "
                           "10月15日 18:00")
    # a bad date is one line, nothing changed
    page = await _post(web, f"/tasks/{t2}/edit", f"/tasks/{t2}", due_date="10/15")
    assert "截止日期或时间格式不对" in page

    assert f'href="/tasks/{t1}"' in await (await web.client.get("/")).text()
    # task 1 is past due with a red, a blue and a yellow flag: cancelled, all three withdrawn
    page = await _post(web, f"/tasks/{t1}/cancel", f"/tasks/{t1}", reason="重复发布")
    flash = page.split('id="flash"', 1)[1].split("</div>", 1)[0] if 'id="flash"' in page else page[-600:]
    assert f"已撤销任务 {t1}《一季度工作报告》，撤回旗帜 3 面，已通知 1 个群" in flash, flash
    assert "状态：已撤销" in page and 'id="task-cancel"' not in page
    flags = _q(web, select(Flag.current, Flag.withdrawn_reason).where(Flag.task_id == t1))
    assert flags and all(not f.current for f in flags)
    assert {f.withdrawn_reason for f in flags} >= {"任务已撤销：重复发布"}
    assert _q(web, select(Task.status).where(Task.id == t1))[0].status == "cancelled"
    page = await _post(web, f"/tasks/{t1}/cancel", f"/tasks/{t1}", reason="再撤")
    assert "已经撤销过了" in page
    admin = f"person:{web.seed.admin_id}"
    assert _audit(web, "task.edit") == [(admin, "web", f"task:{t2}")]
    assert _audit(web, "task.cancel") == [(admin, "web", f"task:{t1}")]
    # the grid has no column for it, and its totals no longer count its flags
    assert f'href="/tasks/{t1}"' not in await (await web.client.get("/")).text()
    board = await (await web.client.get("/api/v1/board")).json()
    assert board["totals"]["red"] == 0 and board["totals"]["yellow"] == 0


async def test_people_and_groups_pages(webapp: Web) -> None:
    await _people_and_groups(webapp)


async def test_people_and_groups_pages_on_postgres(webapp_pg: Web) -> None:
    await _people_and_groups(webapp_pg)


async def test_task_edit_and_cancel(webapp: Web) -> None:
    await _task_edit_and_cancel(webapp)


async def test_task_edit_and_cancel_on_postgres(webapp_pg: Web) -> None:
    await _task_edit_and_cancel(webapp_pg)


async def test_a_read_only_viewer_cannot_correct(webapp: Web) -> None:
    link = webapp.view_link(webapp.seed.units["郑州市"])
    assert (await webapp.client.get("/" + link.split("/", 3)[3])).status == 200  # signed in
    for path in ("/people", "/groups"):
        assert (await webapp.client.get(path)).status == 403, path
    task = await webapp.client.get(f"/tasks/{webapp.seed.task2}")
    assert 'id="task-edit"' not in await task.text()
    token = await webapp.csrf(f"/units/{webapp.seed.units['郑州市']}")
    resp = await webapp.client.post(f"/tasks/{webapp.seed.task2}/cancel",
                                    data={"csrf": token, "reason": "不想做"})
    assert resp.status == 403
    assert _audit(webapp, "task.cancel") == []

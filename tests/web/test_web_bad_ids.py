"""Ids from outside (paths, queries, forms) never reach the database unchecked: a bad or
out-of-range id is a 404 (the error page; JSON under /api), never a 500.

Every route that takes an id is listed here; a new one belongs in ROUTES.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.web.common import BOARD
from storage.models import Unit
from tests.web.conftest import API_TOKEN, Web

TOO_BIG = str(2**63)  # one past the largest id SQLite and PostgreSQL BIGINT can hold
BAD_IDS = [TOO_BIG, "99999999999999999999999999", "0", "abc", "1e3", "１２", "-1"]

# {id} is replaced by each bad id.
GET_PAGES = ["/units/{id}", "/tasks/{id}", "/files/{id}"]
POSTS = ["/submissions/{id}/review", "/bulletins/{id}/publish", "/units/{id}/record",
         "/units/{id}/link"]


async def _html_404(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status == 404, (resp.method, resp.url, resp.status)
    assert resp.content_type == "text/html"
    assert 'id="error-message"' in await resp.text()


async def test_web_bad_ids_in_page_paths_are_404_pages(webapp: Web) -> None:
    await webapp.login()
    for template in GET_PAGES:
        for bad in BAD_IDS:
            resp = await webapp.client.get(template.replace("{id}", bad), allow_redirects=False)
            await _html_404(resp)


async def test_web_bad_ids_in_audit_query_are_404_pages(webapp: Web) -> None:
    await webapp.login()
    for bad in BAD_IDS:
        await _html_404(await webapp.client.get(f"/audit?before={bad}"))
    assert (await webapp.client.get("/audit?before=9223372036854775807")).status == 200
    assert (await webapp.client.get("/audit")).status == 200


async def test_web_bad_ids_in_post_routes_are_404_pages(webapp: Web) -> None:
    await webapp.login()
    for template in POSTS:
        for bad in BAD_IDS:
            token = await webapp.csrf("/")
            resp = await webapp.client.post(
                template.replace("{id}", bad),
                data={"csrf": token, "action": "accept", "rating": "优", "kind": "innovation",
                      "reason": "说明", "days": "7", "next": "/"},
                allow_redirects=False)
            await _html_404(resp)
    zz, t1 = webapp.seed.units["郑州市"], webapp.seed.task1
    for fields in ({"task_id": TOO_BIG, "unit_id": str(zz)},
                   {"task_id": str(t1), "unit_id": TOO_BIG},
                   {"task_id": "x", "unit_id": str(zz)}):
        token = await webapp.csrf("/")
        resp = await webapp.client.post("/flags/override", data={
            "csrf": token, "color": "red", "reason": "改", "next": "/", **fields},
            allow_redirects=False)
        await _html_404(resp)


async def test_web_bad_ids_under_api_are_404_json(webapp: Web) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    for bad in BAD_IDS:
        resp = await webapp.client.get(f"/api/v1/units/{bad}", headers=headers)
        assert resp.status == 404, bad
        assert resp.content_type == "application/json"
        assert (await resp.json())["error"]["code"] == "not_found"
    # Still 401 first for a caller without credentials: the id is not even looked at.
    assert (await webapp.client.get(f"/api/v1/units/{TOO_BIG}")).status == 401
    ok = await webapp.client.get(f"/api/v1/units/{webapp.seed.units['郑州市']}", headers=headers)
    assert ok.status == 200


async def test_web_good_ids_still_work(webapp: Web) -> None:
    await webapp.login()
    for path in (f"/units/{webapp.seed.units['郑州市']}", f"/tasks/{webapp.seed.task1}"):
        assert (await webapp.client.get(path)).status == 200
    assert (await webapp.client.get("/units/9223372036854775807")).status == 404


@pytest.mark.parametrize("kind", ["central", "office"])
async def test_web_board_filter_matching_no_unit_is_an_empty_grid(webapp: Web, kind: str) -> None:
    await webapp.login()
    resp = await webapp.client.get(f"/?kind={kind}")
    assert resp.status == 200
    html = await resp.text()
    assert "没有符合条件的单位或任务" in html and "<tr data-u=" not in html
    api = await webapp.client.get(f"/api/v1/board?kind={kind}",
                                  headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert api.status == 200
    assert (await api.json())["units"] == []


async def test_web_link_to_a_unit_that_no_longer_exists_is_refused(webapp: Web) -> None:
    signer = webapp.client.app[BOARD].signer
    now = int(webapp.clock.now().timestamp())
    for unit_id in (987654, 2**63 - 1):
        webapp.client.session.cookie_jar.clear()
        resp = await webapp.client.get(f"/v/{signer.view_link(unit_id, now + 3600)}",
                                       allow_redirects=False)
        assert resp.status == 404, unit_id
        assert "链接" in await resp.text()
        assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    # A unit deactivated after its link was made: the link stops working.
    kf = webapp.seed.units["开封市"]
    link = signer.view_link(kf, now + 3600)
    webapp.client.session.cookie_jar.clear()
    assert (await webapp.client.get(f"/v/{link}", allow_redirects=False)).status == 302
    assert (await webapp.client.get(f"/units/{kf}")).status == 200
    webapp.services.db.transaction(
        lambda c: c.execute(update(Unit).where(Unit.id == kf).values(active=False)))
    assert (await webapp.client.get(f"/units/{kf}", allow_redirects=False)).status == 302
    webapp.client.session.cookie_jar.clear()
    resp = await webapp.client.get(f"/v/{link}", allow_redirects=False)
    assert resp.status == 404


"""The JSON API under /api/v1/ (DESIGN §5), over HTTP against the real app.

One declaration table makes the routes and the OpenAPI document, so: every route served under
/api/v1/ is in openapi.json and every path there is served; lists page without repeating or
skipping records while others are added; every error is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Connection, select

from bot.services import cases, notices, rectifications, sites
from bot.web.api import ENDPOINTS
from storage.models import ApiToken, AuditEntry, Person
from tests.web.conftest import API_TOKEN, NOW, Web, at

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]
BAD_PATH_IDS = ["9223372036854775808", "99999999999999999999999", "-1", "0", "abc", "1.5"]


async def get(web: Web, path: str, **headers: str) -> tuple[int, Any]:
    resp = await web.client.get(path, headers={**BEARER, **headers})
    assert resp.content_type == "application/json", (path, resp.status, await resp.text())
    return resp.status, await resp.json()


def _is_error(body: Any, code: str) -> bool:
    return (set(body) == {"error"} and body["error"]["code"] == code
            and isinstance(body["error"]["message"], str) and body["error"]["message"] != "")


def _concrete(web: Web, path: str) -> str:
    """A declared path with real ids in its ``{…}`` segments."""
    ids = {"unit_id": web.seed.units["郑州市"], "task_id": web.seed.task1,
           "submission_id": web.seed.pending_submission, "notice_id": 1, "case_id": 1,
           "site_id": 1, "rectification_id": 1}
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"test knows no id for {path}"
    return path


async def _a_notice(web: Web, text: str = "请各单位报送材料") -> int:
    return await web.services.db.run(lambda c: notices.send(
        c, text=text, targets="all", created_by=web.seed.admin_id, now=NOW).id)


async def _a_case(web: Web) -> int:
    draft = cases.Draft("柔性执法助企纾困", "行政指导", "对首次轻微违法的企业以指导代替处罚")
    return await web.services.db.run(lambda c: cases.submit(
        c, web.services.env, draft, unit_id=web.seed.units["郑州市"], person_id=None,
        now=NOW).id)


async def _a_site_and_item(web: Web) -> tuple[int, int]:
    unit = web.seed.units["开封市"]

    def add(c: Connection) -> tuple[int, int]:
        site = sites.nominate(c, unit_id=unit, name="开封市行政调解示范点", description="调解中心",
                              year=2026, actor="admin", now=NOW)
        item = rectifications.add(c, unit_id=unit, text="补齐调研记录", due=NOW, actor="admin",
                                  now=NOW)
        return site.id, item.id
    return await web.services.db.run(add)


async def test_api_every_route_is_documented_and_every_documented_path_served(
        webapp: Web) -> None:
    await _a_notice(webapp)
    assert await _a_case(webapp) == 1
    assert await _a_site_and_item(webapp) == (1, 1)
    status, spec = await get(webapp, "/api/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops}
    # What aiohttp actually serves under /api/ (a route added outside the table shows here).
    served = {(r.resource.canonical, r.method) for r in webapp.client.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith("/api/")
              and r.method != "HEAD"}
    assert served == documented
    assert {(e.path, e.method) for e in ENDPOINTS} == documented
    for path, method in sorted(documented):
        status, body = await get(webapp, _concrete(webapp, path))
        assert status == 200, (path, body)
        op = spec["paths"][path][method.lower()]
        assert op["summary"] and op["operationId"]
    operation_ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    # Every $ref resolves.
    refs = {v for v in _walk(spec) if isinstance(v, str) and v.startswith("#/components/")}
    for ref in refs:
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part]


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


async def test_api_index_lists_the_resources(webapp: Web) -> None:
    status, body = await get(webapp, "/api/v1/")
    assert status == 200
    names = {r["name"] for r in body["resources"]}
    assert {"units", "tasks", "submissions", "flags", "notices"} <= names
    assert body["openapi"] == "/api/v1/openapi.json"
    by_name = {r["name"]: r for r in body["resources"]}
    assert by_name["submissions"]["path"] == "/api/v1/submissions"
    assert any(e["path"] == "/api/v1/notices/{notice_id}/acknowledgements"
               for e in by_name["notices"]["endpoints"])


async def test_api_records_documented_fields_match_served_fields(webapp: Web) -> None:
    _, spec = await get(webapp, "/api/v1/openapi.json")
    schemas = spec["components"]["schemas"]
    _, subs = await get(webapp, "/api/v1/submissions")
    record = subs["items"][-1]
    assert set(record) == set(schemas["SubmissionRecord"]["properties"])
    # The CLI's `submission list --json` keys (DESIGN §5) are all there.
    assert {"id", "task_id", "task", "unit", "submitter", "text", "attachments", "status",
            "rating", "version", "submitted_at"} <= set(record)
    assert record["attachments"] == [{"name": "调研报告.docx", "sha256": webapp.seed.attachment_sha,
                                      "size": len(b"PK\x03\x04 fake docx bytes")}]
    _, tasks = await get(webapp, "/api/v1/tasks")
    assert set(tasks["items"][0]) == set(schemas["TaskRecord"]["properties"])
    assert {"id", "title", "due", "system", "status"} <= set(tasks["items"][0])


async def test_api_submissions_filter_by_task_unit_and_since(webapp: Web) -> None:
    s = webapp.seed
    _, all_ = await get(webapp, "/api/v1/submissions")
    assert len(all_["items"]) == 4 and all_["next_cursor"] is None
    _, t1 = await get(webapp, f"/api/v1/submissions?task={s.task1}")
    assert {r["unit"] for r in t1["items"]} == {"郑州市", "开封市", "省财政厅"}
    _, zz = await get(webapp, f"/api/v1/submissions?unit={s.units['郑州市']}")
    assert {r["task_id"] for r in zz["items"]} == {s.task1, s.task2}
    since = quote(at("2026-04-01 00:00").isoformat())
    _, late = await get(webapp, f"/api/v1/submissions?since={since}")
    assert [r["id"] for r in late["items"]] == [
        r["id"] for r in all_["items"] if r["submitted_at"] >= "2026-04-01"]
    assert {r["unit"] for r in late["items"]} == {"省财政厅", "郑州市"}
    # An unencoded "+" (read as a space) still means the offset.
    _, same = await get(webapp, "/api/v1/submissions?since=2026-04-01T00:00:00+08:00")
    assert same == late
    _, both = await get(webapp, f"/api/v1/submissions?task={s.task2}&unit={s.units['开封市']}")
    assert both == {"items": [], "next_cursor": None}
    status, one = await get(webapp, f"/api/v1/submissions/{s.pending_submission}")
    assert status == 200 and one["id"] == s.pending_submission and one["status"] == "received"


async def test_api_flags_and_notices_with_acknowledgements(webapp: Web) -> None:
    s = webapp.seed
    _, flags = await get(webapp, f"/api/v1/flags?unit={s.units['郑州市']}&current=true")
    assert [(f["color"], f["task_id"]) for f in flags["items"]] == [("red", s.task1)]
    _, current = await get(webapp, "/api/v1/flags?current=true")
    _, board = await get(webapp, "/api/v1/board")
    for color in ("red", "blue", "yellow"):  # the same flags as the board counts
        assert sum(f["color"] == color for f in current["items"]) == board["totals"][color]
    nid = await _a_notice(webapp)
    liaison = await webapp.services.db.run(lambda c: c.execute(
        select(Person.id).where(Person.name == "张联络")).scalar_one())
    await webapp.services.db.run(lambda c: notices.acknowledge(
        c, notice_id=nid, unit_id=s.units["郑州市"], person_id=liaison, now=NOW))
    _, listed = await get(webapp, "/api/v1/notices")
    assert [(n["id"], n["acknowledged_units"]) for n in listed["items"]] == [(nid, 1)]
    _, one = await get(webapp, f"/api/v1/notices/{nid}")
    assert one["text"] == "请各单位报送材料"
    _, acks = await get(webapp, f"/api/v1/notices/{nid}/acknowledgements")
    assert [(a["unit"], a["person"]) for a in acks["items"]] == [("郑州市", "张联络")]
    status, missing = await get(webapp, f"/api/v1/notices/{nid + 1}/acknowledgements")
    assert status == 404 and _is_error(missing, "not_found")


async def _page_through_while_inserting(web: Web) -> None:
    before = [await _a_notice(web, f"通知{i}") for i in range(7)]
    seen: list[int] = []
    cursor: str | None = None
    added: list[int] = []
    pages = 0
    while True:
        path = "/api/v1/notices?limit=3" + (f"&cursor={cursor}" if cursor else "")
        # Another writer adds a notice while the page is read.
        (status, body), new = await asyncio.gather(get(web, path), _a_notice(web, "新通知"))
        added.append(new)
        assert status == 200 and len(body["items"]) <= 3
        seen += [n["id"] for n in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None or pages > 20:
            break
    assert len(seen) == len(set(seen)), "a record came twice"
    assert set(before) <= set(seen), "a record that existed before paging began was skipped"
    assert set(seen) <= set(before) | set(added)
    assert seen == sorted(seen)
    assert pages < 20


async def test_api_paging_neither_repeats_nor_skips_while_records_are_added(
        webapp: Web) -> None:
    await _page_through_while_inserting(webapp)


@pytest.mark.postgres
async def test_api_paging_on_postgres(webapp_pg: Web) -> None:
    await _page_through_while_inserting(webapp_pg)
    status, body = await get(webapp_pg, "/api/v1/submissions?limit=2")
    assert status == 200 and len(body["items"]) == 2 and body["next_cursor"]


async def test_api_paging_bounds_and_bad_cursors(webapp: Web) -> None:
    _, first = await get(webapp, "/api/v1/units?limit=1")
    assert len(first["items"]) == 1 and first["next_cursor"]
    _, second = await get(webapp, f"/api/v1/units?limit=1&cursor={first['next_cursor']}")
    assert second["items"][0]["id"] > first["items"][0]["id"]
    for query in ("limit=0", "limit=501", "limit=x", "limit=-3", "cursor=nonsense",
                  "cursor=djE6LTE", "cursor=" + "A" * 300):
        status, body = await get(webapp, f"/api/v1/units?{query}")
        assert status == 400, query
        assert _is_error(body, "invalid_cursor" if "cursor" in query else "invalid_parameter")


async def test_api_errors_are_json(webapp: Web) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/units/1/nothing", "/api/v2/units",
                 "/api/v1/tasks/999", "/api/v1/submissions/999", "/api/v1/notices/5"):
        status, body = await get(webapp, path)
        assert status == 404 and _is_error(body, "not_found"), path
    resp = await webapp.client.post("/api/v1/units", headers=BEARER)
    assert resp.status == 405 and _is_error(await resp.json(), "method_not_allowed")
    for path in ("/api/v1/units?kind=galaxy", "/api/v1/flags?current=maybe",
                 "/api/v1/submissions?since=yesterday", "/api/v1/board?period=x"):
        status, body = await get(webapp, path)
        assert status == 400 and body["error"]["code"] in {"invalid_parameter", "invalid"}, path


@pytest.mark.parametrize("bad", BAD_PATH_IDS)
async def test_api_bad_ids_in_a_path_are_404_and_in_a_query_400(webapp: Web, bad: str) -> None:
    for path in ("/api/v1/units/{}", "/api/v1/tasks/{}", "/api/v1/submissions/{}",
                 "/api/v1/notices/{}", "/api/v1/notices/{}/acknowledgements",
                 "/api/v1/cases/{}", "/api/v1/sites/{}", "/api/v1/rectifications/{}"):
        status, body = await get(webapp, path.format(quote(bad)))
        assert status == 404 and _is_error(body, "not_found"), path
    for query in ("task", "unit"):
        status, body = await get(webapp, f"/api/v1/submissions?{query}={quote(bad)}")
        assert status == 400 and _is_error(body, "invalid_parameter"), query


async def test_api_refuses_without_credentials_as_json_401(webapp: Web) -> None:
    for ep in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer nope"},
                        {"Authorization": "Bearer dudao_1_" + "x" * 43},
                        {"Authorization": f"Basic {API_TOKEN}"}):
            resp = await webapp.client.get(_concrete(webapp, ep.path), headers=headers,
                                           allow_redirects=False)
            assert resp.status == 401, ep.path
            assert _is_error(await resp.json(), "unauthorized")
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def _dudao(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update({"DUDAO_NLU_ENABLED": "false", "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
                "DUDAO_DATABASE_URL": f"sqlite:///{tmp_path}/dudao.db",
                "DUDAO_SERVICE_ROSTER": "", "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_api_tokens_made_listed_and_revoked_with_the_cli(webapp: Web,
                                                               tmp_path: Path) -> None:
    import json

    made = await asyncio.to_thread(_dudao, tmp_path, "token", "add", "省厅数据平台", "--json")
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout)
    token = record["token"]
    assert token.startswith(f"dudao_{record['id']}_") and record["name"] == "省厅数据平台"
    auth = {"Authorization": f"Bearer {token}"}
    resp = await webapp.client.get("/api/v1/units", headers=auth)
    assert resp.status == 200
    # A wrong secret with the right id, and the right secret with another id, are refused.
    for forged in (token[:-4] + "AAAA", token.replace(f"dudao_{record['id']}_", "dudao_99_")):
        resp = await webapp.client.get("/api/v1/units", headers={"Authorization": f"Bearer {forged}"})
        assert resp.status == 401
    # The database holds only a hash: the secret is in no column. (Read through SQL: opening
    # the file in this process would drop SQLite's POSIX locks of the app's connections.)
    stored = await webapp.services.db.run(lambda c: c.execute(select(ApiToken)).all())
    assert len(stored) == 1 and token.split("_", 2)[2] not in repr(tuple(stored[0]))
    listed = await asyncio.to_thread(_dudao, tmp_path, "token", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["省厅数据平台"]
    assert token not in listed.stdout
    revoked = await asyncio.to_thread(_dudao, tmp_path, "token", "revoke", str(record["id"]))
    assert revoked.returncode == 0 and "已吊销" in revoked.stdout
    resp = await webapp.client.get("/api/v1/units", headers=auth)
    assert resp.status == 401
    for bad in ("999", "x", "-1", "9223372036854775808"):
        res = await asyncio.to_thread(_dudao, tmp_path, "token", "revoke", bad)
        assert res.returncode != 0 and res.stderr.strip(), bad

    def audited(conn: Connection) -> list[tuple[str, str]]:
        return [(r.action, r.target) for r in conn.execute(
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.action.like("api_token.%")).order_by(AuditEntry.id))]

    assert await webapp.services.db.run(audited) == [
        ("api_token.add", f"api_token:{record['id']}"),
        ("api_token.revoke", f"api_token:{record['id']}")]

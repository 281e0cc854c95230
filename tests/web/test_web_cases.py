"""The board's 典型案例 pages over HTTP: search and filters, a case's page and its file, 入选 and
退回 with CSRF-checked forms (audited, the unit told through the outbox), and what a read-only
link viewer of another unit may see."""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy import Connection, select

from bot.services import cases as cases_svc
from storage.models import AuditEntry
from tests.web.conftest import EXCHANGE, NOW, Web

FILE = b"%PDF-1.4 mediation record"


async def _seed_cases(webapp: Web) -> tuple[int, int, int]:
    stored = await webapp.services.files.put("调解笔录.pdf", FILE)
    env, ids = webapp.services.env, webapp.seed.units

    def write(conn: Connection) -> tuple[int, int, int]:
        def add(unit: str, title: str, kind: str, text: str, files: tuple = ()) -> int:  # type: ignore[type-arg]
            return cases_svc.submit(conn, env, cases_svc.Draft(title, kind, text),
                                    unit_id=ids[unit], person_id=None, files=files, now=NOW,
                                    source_chat=EXCHANGE).id
        a = add("郑州市", "物业纠纷调解促成和解", "行政调解", "街道组织业主与物业公司调解，达成和解协议",
                (stored,))
        b = add("开封市", "包容审慎监管指导", "行政指导", "对新业态企业开展行政指导，首违不罚")
        c = add("中牟县", "征地补偿协议履约", "行政契约", "跟踪征地补偿协议履约，化解物业纠纷隐患")
        return a, b, c

    return await webapp.services.db.run(write)


async def test_web_cases_search_filter_select_and_return(webapp: Web) -> None:
    a, b, c = await _seed_cases(webapp)
    await webapp.login()
    page = await (await webapp.client.get("/cases")).text()
    assert 'href="/cases"' in page  # the nav tab
    for cid in (a, b, c):
        assert f'id="case-{cid}"' in page
    assert f'action="/cases/{a}/select"' in page

    # Search: the title hit first, the body-only hit after it; filters narrow.
    found = await (await webapp.client.get("/cases", params={"q": "物业纠纷"})).text()
    assert found.index(f'id="case-{a}"') < found.index(f'id="case-{c}"')
    assert f'id="case-{b}"' not in found and "相关的案例 2 个" in found
    only = await (await webapp.client.get("/cases", params={"kind": "行政指导"})).text()
    assert f'id="case-{b}"' in only and f'id="case-{a}"' not in only
    by_unit = await (await webapp.client.get("/cases", params={"unit": "郑州"})).text()
    assert f'id="case-{a}"' in by_unit and f'id="case-{c}"' not in by_unit
    bad = await (await webapp.client.get("/cases", params={"year": "明年吧"})).text()
    assert 'class="err"' in bad

    detail = await (await webapp.client.get(f"/cases/{a}")).text()
    assert "物业纠纷调解促成和解" in detail and "调解笔录.pdf" in detail
    [link] = [x for x in detail.split('"') if x.startswith(f"/cases/{a}/files/")]
    got = await webapp.client.get(link)
    assert got.status == 200 and await got.read() == FILE
    assert unquote(got.headers["Content-Disposition"]).endswith("''调解笔录.pdf")
    assert (await webapp.client.get(f"/cases/{a}/files/999999")).status == 404
    assert (await webapp.client.get("/cases/999999")).status == 404

    forged = await webapp.client.post(f"/cases/{a}/select", data={"csrf": "x", "next": "/cases"},
                                      allow_redirects=False)
    assert forged.status == 403
    token = await webapp.csrf("/cases")
    resp = await webapp.client.post(f"/cases/{a}/select", data={"csrf": token, "next": "/cases"},
                                    allow_redirects=False)
    assert resp.status == 303
    assert unquote(resp.headers["Location"]) == f"/cases?msg=案例#{a}《物业纠纷调解促成和解》（郑州市）已入选"
    no_reason = await webapp.client.post(f"/cases/{b}/return",
                                         data={"csrf": token, "next": "/cases", "reason": ""},
                                         allow_redirects=False)
    assert "请写明退回原因" in unquote(no_reason.headers["Location"])
    await webapp.client.post(f"/cases/{b}/return",
                             data={"csrf": token, "next": "/cases", "reason": "事实不够完整"},
                             allow_redirects=False)
    statuses = await webapp.services.db.run(
        lambda conn: [cases_svc.get(conn, i).status for i in (a, b, c)])
    assert statuses == ["selected", "returned", "submitted"]
    told = webapp.outbox_texts(EXCHANGE)
    assert any("物业纠纷调解促成和解》（案例#" in t and "已入选" in t for t in told)
    assert any("已退回：事实不够完整" in t for t in told)
    audit = await webapp.services.db.run(lambda conn: [tuple(r) for r in conn.execute(
        select(AuditEntry.action, AuditEntry.target, AuditEntry.channel)
        .where(AuditEntry.action.like("case.%")).order_by(AuditEntry.id))])
    assert audit == [("case.select", f"case:{a}", "web"), ("case.return", f"case:{b}", "web")]


async def test_web_cases_for_a_link_viewer(webapp: Web) -> None:
    a, b, _ = await _seed_cases(webapp)
    env, finance = webapp.services.env, webapp.seed.units["省财政厅"]
    hidden = await webapp.services.db.run(lambda conn: cases_svc.submit(
        conn, env, cases_svc.Draft("预算绩效指导", "行政指导", "指导预算单位"), unit_id=finance,
        person_id=None, now=NOW).id)
    await webapp.services.db.run(lambda conn: cases_svc.select_case(
        conn, webapp.services.env, b, reviewer_id=None, now=NOW))
    # 郑州市's read-only link: its own case (not selected) and 开封's selected one.
    link = webapp.view_link(webapp.seed.units["郑州市"])
    opened = await webapp.client.get("/v/" + link.split("/v/", 1)[1])
    assert opened.status == 200
    page = await (await webapp.client.get("/cases")).text()
    assert f'id="case-{a}"' in page and f'id="case-{b}"' in page
    assert 'action="/cases/' not in page  # no review forms for viewers
    assert f'id="case-{hidden}"' not in page  # another unit's case, not selected
    assert (await webapp.client.get(f"/cases/{hidden}")).status == 404
    searched = await (await webapp.client.get("/cases", params={"q": "预算绩效"})).text()
    assert f'id="case-{hidden}"' not in searched and "相关的案例 0 个" in searched
    forbidden = await webapp.client.post(f"/cases/{a}/select", data={"csrf": "x"},
                                         allow_redirects=False)
    assert forbidden.status in (302, 303, 403)
    assert (await webapp.services.db.run(lambda conn: cases_svc.get(conn, a))).status == "submitted"

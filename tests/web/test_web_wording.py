"""The board speaks Chinese to people: no stored codes (``web.login``, ``kind:city``,
``person:8``) on the audit and notices pages, a read-only visitor named by their unit, and a
completion chart that reads sensibly with one day of submissions (issue 14's wording list)."""

from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import Connection

from bot.services import audit, notices, tasks
from bot.web import charts, labels
from tests.web.conftest import EXCHANGE, NOW, Web, at

CODES = re.compile(r"\b(?:web|unit|task|person|notice|bulletin|submission|flag)[.:][a-z_0-9]+"
                   r"|kind:[a-z]+|cli:[a-z]+")


def visible_text(page: str) -> str:
    """What a reader sees: the body without tags and attributes (a ``title`` may keep a code)."""
    body = page[page.index("<body>"):]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


async def test_web_audit_page_names_actions_people_units_and_tasks(webapp: Web) -> None:
    seed = webapp.seed
    zz = seed.units["郑州市"]

    def write(conn: Connection) -> None:
        rows = [
            ("cli:root", "cli", "unit.view_link", f"unit:{zz}", {"days": 3}),
            ("system", "system", "bulletin.draft", "bulletin:7", {"period": "2026-W28"}),
            (f"person:{seed.admin_id}", "chat", "task.create", f"task:{seed.task1}",
             {"title": "一季度工作报告", "due": at("2026-03-31 18:00").isoformat()}),
            ("qq:30001", "chat", "notice.ack", "notice:2", {"unit": zz}),
            (f"person:{seed.admin_id}", "cli", "notice.send", "notice:3",
             {"targets": "kind:city", "groups": 1}),
            ("person:999", "web", "person.remove", "person:998", {}),
        ]
        for actor, channel, action, target, detail in rows:
            audit.record(conn, at=NOW, actor=actor, channel=channel, action=action,
                         target=target, detail=detail)

    webapp.services.db.transaction(write)
    await webapp.login()
    page = await (await webapp.client.get("/audit")).text()
    text = visible_text(page)
    assert CODES.findall(text) == [], CODES.findall(text)
    for words in ("登录看板", "王督导", "看板", "命令行（root）", "生成只读链接", "郑州市",
                  "有效天数：3", "系统", "生成通报草稿", "通报 #7", "发布任务",
                  "任务“一季度工作报告”", "截止：2026-03-31 18:00", "确认收到通知",
                  "单位：郑州市", "范围：全部地市", "人员 #998（已删除）",
                  "人员 #999（已不在名册）", "移除人员"):
        assert words in text, words
    assert 'title="web.login"' in page  # the code stays at hand for whoever needs it


async def test_web_notices_page_shows_scopes_in_words(webapp: Web) -> None:
    def write(conn: Connection) -> None:
        notices.send(conn, text="请于周五前报送材料", targets="kind:city", created_by=None,
                     now=NOW)
        notices.send(conn, text="群里的通知", targets=EXCHANGE, created_by=None, now=NOW)
        notices.send(conn, text="两个市的通知", targets="郑州市,开封市", created_by=None, now=NOW)

    webapp.services.db.transaction(write)
    await webapp.login()
    text = visible_text(await (await webapp.client.get("/notices")).text())
    assert "kind:city" not in text and EXCHANGE not in text
    assert "全部地市" in text and "地市联络群" in text and "郑州市、开封市" in text


async def test_web_read_only_visitor_is_named_by_their_unit(webapp: Web) -> None:
    base = str(webapp.client.make_url("")).rstrip("/")
    url = webapp.view_link(webapp.seed.units["郑州市"])
    resp = await webapp.client.get(url.removeprefix(base))
    page = await resp.text()
    header = visible_text(page[:page.index("</header>")] + "</header>")
    assert "郑州市" in header and "只读" in header and "只读访问" not in header


def test_web_scope_and_detail_labels() -> None:
    assert labels.scope("all", {}) == "全部单位" and labels.scope("", {}) == "全部单位"
    assert labels.scope("kind:county", {}) == "全部直管县"
    assert labels.scope("kind:nonsense", {}) == "kind:nonsense"  # unknown: shown as stored
    assert labels.action("web.login") == "登录看板" and labels.action("x.new") == "x.new"
    assert labels.detail("due", "2026-03-31T10:00:00+00:00", {}, lambda m: f"<{m:%H:%M}>") == (
        "截止", "<10:00>")
    assert labels.detail("removed", True, {}, str) == ("已删除", "是")
    assert labels.due_note(date(2026, 7, 12), date(2026, 7, 10)) == "还有 2 天"
    assert labels.due_note(date(2026, 7, 10), date(2026, 7, 10)) == "今天截止"
    assert labels.due_note(date(2026, 7, 1), date(2026, 7, 10)) == "已逾期 9 天"


# ------------------------------------------------------------------------- completion chart


def _points(svg: str) -> list[tuple[float, float]]:
    m = re.search(r'<polyline points="([^"]+)"', svg)
    assert m, svg
    return [(float(x), float(y)) for x, y in (p.split(",") for p in m.group(1).split())]


def test_web_progress_chart_with_one_day_of_submissions_is_a_step_over_the_tasks_span() -> None:
    """Before: one dot in the middle of an axis from 03-30 to 03-30. Now the axis runs from the
    day the task was published to its deadline, and the line steps up on the one day."""
    svg = str(charts.submission_progress([("2026-03-30", 2)], 4, published=date(2026, 3, 1),
                                         due=date(2026, 3, 31), today=date(2026, 7, 10)))
    wide = svg[:svg.index("</svg>")]
    pts = _points(wide)
    assert pts[0][1] == pts[1][1] > pts[2][1]  # flat at 0, then up on 03-30
    assert pts[1][0] == pts[2][0] > pts[0][0] and pts[-1][0] > pts[2][0]  # on to the deadline
    assert ">03-01<" in wide and ">03-31<" in wide and "截止 03-31" in wide and ">2/4<" in wide
    # Everything on one day (published, submitted and due): the day gets room on both sides.
    one = str(charts.submission_progress([("2026-03-30", 4)], 4, published=date(2026, 3, 30),
                                         due=date(2026, 3, 30), today=date(2026, 3, 30)))
    assert ">03-29<" in one and ">03-31<" in one and ">4/4<" in one
    # No submission: a sentence, not an empty axis.
    none = str(charts.submission_progress([], 4, published=date(2026, 3, 1),
                                          due=date(2026, 3, 31), today=date(2026, 7, 10)))
    assert "<svg" not in none and "还没有单位报送" in none


async def test_web_task_page_reads_sensibly_with_little_data(webapp: Web) -> None:
    def add(conn: Connection) -> int:
        t, _ = tasks.add(conn, title="新任务", due=at("2026-08-31 18:00"), units_spec="all",
                         system="supervision", created_by=webapp.seed.admin_id, now=NOW)
        return t.id

    fresh = webapp.services.db.transaction(add)
    await webapp.login()
    text = visible_text(await (await webapp.client.get(f"/tasks/{fresh}")).text())
    assert "已报送 0/4 个单位（0%）" in text and "还没有单位报送，暂无曲线" in text
    page = await (await webapp.client.get(f"/tasks/{webapp.seed.task1}")).text()
    assert "已报送 3/4 个单位（75%），其中逾期 1 个" in visible_text(page)
    assert "截止 03-31" in page and ">03-01<" in page  # from publication to the deadline

"""Headless Chromium against the real app: log in, read the board, review a submission; and the
read-only view, the board and a task page as they render on a phone (390 × 844, in WeChat's
browser) and on a wide screen (1400 × 1000), screenshot and measured."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from bot.services import submissions, tasks
from storage.models import Submission
from tests.web import layout
from tests.web.cdp import Page, chromium, find_chromium
from tests.web.conftest import ADMIN_LOGIN, ADMIN_PASSWORD, EXCHANGE, Web, at

pytestmark = pytest.mark.browser

RED, BLUE, YELLOW = "rgb(192, 57, 43)", "rgb(44, 111, 187)", "rgb(224, 176, 0)"

READ_GRID = """
(() => {
  const heads = [...document.querySelectorAll('#grid thead th')].map(th => th.dataset.t || '');
  const rows = {};
  for (const tr of document.querySelectorAll('#grid tbody tr')) {
    const cells = [...tr.children].slice(1);
    rows[tr.querySelector('th').textContent.trim()] = cells.map((td, i) => ({
      task: heads[i + 1], text: td.textContent.trim(),
      bg: getComputedStyle(td).backgroundColor}));
  }
  return JSON.stringify({rows, red: document.querySelector('#total-red').textContent,
                         blue: document.querySelector('#total-blue').textContent,
                         yellow: document.querySelector('#total-yellow').textContent});
})()
"""


def _binary() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI: .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return binary


async def test_web_browser_login_board_review_and_screenshot(webapp: Web, tmp_path: Path) -> None:
    binary = _binary()
    base = str(webapp.client.make_url("")).rstrip("/")
    seed = webapp.seed
    async with chromium(binary, tmp_path / "profile") as page:
        await page.goto(f"{base}/")
        assert (await page.js("location.pathname")) == "/login"  # anonymous → login
        await page.submit(f"""
            document.querySelector('input[name=login]').value = {json.dumps(ADMIN_LOGIN)};
            document.querySelector('input[name=password]').value = {json.dumps(ADMIN_PASSWORD)};
            document.querySelector('#login-submit').click();""")
        assert (await page.js("location.pathname")) == "/"
        grid = json.loads(await page.js(READ_GRID))
        # counts columns, then task 1 and task 2
        zz, kf, zm = grid["rows"]["郑州市"], grid["rows"]["开封市"], grid["rows"]["中牟县"]
        assert [c["text"] for c in zz[:3]] == ["1", "0", "0"]
        assert (zz[3]["task"], zz[3]["text"], zz[3]["bg"]) == (str(seed.task1), "红", RED)
        assert (kf[3]["text"], kf[3]["bg"]) == ("蓝", BLUE)
        assert (zm[3]["text"], zm[3]["bg"]) == ("黄", YELLOW)
        assert zz[4]["text"] == "审"  # awaiting review
        assert (grid["red"], grid["blue"], grid["yellow"]) == ("1", "1", "1")

        # Review 郑州市's pending submission to task 2 on its unit page: accept with 优.
        await page.goto(f"{base}/units/{seed.units['郑州市']}")
        sid = seed.pending_submission
        await page.submit(f"""
            const form = document.querySelector('#sub-{sid} form.review-accept');
            form.querySelector('select[name=rating]').value = '优';
            form.querySelector('button').click();""")
        flash = await page.js("document.querySelector('#flash').textContent")
        assert f"已通过 #{sid}" in flash and "评价：优" in flash
        status = await page.js(f"document.querySelector('#sub-{sid} .status').textContent")
        assert "已通过" in status and "优" in status

        await page.goto(f"{base}/")
        grid = json.loads(await page.js(READ_GRID))
        zz = grid["rows"]["郑州市"]
        assert (zz[4]["text"], zz[4]["bg"]) == ("红", RED)  # on time, rated 优
        assert [c["text"] for c in zz[:3]] == ["2", "0", "0"]
        assert grid["red"] == "2"
        shot = await page.screenshot(Path(os.environ.get("DUDAO_SCREENSHOT_DIR", tmp_path)) / "board.png")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    row = webapp.services.db.transaction(lambda c: c.execute(
        select(Submission.status, Submission.rating).where(Submission.id == sid)).one())
    assert tuple(row) == ("accepted", "优")
    assert any(f"（#{sid}）已审核通过" in t for t in webapp.outbox_texts(EXCHANGE))


# ------------------------------------------------------------------ phones and wide screens

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI "
             "Language/zh_CN")
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0 Safari/537.36")
PHONE, WIDE = (390, 844), (1400, 1000)

SECTION_TOPS = """JSON.stringify(['owed', 'returned', 'year-flags', 'children', 'history']
  .map(id => [id, document.getElementById(id).getBoundingClientRect().top + window.scrollY]))"""
SHOWN = "(sel => {const e = document.querySelector(sel); return !!e && e.getClientRects().length > 0;})"


def _more_work(web: Web) -> int:
    """On top of the seed: a third task every unit still owes, and 郑州市's submission to task 2
    returned with a reason, so its view has something in each of its first sections."""
    seed = web.seed

    def write(conn: Connection) -> int:
        t3, _ = tasks.add(conn, title="四季度工作总结", due=at("2026-12-20 18:00"), units_spec="all",
                          system="supervision", created_by=seed.admin_id,
                          now=at("2026-07-05 09:00"))
        submissions.review(conn, seed.pending_submission, accept=False, rating=None,
                           reason="缺少盖章扫描件", reviewer_id=seed.admin_id,
                           now=at("2026-07-10 09:00"))
        return t3.id

    return web.services.db.transaction(write)


def _cjk_font_or_fail_in_ci() -> None:
    """The screenshots are for people to look at: without a CJK font they show boxes. CI
    installs fonts-noto-cjk (.ci/run); elsewhere the layout is still measured."""
    fc_list = shutil.which("fc-list")
    found = fc_list and subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True,
                                       text=True, check=False).stdout.strip()
    if not found and os.environ.get("CI") == "true":
        pytest.fail("no CJK font in CI: .ci/run should have installed fonts-noto-cjk")


def _check(a: layout.Audit, width: int, name: str) -> None:
    assert a.scroll_width <= width, f"{name}: scrollWidth {a.scroll_width} > {width}"
    assert a.scripts == 0 and not a.css_has, name  # nothing WeChat's browser might lack
    assert layout.flag_label_failures(a) == [], name
    assert layout.contrast_failures(a) == [], name
    if width <= PHONE[0]:
        assert layout.font_failures(a) == [], name
        assert layout.tap_failures(a) == [], name


async def test_web_browser_phone_and_wide_layouts(webapp: Web, tmp_path: Path) -> None:
    binary = _binary()
    _cjk_font_or_fail_in_ci()
    base = str(webapp.client.make_url("")).rstrip("/")
    seed = webapp.seed
    zz, zm = seed.units["郑州市"], seed.units["中牟县"]
    t3 = _more_work(webapp)
    link = webapp.view_link(zz)
    shots = Path(os.environ.get("DUDAO_SCREENSHOT_DIR", tmp_path))
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    pairs: dict[tuple[str, str], float] = {}

    async def shoot(page: Page, name: str, width: int) -> layout.Audit:
        await page.screenshot(shots / f"{name}-{width}.png")
        a = await layout.audit(page)
        _check(a, width, f"{name} at {width}px")
        pairs.update(layout.contrast_pairs(a))
        return a

    async with chromium(binary, tmp_path / "profile") as page:
        # An official opens the link in WeChat on a phone: no login, straight to the unit.
        await page.emulate(*PHONE, mobile=True, user_agent=WECHAT_UA)
        await page.goto(link)
        assert (await page.js("location.pathname")) == f"/units/{zz}"
        header = await page.js("document.querySelector('header').innerText")
        assert "郑州市" in header and "只读" in header and "只读访问" not in header
        for width, height in (PHONE, WIDE):
            await page.emulate(width, height, mobile=width == PHONE[0],
                               user_agent=WECHAT_UA if width == PHONE[0] else DESKTOP_UA)
            await page.goto(f"{base}/units/{zz}")
            await shoot(page, "view-unit", width)
            # What the unit owes and by when, what was returned and why, this year's flags,
            # then the units below it and the history.
            tops = json.loads(await page.js(SECTION_TOPS))
            assert [name for name, _ in sorted(tops, key=lambda t: t[1])] == [
                "owed", "returned", "year-flags", "children", "history"], tops
            owed = await page.js("document.getElementById('owed').innerText")
            assert "四季度工作总结" in owed and "2026-12-20 18:00" in owed and "还有 163 天" in owed
            returned = await page.js("document.getElementById('returned').innerText")
            assert "三季度调研报告" in returned and "缺少盖章扫描件" in returned
            assert "调研报告.docx" in returned  # the returned submission beneath its task
            history = await page.js("document.getElementById('history').innerText")
            assert "一季度工作报告" in history and "四季度工作总结" not in history
            kids = await page.js("document.getElementById('children').innerText")
            assert "中牟县" in kids and "尚需报送 3 项" in kids
            assert (await page.js(f"{SHOWN}('#wechat-hint')")) is (width == PHONE[0])
            if width == PHONE[0]:  # one card per task: the title above its deadline
                card = json.loads(await page.js(f"""JSON.stringify((() => {{
                    const tb = document.querySelector('#task-{t3}');
                    const r = c => tb.querySelector(c).getBoundingClientRect();
                    return [r('th').bottom, r('td').top, r('th').width];}})())"""))
                assert card[0] <= card[1] and card[2] > 300, card
            await page.goto(f"{base}/")
            a = await shoot(page, "view-board", width)
            assert (await page.js(f"{SHOWN}('#ulist')")) is (width == PHONE[0])
            assert (await page.js(f"{SHOWN}('#grid')")) is (width != PHONE[0])
            rows = await page.js("[...document.querySelectorAll('#ulist li, #grid tbody tr')]"
                                 ".map(r => r.dataset.u).join(',')")
            assert set(rows.split(",")) == {str(zz), str(zm)}  # the link's units only
            assert a.flags  # the counts are coloured, and each says which flag it counts
        await page.goto(f"{base}/audit")  # read-only: the admin pages stay closed
        assert "只读链接只能查看" in await page.js("document.body.innerText")

        # An admin on a phone and on a wide screen: the board, a task, a unit.
        await page.clear_cookies()
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
            await page.goto(f"{base}/")
            await shoot(page, "board", width)
            assert (await page.js(f"{SHOWN}('#ulist')")) is phone
            assert (await page.js(f"{SHOWN}('#grid')")) is not phone
            # The filters are one control on a phone, open at a tap; always open when wide.
            assert (await page.js(f"{SHOWN}('#filters')")) is not phone
            if phone:
                text = await page.js("document.getElementById('filter-toggle').innerText")
                assert "全部" in text
                await page.js("document.getElementById('filter-toggle').click()")
                assert (await page.js(f"{SHOWN}('#filters')")) is True
                _check(await layout.audit(page), width, "board with its filters open")
                lines = await page.js("document.getElementById('ulist').innerText")
                assert "中牟县" in lines and "黄 1" in lines and "尚需报送 3 项" in lines
            await page.goto(f"{base}/tasks/{seed.task1}")
            await shoot(page, "task", width)
            progress = await page.js("document.getElementById('progress').innerText")
            assert "已报送 3/4 个单位（75%），其中逾期 1 个" in progress
            assert (await page.js(f"{SHOWN}('.chart svg.narrow')")) is phone
            assert (await page.js(f"{SHOWN}('.chart svg.wide')")) is not phone
            await page.goto(f"{base}/units/{zz}")
            await shoot(page, "unit", width)
            assert (await page.js(f"{SHOWN}('#task-{t3} form')")) is True  # 改旗 on each card
    report = json.dumps(sorted([{"text": c, "background": b, "ratio": r}
                                for (c, b), r in pairs.items()], key=lambda p: p["ratio"]),
                        ensure_ascii=False, indent=1)
    await asyncio.to_thread((shots / "contrast.json").write_text, report + "\n")
    assert min(pairs.values()) >= 4.5

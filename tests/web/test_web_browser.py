"""Headless Chromium against the real app: log in, read the board, review a submission."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Submission
from tests.web.cdp import chromium, find_chromium
from tests.web.conftest import ADMIN_LOGIN, ADMIN_PASSWORD, EXCHANGE, Web

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

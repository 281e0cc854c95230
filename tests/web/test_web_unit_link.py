"""`dudao unit link 郑州市` as an operator runs it (a real process), and the link it prints opened
by a fresh browser on the real board that shares its database and data_dir (so its key file)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import Connection, select

from storage.models import AuditEntry
from tests.web.conftest import Web

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://dudao.example.cn/board"


async def dudao(tmp_path: Path, *args: str, data_dir: Path | None = None
                ) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    # The same database and data_dir as the webapp fixture (tests/web/conftest.py web_settings).
    env.update(DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db",
               DUDAO_SERVICE_DATA_DIR=str(data_dir or tmp_path / "data"), DUDAO_SERVICE_ROSTER="",
               DUDAO_HTTP_PUBLIC_URL=PUBLIC, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _path(url: str) -> str:
    assert url.startswith(PUBLIC + "/v/"), url
    return urlsplit(url).path.removeprefix(urlsplit(PUBLIC).path)


async def test_web_cli_unit_link_opens_its_unit_read_only(webapp: Web, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    webapp.clock.set(now)  # the CLI signs with the wall clock
    code, out, err = await dudao(tmp_path, "unit", "link", "郑州市", "--days", "3", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["unit"] == "郑州市"
    expires = datetime.fromisoformat(got["expires_at"])
    assert expires.utcoffset() == timedelta(hours=8)  # shown in the service's time zone
    assert abs(expires - (now + timedelta(days=3))) < timedelta(minutes=5)

    zz, zm, kf = (webapp.seed.units[n] for n in ("郑州市", "中牟县", "开封市"))
    client = webapp.client
    client.session.cookie_jar.clear()  # an official's browser: no admin session
    resp = await client.get(_path(got["url"]), allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"/units/{zz}"
    page = await client.get(f"/units/{zz}")
    assert page.status == 200
    body = await page.text()
    assert "郑州市" in body and "/review" not in body and "改旗" not in body
    assert (await client.get(f"/units/{zm}")).status == 200  # the county below it
    assert (await client.get(f"/units/{kf}")).status == 403  # another city
    assert (await client.get("/audit")).status == 403

    # Once expired the link opens nothing.
    client.session.cookie_jar.clear()
    webapp.clock.set(expires + timedelta(seconds=1))
    assert (await client.get(_path(got["url"]), allow_redirects=False)).status == 403

    def audits(conn: Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute(select(AuditEntry.actor, AuditEntry.channel, AuditEntry.target)
                            .where(AuditEntry.action == "unit.view_link")).all()
        return [(r.actor, r.channel, r.target) for r in rows]

    rows = webapp.services.db.transaction(audits)
    assert len(rows) == 1 and rows[0][1:] == ("cli", f"unit:{zz}")
    assert rows[0][0].startswith("cli:")


async def test_web_cli_unit_link_text_and_refusals(webapp: Web, tmp_path: Path) -> None:
    code, out, err = await dudao(tmp_path, "unit", "link", "中牟")  # short names work too
    assert code == 0, err
    assert out.startswith("中牟县督导看板只读链接") and f"{PUBLIC}/v/" in out

    code, out, err = await dudao(tmp_path, "unit", "link", "洛阳市")
    assert (code, out) == (2, "")
    assert "找不到单位“洛阳市”" in err and "Traceback" not in err
    for days in ("0", "367"):
        code, out, err = await dudao(tmp_path, "unit", "link", "郑州市", "--days", days)
        assert (code, out) == (2, ""), days
        assert "有效天数应在 1 到 366 天之间" in err

    def count(conn: Connection) -> int:
        return len(conn.execute(select(AuditEntry.id)
                                .where(AuditEntry.action == "unit.view_link")).all())

    assert webapp.services.db.transaction(count) == 1  # refusals change and record nothing


async def test_web_link_from_another_key_is_refused(webapp: Web, tmp_path: Path) -> None:
    """The CLI must sign with the board's key: a link made under another data_dir's key file
    (another installation) does not open this board."""
    code, out, err = await dudao(tmp_path, "unit", "link", "郑州市", "--json",
                                 data_dir=tmp_path / "other")
    assert code == 0, err
    webapp.clock.set(datetime.now(UTC))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        resp = await s.get(webapp.client.make_url(_path(json.loads(out)["url"])),
                           allow_redirects=False)
        assert resp.status == 403

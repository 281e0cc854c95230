"""看板 end to end: a fake OneBot implementation asks the real service in a private chat, and the
link it gets back is opened by a fresh browser on the same running app (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from sqlalchemy import Connection, select

from bot.services import groups, people, units
from storage.models import AuditEntry
from tests.adapters.onebot.fake_impl import GROUP_ID, SELF_ID, seg
from tests.e2e.conftest import Bot

GROUP = f"qq:group:{GROUP_ID}"
OFFICIAL = 30101  # 郑州市
LIAISON = 30102
LEAF_LIAISON = 30109  # 开封市
ADMIN = 10101
STRANGER = 30199
_ids = iter(range(900000, 10**9))
LINK = re.compile(r"(https?://\S+/v/([0-9]+\.[0-9]+\.[A-Za-z0-9_-]+))")


def _event(user: int, text: str, *, group: bool) -> dict[str, Any]:
    p: dict[str, Any] = {
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
        "message_type": "group" if group else "private",
        "sub_type": "normal" if group else "friend", "message_id": next(_ids),
        "user_id": user, "message": [seg("text", text=text)], "raw_message": text, "font": 14,
        "sender": {"user_id": user, "nickname": f"u{user}"},
    }
    if group:
        p["group_id"] = GROUP_ID
    return p


async def ask(bot: Bot, user: int, text: str, *, group: bool = False) -> str:
    before = len(bot.impl.actions)
    await bot.impl.send_event(_event(user, text, group=group))
    await bot.impl.wait_actions(before + 1, within=10)
    action = bot.impl.actions[before]
    return "".join(s["data"].get("text", "") for s in action["params"]["message"]
                   if s["type"] == "text")


def _seed(bot: Bot) -> dict[str, int]:
    now = bot.services.env.clock.now()

    def go(conn: Connection) -> dict[str, int]:
        people.add(conn, identity=f"qq:{OFFICIAL}", unit="郑州市", role="official", name="赵主任",
                   now=now)
        people.add(conn, identity=f"qq:{LIAISON}", unit="开封市", role="liaison", name="李四",
                   now=now)
        people.add(conn, identity=f"qq:{LEAF_LIAISON}", unit="兰考县", role="liaison",
                   name="孙五", now=now)
        people.add(conn, identity=f"qq:{ADMIN}", unit=None, role="admin", name="王管理", now=now)
        groups.add(conn, chat=GROUP, name="地市联络群", units_spec="kind:city", purpose="exchange",
                   account=None, webhook_key=None, now=now)
        return {n: units.require(conn, n).id for n in ("郑州市", "巩义市", "开封市", "兰考县")}

    return bot.db.transaction(go)


async def test_e2e_board_link_opens_the_officials_unit_read_only(bot: Bot) -> None:
    ids = _seed(bot)
    reply = await ask(bot, OFFICIAL, "看板")
    assert reply.startswith("郑州市及下级单位的督导看板（只读，") and "请勿转发" in reply, reply
    m = LINK.search(reply)
    assert m, reply
    assert m.group(1).startswith(bot.services.env.board_url + "/v/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        def url(path: str) -> Any:
            return bot.server.make_url(path)

        resp = await browser.get(url(f"/v/{m.group(2)}"), allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == f"/units/{ids['郑州市']}"
        page = await browser.get(url(f"/units/{ids['郑州市']}"))
        assert page.status == 200
        body = await page.text()
        assert "郑州市" in body and "/review" not in body
        assert (await browser.get(url(f"/units/{ids['巩义市']}"))).status == 200  # below it
        assert (await browser.get(url(f"/units/{ids['开封市']}"))).status == 403  # another city
        assert (await browser.get(url("/tasks"))).status == 403  # admin pages stay closed

    def audited(conn: Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute(select(AuditEntry.actor, AuditEntry.channel, AuditEntry.target)
                            .where(AuditEntry.action == "unit.view_link")).all()
        return [(r.actor, r.channel, r.target) for r in rows]

    assert [(c, t) for _, c, t in bot.db.transaction(audited)] == [
        ("chat", f"unit:{ids['郑州市']}")]


async def test_e2e_board_link_for_liaison_admin_group_and_stranger(bot: Bot) -> None:
    ids = _seed(bot)
    # Liaisons see only their own unit; a link always covers the units below, so a liaison of a
    # unit with sub-units (开封市 → 兰考县) is refused and one of a unit without them gets it.
    refused = await ask(bot, LIAISON, "督导看板")
    assert "下级单位" in refused and "/v/" not in refused, refused
    reply = await ask(bot, LEAF_LIAISON, "督导看板")
    assert reply.startswith("兰考县的督导看板（只读，"), reply
    m = LINK.search(reply)
    assert m and m.group(2).startswith(f"{ids['兰考县']}.")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        await browser.get(bot.server.make_url(f"/v/{m.group(2)}"))
        assert (await browser.get(bot.server.make_url(f"/units/{ids['兰考县']}"))).status == 200
        assert (await browser.get(bot.server.make_url(f"/units/{ids['开封市']}"))).status == 403

    admin = await ask(bot, ADMIN, "看板")
    assert admin.startswith(f"督导看板：{bot.services.env.board_url}/") and "/v/" not in admin

    # Links are personal: never posted in a group.
    in_group = await ask(bot, OFFICIAL, "看板", group=True)
    assert in_group == "请私聊我获取看板链接"
    # A sentence that merely starts with the word, said to colleagues, gets no answer.
    before = len(bot.impl.actions)
    await bot.impl.send_event(_event(OFFICIAL, "看板上的数据今天更新了吗", group=True))
    await asyncio.sleep(0.5)
    assert len(bot.impl.actions) == before

    stranger = await ask(bot, STRANGER, "看板")
    assert "绑定" in stranger and "/v/" not in stranger

"""Demonstration sites, spot checks and rectification in chat, end to end over the fake OneBot
implementation (SQLite and PostgreSQL), with the language layer loaded: a liaison nominates a
site and reports on its own unit's item (another unit's is refused), admins close or return an
item and draw a spot check, admin-only words get their one-line refusal, and the plain-word
questions ("郑州的整改完成了没", "开封还有哪些整改没完成", "今年有几个示范点") are answered from
the records. The clock stands at Wednesday 2026-07-08 10:00 (Shanghai)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.spot_checks import draw as pure_draw
from bot.services import groups, rectifications, sites, units
from storage.models import AuditEntry, Rectification
from tests.adapters.onebot.fake_impl import seg
from tests.e2e.conftest import Bot, file_server
from tests.e2e.test_e2e_questions import (
    ADMIN,
    KF_LIAISON,
    SH,
    ZZ_LIAISON,
    _text,
    ask,
    message,
    ready,
    say,
    seed,
    start,
    stop,
)

LY_GROUP = "qq:group:20002"


@pytest.fixture
async def sbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await start(tmp_path, db_url)
    try:
        seed(bot)
        now = bot.services.env.clock.now()
        bot.db.transaction(lambda c: groups.add(
            c, chat=LY_GROUP, name="洛阳联络群", units_spec="洛阳市", purpose="exchange",
            account=None, webhook_key=None, now=now))
        await ready(bot)
        yield bot
    finally:
        await stop(bot)


def add_item(bot: Bot, unit: str, text: str, due: datetime) -> int:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> int:
        u = units.require(conn, unit)
        return rectifications.add(conn, unit_id=u.id, text=text, due=due, actor="cli:test",
                                  now=now).id

    return int(bot.db.transaction(go))


def item(bot: Bot, rid: int) -> Any:
    return bot.db.transaction(lambda c: c.execute(
        select(Rectification).where(Rectification.id == rid)).one())


async def test_a_unit_reports_its_own_item_and_admins_close_or_return_it(sbot: Bot) -> None:
    rid = add_item(sbot, "开封市", "行政执法案卷评查发现文书不规范", datetime(2026, 7, 20, 18, tzinfo=SH))
    other = add_item(sbot, "郑州市", "执法公示不及时", datetime(2026, 7, 6, 18, tzinfo=SH))
    refused = await ask(sbot, ZZ_LIAISON, f"整改 #R{rid} 已完成")
    assert refused == f"整改事项 #R{rid} 不是本单位的，只能报送本单位的整改事项"
    assert item(sbot, rid).status == "open"
    got = await ask(sbot, KF_LIAISON, f"整改 #R{rid} 已重新制作文书并组织培训")
    assert got == f"已收到开封市整改事项 #R{rid} 的整改情况，管理员审核后告知结果"
    row = item(sbot, rid)
    assert (row.status, row.report) == ("reported", "已重新制作文书并组织培训")
    # admin-only words, from a liaison who addressed the bot
    assert await ask(sbot, KF_LIAISON, f"确认整改 #R{rid}") == "只有管理员可以确认整改"
    assert await ask(sbot, KF_LIAISON, f"退回整改 #R{rid} 不行") == "只有管理员可以退回整改"
    back = await ask(sbot, ADMIN, f"退回整改#R{rid}缺少培训签到表")  # run together: the same
    assert back == f"已退回 开封市整改事项 #R{rid} 的整改情况：缺少培训签到表"
    assert item(sbot, rid).status == "returned"
    assert (await ask(sbot, KF_LIAISON, f"整改#R{rid}已补充签到表")).startswith("已收到开封市")
    done = await ask(sbot, ADMIN, f"确认整改 #R{rid}")
    assert done == f"开封市的整改事项 #R{rid} 已确认整改到位，予以销号"
    assert item(sbot, rid).status == "closed"
    again = await ask(sbot, KF_LIAISON, f"整改 #R{rid} 再报一次")
    assert again == f"整改事项 #R{rid} 当前为已销号，不能再报整改"
    # plain words: how far the items got
    zz = await ask(sbot, ADMIN, "郑州的整改完成了没")
    assert zz.startswith("郑州市的整改事项共 1 项：已销号 0 项，未完成 1 项（其中逾期 1 项）")
    assert f"#R{other} 郑州市：执法公示不及时（7月6日 18:00 截止，待整改，已逾期）" in zz
    kf = await ask(sbot, ADMIN, "开封还有哪些整改没完成")
    assert kf == "开封市的整改事项共 1 项，已全部整改到位（销号）"
    own = await ask(sbot, ZZ_LIAISON, "整改情况")
    assert own.startswith("郑州市的整改事项共 1 项")
    assert await ask(sbot, ZZ_LIAISON, "整改情况 开封") == "您只能查看本单位的整改事项"
    actions = sbot.db.transaction(lambda c: [r.action for r in c.execute(
        select(AuditEntry.action).where(AuditEntry.target == f"rectification:{rid}")
        .order_by(AuditEntry.id))])
    assert actions == ["rectification.report", "rectification.return", "rectification.report",
                       "rectification.close"]


async def test_the_unit_is_told_in_its_own_group(sbot: Bot) -> None:
    rid = add_item(sbot, "洛阳市", "案卷归档不全", datetime(2026, 7, 20, 18, tzinfo=SH))
    now = sbot.services.env.clock.now()
    sbot.db.transaction(lambda c: rectifications.report(
        c, rid, unit_id=units.require(c, "洛阳市").id, person_id=None, text="已归档",
        now=now))
    before = len(sbot.impl.actions)
    await sbot.impl.send_event(message(ADMIN, f"退回整改 #R{rid} 缺目录"))
    await sbot.impl.wait_actions(before + 2, within=10)
    sent = {a["params"]["group_id"]: _text(a) for a in sbot.impl.actions[before:before + 2]}
    assert sent[20002] == (f"洛阳市报送的整改事项 #R{rid} 整改情况未通过审核，已退回：缺目录。"
                           "请按意见继续整改后重新报送")


async def test_spot_check_draw_is_recorded_and_reproducible(sbot: Bot) -> None:
    assert await ask(sbot, ZZ_LIAISON, "抽查 地市 5家") == "只有管理员可以组织抽查"
    answer = await ask(sbot, ADMIN, "抽查 地市 5家 种子 42")
    cities = sbot.db.transaction(lambda c: [u for u in units.list_units(c) if u.kind == "city"])
    expected = pure_draw([u.id for u in cities], 5, 42)
    names = {u.id: u.name for u in cities}
    assert answer.startswith(f"抽查 1：从地市（{len(cities)} 家）中随机抽取 5 家："
                             + "、".join(names[i] for i in expected))
    assert "种子 42，范围 kind:city" in answer
    other = await ask(sbot, ADMIN, "抽查 各地市 五家")
    assert other.startswith("抽查 2：从各地市") and "种子 42" not in other


async def test_sites_nominated_in_chat_and_the_years_list(sbot: Bot) -> None:
    got = await ask(sbot, ZZ_LIAISON, "申报示范点 中牟县市场监管所 推行柔性执法三张清单")
    assert got == ("已收到郑州市申报的2026年示范点候选“中牟县市场监管所”（编号 1），"
                   "将在年内跟踪培育、年底验收")
    assert await ask(sbot, ADMIN, "申报示范点 某所 简介") == "只有联络员可以为本单位申报示范点"
    assert await ask(sbot, ADMIN, "今年有几个示范点") == (
        "2026年示范点：验收通过 0 个，培育中 1 个（共申报 1 个）\n"
        f"全部候选见督导看板 {sbot.services.env.board_url}/sites")
    now = sbot.services.env.clock.now()
    sbot.db.transaction(lambda c: sites.decide(c, 1, passed=True, reason="制度健全、成效明显",
                                               actor="cli:test", now=now))
    assert await ask(sbot, KF_LIAISON, "示范点") == (
        "2026年示范点：验收通过 1 个，培育中 0 个（共申报 1 个）\n· 郑州市 中牟县市场监管所")
    assert await ask(sbot, ADMIN, "示范点 郑州") == (
        "郑州市2026年申报的示范点（1 个）：\n· 中牟县市场监管所（编号 1，验收通过：制度健全、成效明显）")


async def test_a_report_with_a_file_keeps_the_file(sbot: Bot) -> None:
    rid = add_item(sbot, "开封市", "台账不全", datetime(2026, 7, 20, 18, tzinfo=SH))
    body = "整改台账".encode() * 40
    async with file_server("/t.xlsx", body) as url:
        payload = message(KF_LIAISON, f"整改 #R{rid} 已补齐台账，见附件")
        payload["message"].append(seg("file", file="整改台账.xlsx", file_id="/t1",
                                      file_size=str(len(body)), url=url))
        [ack] = await say(sbot, payload)
    assert ack == f"已收到开封市整改事项 #R{rid} 的整改情况，附件 1 个，管理员审核后告知结果"
    row = item(sbot, rid)
    assert row.status == "reported" and row.report == "已补齐台账，见附件"
    [f] = row.files
    assert f["name"] == "整改台账.xlsx" and f["size"] == len(body)
    assert f["sha256"] == hashlib.sha256(body).hexdigest()

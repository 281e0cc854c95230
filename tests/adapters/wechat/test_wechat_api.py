"""WeChatAPI against a fake WeChat API server on 127.0.0.1: tokens, sends, errcodes, quotas."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import aiohttp
import pytest

from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.errors import (
    ERRCODE_DECISIONS,
    Decision,
    WeChatAPIError,
    WeChatTransportError,
    decide,
)
from bot.adapters.wechat_mp.quota import (
    InMemoryQuotaTracker,
    beijing_day,
    day_period,
    month_period,
)
from bot.adapters.wechat_mp.tokens import CachedToken, InMemoryTokenStore

from .conftest import APP_ID, NOW, OPENID, FakeWeChat


class Clock:
    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_api(session: aiohttp.ClientSession, base: str, store: InMemoryTokenStore | None = None,
             **kw: Any) -> WeChatAPI:
    return WeChatAPI(session, app_id=APP_ID, app_secret=kw.pop("secret", "s3cret"),
                     api_base=base, token_store=store or InMemoryTokenStore(), **kw)


# --- tokens --------------------------------------------------------------------------------------


async def test_two_instances_sharing_a_store_fetch_the_token_once(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    store = InMemoryTokenStore()
    a, b = make_api(session, base, store), make_api(session, base, store)
    await a.send_template(OPENID, "TPL", {"thing1": "三季度调研报告"})
    await b.send_text(OPENID, "hello")
    await a.create_menu({"button": []})
    assert len(fake.token_calls) == 1
    assert fake.token_calls[0] == {"grant_type": "client_credential", "appid": APP_ID,
                                   "secret": "s3cret", "force_refresh": False}
    assert {tok for _, tok, _ in fake.requests} == {"TOKEN-1"}


async def test_concurrent_callers_refresh_once(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    fake.token_delay = 0.05
    store = InMemoryTokenStore()
    apis = [make_api(session, base, store) for _ in range(3)]
    await asyncio.gather(*[apis[i % 3].send_text(f"o{i}", "x") for i in range(30)])
    assert len(fake.token_calls) == 1
    assert len(fake.requests) == 30


async def test_token_is_refreshed_ahead_of_expiry(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    clock = Clock()
    store = InMemoryTokenStore()
    api = make_api(session, base, store, now=clock, refresh_ahead_s=300)
    await api.send_text(OPENID, "1")
    cached = await store.load(APP_ID)
    assert cached == CachedToken("TOKEN-1", NOW + 7200)
    assert "TOKEN-1" not in repr(cached)
    clock.t = NOW + 7200 - 301
    await api.send_text(OPENID, "2")
    assert len(fake.token_calls) == 1
    clock.t = NOW + 7200 - 299  # inside the 5 minutes before expiry: refresh (normal mode)
    await api.send_text(OPENID, "3")
    assert [c["force_refresh"] for c in fake.token_calls] == [False, False]
    assert (await store.load(APP_ID)).expires_at == clock.t + 7200  # type: ignore[union-attr]


async def test_token_rejected_uses_the_one_another_process_stored(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    api = make_api(session, base)
    await api.send_text(OPENID, "1")
    fake.rotate()  # another deployment forced a refresh: TOKEN-1 is dead, TOKEN-2 is current
    await api.send_text(OPENID, "2")
    assert [tok for _, tok, _ in fake.requests] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert [c["force_refresh"] for c in fake.token_calls] == [False, False]


async def test_forced_refresh_on_40001_with_exactly_one_retry(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    api = make_api(session, base)
    await api.send_text(OPENID, "1")
    fake.revoked.add("TOKEN-1")  # rejected, yet stable_token (normal mode) still hands it out
    await api.send_text(OPENID, "2")
    assert [tok for _, tok, _ in fake.requests] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert [c["force_refresh"] for c in fake.token_calls] == [False, False, True]

    # a token error that survives the refresh is raised after ONE retry
    fake.script["/cgi-bin/message/custom/send"] = [
        {"errcode": 42001, "errmsg": "access_token expired"},
        {"errcode": 40001, "errmsg": "invalid credential"},
        {"errcode": 0, "errmsg": "ok"},
    ]
    before = len(fake.requests)
    with pytest.raises(WeChatAPIError) as info:
        await api.send_text(OPENID, "3")
    assert info.value.errcode == 40001
    assert info.value.decision is Decision.RETRY_AFTER_REFRESH
    assert len(fake.requests) - before == 2


async def test_concurrent_token_errors_refresh_once(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    store = InMemoryTokenStore()
    apis = [make_api(session, base, store) for _ in range(2)]
    await apis[0].send_text(OPENID, "warm up")
    fake.revoked.add("TOKEN-1")
    await asyncio.gather(*[apis[i % 2].send_text(f"o{i}", "x") for i in range(10)])
    assert [c["force_refresh"] for c in fake.token_calls] == [False, False, True]


async def test_bad_secret_alerts_an_admin(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str],
        caplog: pytest.LogCaptureFixture) -> None:
    fake, base = fake_wechat
    store = InMemoryTokenStore()
    api = make_api(session, base, store, secret="wrong-secret")
    with caplog.at_level(logging.DEBUG), pytest.raises(WeChatAPIError) as info:
        await api.send_text(OPENID, "x")
    assert (info.value.errcode, info.value.api) == (40125, "token")
    assert info.value.decision is Decision.ALERT_ADMIN
    assert await store.load(APP_ID) is None
    assert fake.requests == []
    assert "wrong-secret" not in caplog.text
    assert "wrong-secret" not in str(info.value)


# --- sends ---------------------------------------------------------------------------------------


async def test_template_custom_mass_and_menu_payloads(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    api = make_api(session, base)
    msgid = await api.send_template(OPENID, "TPL-1", {"thing1": "三季度调研报告",
                                                      "time2": "2026-09-30 18:00"},
                                    url="https://dudao.example/t/1")
    assert msgid == 200228332
    await api.send_text(OPENID, "郑州市：2 项逾期")
    msg_id = await api.mass_send_text_by_tag(101, "关于报送三季度材料的通知", clientmsgid="n-7")
    assert msg_id == 34182
    menu = {"button": [{"type": "click", "name": "我的待办", "key": "MY_TODO"}]}
    await api.create_menu(menu)
    paths = [p for p, _, _ in fake.requests]
    assert paths == ["/cgi-bin/message/template/send", "/cgi-bin/message/custom/send",
                     "/cgi-bin/message/mass/sendall", "/cgi-bin/menu/create"]
    bodies = [b for _, _, b in fake.requests]
    assert bodies[0] == {"touser": OPENID, "template_id": "TPL-1",
                         "url": "https://dudao.example/t/1",
                         "data": {"thing1": {"value": "三季度调研报告"},
                                  "time2": {"value": "2026-09-30 18:00"}}}
    assert bodies[1] == {"touser": OPENID, "msgtype": "text",
                         "text": {"content": "郑州市：2 项逾期"}}
    assert bodies[2] == {"filter": {"is_to_all": False, "tag_id": 101}, "msgtype": "text",
                         "text": {"content": "关于报送三季度材料的通知"}, "clientmsgid": "n-7"}
    assert bodies[3] == menu
    # raw UTF-8 on the wire, not \\u escapes
    assert "郑州市".encode() in fake.raw_bodies[1]


# --- errcodes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("errcode", "decision"), [
    (-1, Decision.BACK_OFF),
    (40003, Decision.BINDING_DEAD),
    (43004, Decision.BINDING_DEAD),
    (45015, Decision.FALLBACK_CHANNEL),
    (43101, Decision.FALLBACK_CHANNEL),
    (40130, Decision.FALLBACK_CHANNEL),
    (45009, Decision.QUOTA_EXCEEDED),
    (45047, Decision.QUOTA_EXCEEDED),
    (48001, Decision.ALERT_ADMIN),
    (40164, Decision.ALERT_ADMIN),
    (40013, Decision.ALERT_ADMIN),
    (12345, Decision.FAIL),
])
async def test_errcodes_map_to_decisions(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str], errcode: int,
        decision: Decision) -> None:
    fake, base = fake_wechat
    fake.script["/cgi-bin/message/template/send"] = [{"errcode": errcode, "errmsg": "e"}]
    api = make_api(session, base)
    with pytest.raises(WeChatAPIError) as info:
        await api.send_template(OPENID, "TPL", {"a": "b"})
    assert (info.value.errcode, info.value.decision, info.value.api) == (
        errcode, decision, "template")
    assert not info.value.local
    assert len(fake.requests) == 1  # no retry for anything but token errors


def test_every_errcode_of_the_reference_table_is_mapped() -> None:
    # wechat.md §5
    for code in (-1, 40001, 40014, 42001, 40003, 40130, 43004, 45009, 45015, 45047, 48001,
                 48006, 60020, 93000):
        assert code in ERRCODE_DECISIONS
    assert decide(40001) is Decision.RETRY_AFTER_REFRESH
    assert decide(48006) is Decision.ALERT_ADMIN


async def test_transport_errors_back_off_and_hide_the_token(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    api = make_api(session, base)
    await api.send_text(OPENID, "warm up")
    fake.status = 502
    with pytest.raises(WeChatTransportError) as info:
        await api.send_text(OPENID, "x")
    assert info.value.decision is Decision.BACK_OFF
    assert "TOKEN" not in str(info.value)

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = make_api(session, f"http://127.0.0.1:{port}")
    with pytest.raises(WeChatTransportError) as info:
        await dead.send_text(OPENID, "x")
    assert info.value.api == "token"
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "s3cret" not in str(info.value)


async def test_logs_carry_no_token_secret_or_full_openid(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str],
        caplog: pytest.LogCaptureFixture) -> None:
    fake, base = fake_wechat
    api = make_api(session, base)
    with caplog.at_level(logging.DEBUG):
        await api.send_text(OPENID, "1")
        fake.revoked.add("TOKEN-1")
        await api.send_template(OPENID, "TPL", {"a": "b"})
        fake.script["/cgi-bin/message/custom/send"] = [{"errcode": 43004, "errmsg": "x"}]
        with pytest.raises(WeChatAPIError):
            await api.send_text(OPENID, "2")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dudao."))
    assert "customer-service message sent" in ours
    for secret in ("TOKEN-1", "TOKEN-2", "s3cret", OPENID):
        assert secret not in ours


# --- quotas --------------------------------------------------------------------------------------


async def test_customer_service_window_is_tracked(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    clock = Clock()
    quota = InMemoryQuotaTracker()
    api = make_api(session, base, now=clock, quota=quota)

    with pytest.raises(WeChatAPIError) as info:  # the user never wrote: no window
        await api.send_text(OPENID, "x")
    assert (info.value.errcode, info.value.local) == (45015, True)
    assert info.value.decision is Decision.FALLBACK_CHANNEL
    assert fake.requests == []

    quota.record_user_message(OPENID, clock.t)
    for i in range(5):
        await api.send_text(OPENID, f"m{i}")
    with pytest.raises(WeChatAPIError) as info:
        await api.send_text(OPENID, "sixth")
    assert (info.value.errcode, info.value.local) == (45047, True)
    assert len(fake.requests) == 5

    clock.t += 3600  # a new message opens a new window
    quota.record_user_message(OPENID, clock.t)
    await api.send_text(OPENID, "again")
    clock.t += 48 * 3600 + 1
    assert not quota.can_send_custom(OPENID, clock.t)
    with pytest.raises(WeChatAPIError) as info:
        await api.send_text(OPENID, "too late")
    assert info.value.errcode == 45015

    # a menu click or subscribe: 3 within a minute
    quota.record_user_event("oOTHER", clock.t)
    for _ in range(3):
        await api.send_text("oOTHER", "x")
    assert not quota.can_send_custom("oOTHER", clock.t)
    quota.record_user_event("oOTHER", clock.t + 10)  # a new click: 3 more
    assert quota.can_send_custom("oOTHER", clock.t + 10)
    clock.t += 71
    assert not quota.can_send_custom("oOTHER", clock.t)


async def test_wechat_refusal_closes_the_window(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    quota = InMemoryQuotaTracker()
    api = make_api(session, base, now=Clock(), quota=quota)
    quota.record_user_message(OPENID, NOW)
    fake.script["/cgi-bin/message/custom/send"] = [{"errcode": 45047, "errmsg": "out of limit"}]
    with pytest.raises(WeChatAPIError) as info:
        await api.send_text(OPENID, "x")
    assert not info.value.local
    assert not quota.can_send_custom(OPENID, NOW)


async def test_daily_quota_is_never_exceeded(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    clock = Clock()
    quota = InMemoryQuotaTracker({"mass": 2, "template": 100_000}, {"mass": 100})
    api = make_api(session, base, now=clock, quota=quota)
    await api.mass_send_text_by_tag(1, "a")
    await api.mass_send_text_by_tag(1, "b")
    with pytest.raises(WeChatAPIError) as info:
        await api.mass_send_text_by_tag(1, "c")
    assert (info.value.errcode, info.value.local, info.value.decision) == (
        45009, True, Decision.QUOTA_EXCEEDED)
    assert len(fake.requests) == 2

    # the quota resets at midnight Beijing time
    next_day = (beijing_day(clock.t) + 1) * 86_400 - 8 * 3600
    clock.t = next_day - 1
    assert day_period(clock.t) != day_period(next_day)
    with pytest.raises(WeChatAPIError):
        await api.mass_send_text_by_tag(1, "still today")
    clock.t = next_day
    await api.mass_send_text_by_tag(1, "d")
    assert len(fake.requests) == 3

    # WeChat says 45009 before our count does: nothing more today
    fake.script["/cgi-bin/message/template/send"] = [{"errcode": 45009, "errmsg": "quota"}]
    with pytest.raises(WeChatAPIError) as info:
        await api.send_template(OPENID, "T", {})
    assert not info.value.local
    with pytest.raises(WeChatAPIError) as info:
        await api.send_template(OPENID, "T", {})
    assert info.value.local
    clock.t += 86_400
    await api.send_template(OPENID, "T", {})


async def test_monthly_mass_quota(
        session: aiohttp.ClientSession, fake_wechat: tuple[FakeWeChat, str]) -> None:
    """A service account's followers get 4 mass messages a month: the 5th is refused locally
    even on a new day, and the first of the next month goes out."""
    fake, base = fake_wechat
    clock = Clock(1_748_707_200.0)  # 2025-06-01 00:00 Beijing
    assert month_period(clock.t) == "m202506"
    api = make_api(session, base, now=clock, quota=InMemoryQuotaTracker())
    for day in range(4):
        clock.t = 1_748_707_200.0 + day * 86_400
        await api.mass_send_text_by_tag(7, f"第 {day} 天")
    clock.t += 86_400
    with pytest.raises(WeChatAPIError) as info:
        await api.mass_send_text_by_tag(7, "第五次")
    assert (info.value.errcode, info.value.local) == (45009, True)
    clock.t = 1_751_299_200.0  # 2025-07-01 00:00 Beijing
    assert month_period(clock.t) == "m202507"
    await api.mass_send_text_by_tag(7, "七月")
    assert len([r for r in fake.requests if r[0].endswith("/mass/sendall")]) == 5

"""Compatible mode trusts only the encrypted part of a callback (issue 12, item 3).

The attack: a signed query string (under 10 minutes old) replayed with another plaintext body —
``FromUserName`` = an official's openid, ``Content`` = 看板 — was answered with that official's
read-only board link, because the query's ``signature`` covers token, timestamp and nonce only.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.services import people, tasks
from tests.adapters.wechat.conftest import AES_KEY, APP_ID, TOKEN, sign
from tests.wechat_e2e.conftest import MakeBot, WeChatBot, text_xml

OFFICIAL = "oOFFICIAL_compat_01"
LIAISON = "oLIAISON_compat_01"
ATTACKER = "oATTACKER_compat_1"


def compatible_body(plain: str, encrypt: str) -> str:
    """What WeChat posts in compatible mode: the plaintext fields and Encrypt side by side."""
    fields = xmltodict.parse(plain)["xml"]
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"


def encrypt(plain: str) -> str:
    envelope = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(plain, "1", "1")
    return str(xmltodict.parse(envelope)["xml"]["Encrypt"])


def signed(encrypt_part: str, openid: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), "31415926"
    return {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
            "openid": openid, "encrypt_type": "aes",
            "msg_signature": sign(TOKEN, ts, nonce, encrypt_part)}


def reply_text(bot_crypto: WeChatCrypto, body: str, query: dict[str, str]) -> str:
    if body == "success":
        return ""
    env = xmltodict.parse(body)["xml"]
    plain = bot_crypto.decrypt_message(body, env["MsgSignature"], env["TimeStamp"], env["Nonce"])
    return str(xmltodict.parse(plain)["xml"]["Content"])


async def post(bot: WeChatBot, body: str, query: dict[str, str]) -> tuple[int, str]:
    async with bot.session.post(bot.server.make_url("/wechat/mp"), params=query,
                                data=body.encode()) as resp:
        return resp.status, await resp.text()


def seed(bot: WeChatBot) -> None:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> None:
        people.add(conn, identity=f"mp:{OFFICIAL}", unit="郑州市", role="official", name="赵市长",
                   now=now)
        people.add(conn, identity=f"mp:{LIAISON}", unit="郑州市", role="liaison", name="钱联络",
                   now=now)
        tasks.add(conn, title="三季度调研报告", due=datetime.fromisoformat("2030-09-30T18:00:00+08:00"),
                  units_spec="郑州市", system="supervision", created_by=None, now=now)

    bot.db.transaction(go)


async def test_compatible_mode_ignores_the_unsigned_plaintext(make_bot: MakeBot) -> None:
    bot = await make_bot(wechat_mp={"mode": "compatible", "aes_key": AES_KEY})
    seed(bot)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    # A genuine request from the attacker's own account; its query string is what gets replayed.
    own = text_xml("帮助", openid=ATTACKER, msg_id="7100001")
    own_encrypt = encrypt(own)
    query = signed(own_encrypt, ATTACKER)
    status, body = await post(bot, compatible_body(own, own_encrypt), query)
    assert status == 200
    assert "可用指令" in reply_text(crypto, body, query)

    forged = text_xml("看板", openid=OFFICIAL, msg_id="7100002")
    plain_query = {k: query[k] for k in ("signature", "timestamp", "nonce", "openid")}
    # 1. the replayed query without encrypt_type/msg_signature and a plaintext body
    assert (await post(bot, forged, plain_query))[0] == 403
    # 2. the full replayed query with a plaintext body (no Encrypt)
    assert (await post(bot, forged, query))[0] == 403
    # 3. the genuine Encrypt with forged plaintext fields beside it: only Encrypt is read
    status, body = await post(bot, compatible_body(forged, own_encrypt), query)
    assert status == 200
    answer = reply_text(crypto, body, query)
    assert "/v/" not in answer and "看板" not in answer

    # The service still works: health, the official's own 看板, a liaison's submission.
    async with bot.session.get(bot.server.make_url("/healthz")) as resp:
        assert resp.status == 200
    mine = text_xml("看板", openid=OFFICIAL, msg_id="7100003")
    mine_encrypt = encrypt(mine)
    q = signed(mine_encrypt, OFFICIAL)
    status, body = await post(bot, compatible_body(mine, mine_encrypt), q)
    assert status == 200
    assert "/v/" in reply_text(crypto, body, q)
    submit = text_xml("提交 三季度调研报告 已完成调研", openid=LIAISON, msg_id="7100004")
    submit_encrypt = encrypt(submit)
    q = signed(submit_encrypt, LIAISON)
    status, body = await post(bot, compatible_body(submit, submit_encrypt), q)
    assert status == 200
    assert reply_text(crypto, body, q).startswith("已收到 #")

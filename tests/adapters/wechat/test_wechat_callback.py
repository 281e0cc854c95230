"""The official-account callback over real HTTP: vectors, modes, refusals, dedupe, late replies."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
from typing import Any

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.adapters.wechat_mp.crypto import MessageCrypto
from bot.core.event import ChatKind, ChatRef, Image, MessageEvent, NoticeEvent, Other, Text, UserRef

from .conftest import (
    AES_KEY,
    APP_ID,
    NOW,
    OFFICIAL,
    OPENID,
    TOKEN,
    event_xml,
    plain_query,
    sign,
    text_xml,
)


def encrypted_query(encrypt: str, *, token: str = TOKEN, timestamp: str = str(int(NOW)),
                    nonce: str = "778899") -> dict[str, str]:
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
            "openid": OPENID, "encrypt_type": "aes",
            "msg_signature": sign(token, timestamp, nonce, encrypt)}


def encrypt_for(plaintext: str, *, aes_key: str = AES_KEY, app_id: str = APP_ID) -> str:
    """Encrypt like WeChat does, with wechatpy (independent of our MessageCrypto)."""
    envelope = WeChatCrypto(TOKEN, aes_key, app_id).encrypt_message(plaintext, "1", "1")
    return str(xmltodict.parse(envelope)["xml"]["Encrypt"])


def safe_body(encrypt: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")


# --- official vectors ----------------------------------------------------------------------------


async def test_official_get_verification(make_callback: Any) -> None:
    v = OFFICIAL["get"]
    h = await make_callback(token=OFFICIAL["token"], now=float(v["timestamp"]))
    resp = await h.client.get("/wechat/mp", params=v)
    assert resp.status == 200
    assert await resp.text() == "4375120948345356249"


async def test_official_get_verification_in_safe_mode_echoes_plain(make_callback: Any) -> None:
    v = OFFICIAL["get"]
    h = await make_callback(mode="safe", token=OFFICIAL["token"], aes_key=OFFICIAL["aes_key"],
                            app_id=OFFICIAL["app_id"], now=float(v["timestamp"]))
    resp = await h.client.get("/wechat/mp", params=v)
    assert resp.status == 200
    assert await resp.text() == v["echostr"]


async def test_official_plain_post_json(make_callback: Any) -> None:
    v = OFFICIAL["plain_post"]
    h = await make_callback(token=OFFICIAL["token"], now=float(v["query"]["timestamp"]))
    resp = await h.post(json.dumps(v["body"]), v["query"])
    assert resp.status == 200
    assert await resp.text() == "success"
    [event] = h.events
    assert isinstance(event, NoticeEvent)
    assert event.kind == "debug_demo"
    assert event.user == UserRef("mp", "o9AgO5Kd5ggOC-bXrbNODIiE3bGY")
    assert event.detail == {"debug_str": "hello world"}


async def test_official_safe_mode_decrypt_through_http(make_callback: Any) -> None:
    v = OFFICIAL["safe_post"]
    h = await make_callback(mode="safe", token=OFFICIAL["token"], aes_key=OFFICIAL["aes_key"],
                            app_id=OFFICIAL["app_id"], now=float(v["query"]["timestamp"]))
    body = json.dumps({"ToUserName": "gh_97417a04a28d", "Encrypt": v["encrypt"]})
    resp = await h.post(body, v["query"])
    assert resp.status == 200
    assert await resp.text() == "success"
    [event] = h.events
    assert isinstance(event, NoticeEvent)
    assert (event.platform, event.kind, event.user) == (
        "mp", "debug_demo", UserRef("mp", "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"))
    assert event.detail == {"debug_str": "hello world"}
    assert event.time.timestamp() == 1714112445


def test_official_safe_mode_vectors_decrypt_and_encrypt() -> None:
    v, e = OFFICIAL["safe_post"], OFFICIAL["encrypt_reply"]
    q = v["query"]
    mc = MessageCrypto(OFFICIAL["token"], OFFICIAL["aes_key"], OFFICIAL["app_id"],
                       prefix=lambda: e["random"])
    assert mc.verify(q["msg_signature"], q["timestamp"], q["nonce"], v["encrypt"])
    assert not mc.verify("0" * 40, q["timestamp"], q["nonce"], v["encrypt"])
    assert mc.decrypt(v["encrypt"], q["msg_signature"], q["timestamp"], q["nonce"]) == \
        v["plaintext"]
    encrypt, signature = mc.encrypt(e["plaintext"], e["nonce"], e["timestamp"])
    assert encrypt == e["encrypt"]
    assert signature == e["msg_signature"]


async def test_official_safe_mode_reply_is_encrypted_json(make_callback: Any) -> None:
    v = OFFICIAL["safe_post"]

    async def reply(event: Any) -> str:
        return "好的"

    h = await make_callback(mode="safe", token=OFFICIAL["token"], aes_key=OFFICIAL["aes_key"],
                            app_id=OFFICIAL["app_id"], now=1714112450.0, reply=reply)
    resp = await h.post(json.dumps({"ToUserName": "gh_97417a04a28d", "Encrypt": v["encrypt"]}),
                        v["query"])
    assert resp.status == 200
    env = json.loads(await resp.text())
    assert env["TimeStamp"] == 1714112450
    assert env["Nonce"] == "415670741"
    assert env["MsgSignature"] == sign("AAAAA", "1714112450", "415670741", env["Encrypt"])
    plain = WeChatCrypto("AAAAA", "A" * 43, "wxba5fad812f8e6fb9").decrypt_message(
        env, env["MsgSignature"], "1714112450", "415670741")
    assert json.loads(plain) == {"ToUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
                                 "FromUserName": "gh_97417a04a28d", "CreateTime": 1714112450,
                                 "MsgType": "text", "Content": "好的"}


# --- plain-mode samples --------------------------------------------------------------------------


async def test_plain_text_message_and_passive_reply(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        return "郑州市：3 项未交 ]]> <b>"

    h = await make_callback(reply=reply)
    resp = await h.post(text_xml("进度 郑州市"))
    assert resp.status == 200
    [event] = h.events
    assert isinstance(event, MessageEvent)
    assert event.platform == "mp"
    assert event.self_id == APP_ID
    assert event.chat == ChatRef("mp", ChatKind.PRIVATE, OPENID)
    assert event.sender == UserRef("mp", OPENID)
    assert event.to_me
    assert event.message_id == "1000001"
    assert event.segments == (Text("进度 郑州市"),)
    assert event.time.timestamp() == NOW
    xml = xmltodict.parse(await resp.text())["xml"]
    assert xml["ToUserName"] == OPENID
    assert xml["FromUserName"] == "gh_dudao"
    assert xml["MsgType"] == "text"
    assert xml["CreateTime"] == str(int(NOW))
    assert xml["Content"] == "郑州市：3 项未交 ]]> <b>"


async def test_plain_image_message(make_callback: Any) -> None:
    h = await make_callback()
    body = ("<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{int(NOW)}</CreateTime>"
            "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz/p.jpg]]></PicUrl>"
            "<MediaId><![CDATA[media_1]]></MediaId><MsgId>1234567890123456</MsgId></xml>")
    resp = await h.post(body)
    assert resp.status == 200
    assert await resp.text() == "success"
    [event] = h.events
    assert isinstance(event, MessageEvent)
    assert event.segments == (Image(url="http://mmbiz/p.jpg", file="media_1"),)
    assert event.message_id == "1234567890123456"


async def test_plain_voice_message_is_other(make_callback: Any) -> None:
    h = await make_callback()
    body = ("<xml><ToUserName>gh_dudao</ToUserName>"
            f"<FromUserName>{OPENID}</FromUserName><CreateTime>{int(NOW)}</CreateTime>"
            "<MsgType>voice</MsgType><MediaId>m2</MediaId><Format>amr</Format>"
            "<MsgId>77</MsgId></xml>")
    assert (await h.post(body)).status == 200
    [event] = h.events
    assert isinstance(event, MessageEvent)
    assert event.segments == (Other("voice", (("MediaId", "m2"), ("Format", "amr"))),)


@pytest.mark.parametrize(("xml", "kind", "detail"), [
    (event_xml("subscribe"), "subscribe", {}),
    (event_xml("subscribe", "qrscene_BIND-7Q2K", extra="<Ticket>TK</Ticket>"), "subscribe",
     {"key": "BIND-7Q2K", "ticket": "TK"}),
    (event_xml("subscribe", "last_trade_no_4"), "subscribe", {}),
    (event_xml("unsubscribe"), "unsubscribe", {}),
    (event_xml("SCAN", "BIND-7Q2K", extra="<Ticket>TK</Ticket>"), "scan",
     {"key": "BIND-7Q2K", "ticket": "TK"}),
    (event_xml("CLICK", "MY_DEADLINES"), "click", {"key": "MY_DEADLINES"}),
    (event_xml("TEMPLATESENDJOBFINISH", extra="<MsgID>200163836</MsgID><Status>success</Status>"),
     "templatesendjobfinish", {"MsgID": "200163836", "Status": "success"}),
])
async def test_plain_events(make_callback: Any, xml: str, kind: str,
                            detail: dict[str, str]) -> None:
    h = await make_callback()
    resp = await h.post(xml)
    assert resp.status == 200
    assert await resp.text() == "success"
    [event] = h.events
    assert isinstance(event, NoticeEvent)
    assert (event.platform, event.kind, event.user, event.chat) == (
        "mp", kind, UserRef("mp", OPENID), None)
    assert event.detail == detail


# --- safe and compatible mode ------------------------------------------------------------------


async def test_safe_mode_xml_round_trip(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        return "收到"

    h = await make_callback(mode="safe", reply=reply)
    encrypt = encrypt_for(text_xml("我的任务"))
    resp = await h.post(safe_body(encrypt), encrypted_query(encrypt))
    assert resp.status == 200
    [event] = h.events
    assert isinstance(event, MessageEvent)
    assert event.text == "我的任务"
    env = xmltodict.parse(await resp.text())["xml"]
    assert env["Nonce"] == "778899"
    assert env["TimeStamp"] == str(int(NOW))
    assert env["MsgSignature"] == sign(TOKEN, env["TimeStamp"], "778899", env["Encrypt"])
    plain = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
        await resp.text(), env["MsgSignature"], env["TimeStamp"], "778899")
    inner = xmltodict.parse(plain)["xml"]
    assert inner["Content"] == "收到"
    assert inner["ToUserName"] == OPENID


async def test_safe_mode_refuses_plain_post(make_callback: Any) -> None:
    h = await make_callback(mode="safe")
    resp = await h.post(text_xml("hi"))  # correctly signed, but the signature ignores the body
    assert resp.status == 403
    assert h.events == []


async def test_plain_mode_refuses_encrypted_post(make_callback: Any) -> None:
    h = await make_callback(mode="plain")
    encrypt = encrypt_for(text_xml("hi"))
    assert (await h.post(safe_body(encrypt), encrypted_query(encrypt))).status == 403


async def test_compatible_mode_reads_only_the_encrypted_part(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        return "ok"

    h = await make_callback(mode="compatible", reply=reply)
    # The query's signature covers token, timestamp and nonce, not the body: refused.
    assert (await h.post(text_xml("明文", msg_id="1"))).status == 403
    genuine = text_xml("密文", msg_id="2")
    encrypt = encrypt_for(genuine)
    q = encrypted_query(encrypt)
    assert (await h.post(text_xml("明文", msg_id="1"), q)).status == 403  # no Encrypt
    # WeChat's compatible body: plaintext fields beside Encrypt. Forged plaintext is ignored.
    forged = text_xml("看板", msg_id="3", openid="oOFFICIAL_0009")
    body = forged.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    resp = await h.post(body, q)
    assert resp.status == 200
    assert "Encrypt" in xmltodict.parse(await resp.text())["xml"]  # encrypted answer
    [event] = h.events
    assert isinstance(event, MessageEvent)
    assert (event.text, event.sender.id, event.message_id) == ("密文", OPENID, "2")


# --- refusals ------------------------------------------------------------------------------------


async def test_forged_signatures_are_403(make_callback: Any) -> None:
    h = await make_callback()
    q = plain_query()
    resp = await h.client.get("/wechat/mp", params={**q, "signature": "0" * 40, "echostr": "x"})
    assert resp.status == 403
    resp = await h.client.get("/wechat/mp", params={"echostr": "x"})
    assert resp.status == 403
    assert (await h.post(text_xml("x"), {**q, "signature": "f" * 40})).status == 403
    assert (await h.post(text_xml("x"), plain_query(token="other"))).status == 403
    assert (await h.post(text_xml("x"), {"timestamp": q["timestamp"],
                                         "nonce": q["nonce"]})).status == 403
    assert h.events == []


async def test_forged_msg_signature_is_403(make_callback: Any) -> None:
    h = await make_callback(mode="safe")
    encrypt = encrypt_for(text_xml("x"))
    q = encrypted_query(encrypt)
    assert (await h.post(safe_body(encrypt), {**q, "msg_signature": "a" * 40})).status == 403
    no_msg_sig = {k: v for k, v in q.items() if k != "msg_signature"}
    assert (await h.post(safe_body(encrypt), no_msg_sig)).status == 403
    # msg_signature computed over another Encrypt
    other = encrypt_for(text_xml("y"))
    assert (await h.post(safe_body(encrypt), encrypted_query(other))).status == 403
    assert h.events == []


@pytest.mark.parametrize("wrong", [
    {"aes_key": "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"},  # another key
    {"aes_key": "B" * 43},
    {"app_id": "wx_someone_else"},  # our key, another app id
])
async def test_wrong_aes_key_or_app_id_is_400(make_callback: Any, wrong: dict[str, str]) -> None:
    h = await make_callback(mode="safe")
    encrypt = encrypt_for(text_xml("x"), **wrong)
    resp = await h.post(safe_body(encrypt), encrypted_query(encrypt))
    assert resp.status == 400
    assert h.events == []


@pytest.mark.parametrize("encrypt", [
    "not base64 at all!!",
    base64.b64encode(b"short").decode(),
    base64.b64encode(b"x" * 48).decode(),
])
async def test_undecryptable_encrypt_is_400(make_callback: Any, encrypt: str) -> None:
    h = await make_callback(mode="safe")
    resp = await h.post(safe_body(encrypt), encrypted_query(encrypt))
    assert resp.status == 400


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                  f'<xml><ToUserName>gh</ToUserName><FromUserName>{OPENID}</FromUserName>'
                  f'<CreateTime>{int(NOW)}</CreateTime><MsgType>text</MsgType>'
                  '<Content>&lol3;</Content><MsgId>9</MsgId></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       f'<xml><ToUserName>gh</ToUserName><FromUserName>{OPENID}</FromUserName>'
       f'<CreateTime>{int(NOW)}</CreateTime><MsgType>text</MsgType>'
       '<Content>&e;</Content><MsgId>9</MsgId></xml>')


@pytest.mark.parametrize("body", [
    "",
    "   ",
    "<xml><ToUserName>gh</ToUserName>",  # truncated
    "not xml",
    "<other><a>1</a></other>",
    "<xml>text</xml>",
    "[1, 2]",
    "{bad json",
    BILLION_LAUGHS,
    XXE,
    text_xml("x").replace(f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>", ""),
    text_xml("x").replace("<MsgType><![CDATA[text]]></MsgType>", ""),
    text_xml("x").replace("<MsgId>1000001</MsgId>", ""),
    text_xml("x").replace(f"<CreateTime>{int(NOW)}</CreateTime>", "<CreateTime>soon</CreateTime>"),
    event_xml("CLICK", "K").replace("<Event><![CDATA[CLICK]]></Event>", ""),
])
async def test_bad_bodies_are_400(make_callback: Any, body: str) -> None:
    h = await make_callback()
    resp = await h.post(body)
    assert resp.status == 400
    assert h.events == []


async def test_entity_expansion_inside_encrypted_body_is_400(make_callback: Any) -> None:
    h = await make_callback(mode="safe")
    encrypt = encrypt_for(BILLION_LAUGHS)
    assert (await h.post(safe_body(encrypt), encrypted_query(encrypt))).status == 400
    q = encrypted_query("x")
    assert (await h.post(BILLION_LAUGHS, q)).status == 400
    no_encrypt = "<xml><ToUserName>gh</ToUserName></xml>"
    assert (await h.post(no_encrypt, encrypted_query(""))).status in (400, 403)
    assert h.events == []


async def test_oversize_body_is_413(make_callback: Any) -> None:
    h = await make_callback()
    big = text_xml("长" * 400_000)  # > 1 MiB of UTF-8
    assert len(big.encode()) > 1024 * 1024
    assert (await h.post(io.BytesIO(big.encode()))).status == 413  # type: ignore[arg-type]

    async def chunks() -> Any:  # no Content-Length: chunked transfer
        for _ in range(20):
            yield b"x" * 65536

    resp = await h.client.post("/wechat/mp", params=plain_query(), data=chunks())
    assert resp.status == 413
    assert h.events == []


async def _raw_post(port: int, query: dict[str, str], headers: dict[str, str],
                    first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    from urllib.parse import urlencode

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST /wechat/mp?{urlencode(query)} HTTP/1.1", "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + first)
    await writer.drain()
    return reader, writer


async def _status_then_closed(reader: asyncio.StreamReader) -> int:
    async with asyncio.timeout(5):
        line = await reader.readuntil(b"\r\n")
        try:
            while await reader.read(65536):
                pass
        except ConnectionResetError:
            pass
    return int(line.split(b" ", 2)[1])


async def test_unauthenticated_body_reads_are_bounded(make_callback: Any) -> None:
    # In safe mode the body is read before msg_signature can be checked; the query alone (here
    # without the optional signature) proves nothing. Reads are capped, few at once, and a
    # refusal closes the connection instead of reading on.
    h = await make_callback(mode="safe", max_concurrent_reads=2)
    port = h.client.port
    q = {"timestamp": str(int(NOW)), "nonce": "1", "encrypt_type": "aes",
         "msg_signature": "0" * 40}
    reader, writer = await _raw_post(port, q, {"Content-Length": str(15_500_000)}, b"<xml>")
    assert await _status_then_closed(reader) == 413  # answered with 15.5 MB still unsent
    writer.close()
    held = [await _raw_post(port, q, {"Content-Length": "900000"}, b"<xml>") for _ in range(2)]
    await asyncio.sleep(0.2)
    reader, writer = await _raw_post(port, q, {"Content-Length": "900000"}, b"<xml>")
    assert await _status_then_closed(reader) == 503
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.2)
    encrypt = encrypt_for(text_xml("正常"))
    assert (await h.post(safe_body(encrypt), encrypted_query(encrypt))).status == 200
    assert [e.text for e in h.events if isinstance(e, MessageEvent)] == ["正常"]


async def test_replay_window(make_callback: Any) -> None:
    h = await make_callback(replay_window_s=600)
    for offset, status in [(-601, 403), (601, 403), (-599, 200), (599, 200)]:
        ts = str(int(NOW) + offset)
        resp = await h.post(text_xml("x", msg_id=f"r{offset}"), plain_query(timestamp=ts))
        assert resp.status == status, offset
    assert (await h.post(text_xml("x"), plain_query(timestamp="abc"))).status == 403
    h.clock[0] = NOW + 3600  # an hour later the same signed GET is refused
    q = {**plain_query(), "echostr": "e"}
    assert (await h.client.get("/wechat/mp", params=q)).status == 403
    assert len(h.events) == 2


async def test_garbage_never_gets_a_500(make_callback: Any) -> None:
    for mode in ("plain", "compatible", "safe"):
        h = await make_callback(mode=mode)
        bodies = [b"\x00\xff\xfe", b"<xml>" * 1000, "<xml><MsgType>文</MsgType></xml>".encode(),
                  b'{"MsgType": 5}', b'{"Encrypt": 5}', b"<xml><Encrypt></Encrypt></xml>",
                  b"\xef\xbb\xbf<xml><a>1</a></xml>"]
        for body in bodies:
            for q in (plain_query(), encrypted_query("x"), {}, {"encrypt_type": "aes"}):
                resp = await h.post(body, q)
                assert resp.status < 500, (mode, body, q)


def test_bad_configuration_fails_fast() -> None:
    from bot.adapters.wechat_mp.callback import WeChatCallback

    async def handle(e: Any) -> None:
        return None

    async def late(o: str, t: str) -> None:
        return None

    kw: dict[str, Any] = {"app_id": APP_ID, "token": TOKEN, "replay_window_s": 600,
                          "reply_deadline_s": 4.0, "handle": handle, "late_reply": late}
    with pytest.raises(ValueError):
        WeChatCallback(aes_key=AES_KEY, mode="secure", **kw)
    with pytest.raises(ValueError):
        WeChatCallback(aes_key="", mode="safe", **kw)
    with pytest.raises(ValueError):
        WeChatCallback(aes_key="short", mode="safe", **kw)
    WeChatCallback(aes_key="", mode="plain", **kw)


# --- dedupe and deadlines ------------------------------------------------------------------------


async def test_retries_are_deduped(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        return "三项待办"

    h = await make_callback(reply=reply)
    texts = []
    for _ in range(4):  # the first try and WeChat's three retries
        resp = await h.post(text_xml("待办", msg_id="555"))
        assert resp.status == 200
        texts.append(await resp.text())
    assert len(h.events) == 1
    # a retry means WeChat did not get the answer: it gets the same passive reply again
    assert all("三项待办" in t for t in texts)
    for _ in range(3):
        assert (await h.post(event_xml("subscribe"))).status == 200
    assert (await h.post(event_xml("subscribe", create=int(NOW) + 5))).status == 200
    assert (await h.post(event_xml("unsubscribe"))).status == 200
    assert [e.kind for e in h.events if isinstance(e, NoticeEvent)] == [
        "subscribe", "subscribe", "unsubscribe"]


async def test_retries_while_in_flight_run_the_handler_once(make_callback: Any) -> None:
    release = asyncio.Event()
    calls = 0

    async def reply(event: Any) -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "答复"

    h = await make_callback(reply=reply, deadline=2.0)
    posts = [asyncio.create_task(h.post(text_xml("进度", msg_id="42"))) for _ in range(4)]
    await asyncio.sleep(0.2)
    release.set()
    responses = await asyncio.gather(*posts)
    assert calls == 1
    assert all(r.status == 200 for r in responses)
    texts = [await r.text() for r in responses]
    assert all("答复" in t for t in texts)
    await h.callback.close()
    assert h.late == []


async def test_slow_handler_answers_success_then_late_reply(make_callback: Any) -> None:
    release = asyncio.Event()
    calls = 0

    async def reply(event: Any) -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "统计完成：郑州市 2 项逾期"

    h = await make_callback(reply=reply, deadline=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    resp = await h.post(text_xml("进度", msg_id="43"))
    assert await resp.text() == "success"
    assert loop.time() - started < 3.0  # the deadline is 0.2 s; generous for slow CI
    # WeChat retries (say the answer got lost) while the handler still runs
    retries = await asyncio.gather(*[h.post(text_xml("进度", msg_id="43")) for _ in range(3)])
    assert [await r.text() for r in retries] == ["success"] * 3
    assert h.late == []
    release.set()
    await h.callback.close()
    assert calls == 1
    assert h.late == [(OPENID, "统计完成：郑州市 2 项逾期")]


async def test_handler_errors_and_none_answer_success(make_callback: Any) -> None:
    async def reply(event: Any) -> str | None:
        if isinstance(event, MessageEvent) and event.text == "boom":
            raise RuntimeError("handler bug")
        return None

    h = await make_callback(reply=reply)
    for i, text in enumerate(["boom", "quiet"]):
        resp = await h.post(text_xml(text, msg_id=str(i)))
        assert resp.status == 200
        assert await resp.text() == "success"


async def test_slow_failing_handler_sends_no_late_reply(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        await asyncio.sleep(0.3)
        raise RuntimeError("late bug")

    h = await make_callback(reply=reply, deadline=0.05)
    assert await (await h.post(text_xml("x"))).text() == "success"
    await h.callback.close()
    assert h.late == []


async def test_dedupe_memory_expires_and_is_bounded(make_callback: Any) -> None:
    h = await make_callback(dedupe_max=3)
    assert (await h.post(text_xml("a", msg_id="1"))).status == 200
    assert (await h.post(text_xml("a", msg_id="1"))).status == 200
    assert len(h.events) == 1
    h.clock[0] = NOW + 700  # past the 10-minute memory: the same MsgId is new again
    q = plain_query(timestamp=str(int(NOW) + 700))
    assert (await h.post(text_xml("a", msg_id="1"), q)).status == 200
    assert len(h.events) == 2
    for i in range(2, 6):  # more ids than the bound: the oldest is forgotten
        assert (await h.post(text_xml("b", msg_id=str(i)), q)).status == 200
    assert len(h.callback._attempts) == 3
    assert (await h.post(text_xml("b", msg_id="5"), q)).status == 200
    assert len(h.events) == 6


async def test_logs_mask_openids_and_hide_secrets(make_callback: Any,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    async def reply(event: Any) -> str:
        await asyncio.sleep(0.2)
        return "ok"

    h = await make_callback(mode="compatible", reply=reply, deadline=0.05)
    with caplog.at_level(logging.DEBUG):
        encrypt = encrypt_for(text_xml("x"))
        for _ in range(2):
            await h.post(safe_body(encrypt), encrypted_query(encrypt))
        await h.post(safe_body(encrypt), {**encrypted_query(encrypt), "msg_signature": "0" * 40})
        await h.post(text_xml("y", msg_id="2"), {**plain_query(), "signature": "1" * 40})
        await h.callback.close()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dudao."))
    assert "refused with 403" in ours
    assert "oUSE…001" in ours
    for secret in (OPENID, TOKEN, AES_KEY, encrypt):
        assert secret not in ours


async def test_callback_opens_the_customer_service_window(make_callback: Any) -> None:
    from bot.adapters.wechat_mp.quota import InMemoryQuotaTracker

    quota = InMemoryQuotaTracker()
    h = await make_callback(quota=quota)
    assert not quota.can_send_custom(OPENID, NOW)
    await h.post(text_xml("进度"))
    assert quota.custom_remaining(OPENID, NOW) == 5
    await h.post(text_xml("进度"))  # a retry opens nothing new
    quota.record_custom_sent(OPENID, NOW)
    assert quota.custom_remaining(OPENID, NOW) == 4
    await h.post(event_xml("CLICK", "MY_TODO", openid="oCLICKER_0002"))
    assert quota.custom_remaining("oCLICKER_0002", NOW) == 3
    assert quota.custom_remaining("oCLICKER_0002", NOW + 61) == 0
    await h.post(event_xml("unsubscribe"))
    assert not quota.can_send_custom(OPENID, NOW)


async def test_close_cancels_a_stuck_handler_after_the_grace_period(make_callback: Any) -> None:
    async def reply(event: Any) -> str:
        await asyncio.Event().wait()  # never returns
        return "never"

    h = await make_callback(reply=reply, deadline=0.05)
    assert await (await h.post(text_xml("x"))).text() == "success"
    await h.callback.close(grace_s=0.1)
    assert h.late == []
    assert not h.callback._tasks

"""Hypothesis over the WeChat official-account callback (/wechat/mp) of the whole service.

Arbitrary bodies, well-formed XML with arbitrary fields, and arbitrary query strings, signed and
unsigned: the answer is always a 2xx or 4xx, never a 5xx, and nothing is logged as an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from config.settings import load_settings

TOKEN = "fuzzToken"
FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@dataclass
class Callback:
    loop: asyncio.AbstractEventLoop
    server: TestServer
    session: aiohttp.ClientSession
    errors: list[logging.LogRecord] = field(default_factory=list)

    def post(self, body: bytes, query: dict[str, str]) -> int:
        async def go() -> int:
            async with self.session.post(self.server.make_url("/wechat/mp"), params=query,
                                         data=body, headers={"Content-Type": "text/xml"}) as r:
                await r.read()
                return r.status

        return int(self.loop.run_until_complete(asyncio.wait_for(go(), 30)))


class _Errors(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record)


@pytest.fixture(scope="module")
def callback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callback]:
    tmp: Path = tmp_path_factory.mktemp("wechat_fuzz")
    cfg = load_settings(None, {}, cwd=tmp, overrides={
        "service": {"data_dir": str(tmp / "data")},
        "database": {"url": f"sqlite:///{tmp}/dudao.db"},
        "schedule": {"enabled": False}, "nlu": {"enabled": False},
        "wechat_mp": {"token": TOKEN, "mode": "plain", "reply_deadline_s": 1.0},
    })
    loop = asyncio.new_event_loop()
    errors: list[logging.LogRecord] = []
    handler = _Errors(errors)

    async def start() -> tuple[TestServer, aiohttp.ClientSession]:
        server = TestServer(create_app(cfg))
        await server.start_server()
        return server, aiohttp.ClientSession()

    server, session = loop.run_until_complete(start())
    logging.getLogger("dudao").addHandler(handler)
    try:
        yield Callback(loop, server, session, errors)
    finally:
        logging.getLogger("dudao").removeHandler(handler)

        async def stop() -> None:
            await session.close()
            await server.close()

        loop.run_until_complete(stop())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def signed(openid: str = "oFUZZ") -> dict[str, str]:
    ts, nonce = str(int(time.time())), "424242"
    return {"signature": _sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
            "openid": openid}


text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
fields = st.dictionaries(
    st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                     "Event", "EventKey", "PicUrl", "MediaId", "Format", "Recognition",
                     "Location_X", "Label", "Title", "Url", "Ticket", "Encrypt"]),
    st.one_of(text_values, st.sampled_from(["text", "event", "image", "voice", "subscribe",
                                            "unsubscribe", "CLICK", "SCAN", "1", "-1", "",
                                            "99999999999999999999"])),
    max_size=10)


def as_xml(values: dict[str, str], cdata: bool) -> bytes:
    inner = "".join(
        f"<{k}><![CDATA[{v.replace(']]>', '')}]]></{k}>" if cdata else f"<{k}>{escape(v)}</{k}>"
        for k, v in values.items())
    return f"<xml>{inner}</xml>".encode()


def _check(cb: Callback, status: int) -> None:
    assert status < 500, status
    assert not cb.errors, [r.getMessage() for r in cb.errors]


@FUZZ
@given(fields, st.booleans())
def test_fuzz_wechat_signed_xml_never_5xx(callback: Callback, values: dict[str, str],
                                          cdata: bool) -> None:
    _check(callback, callback.post(as_xml(values, cdata), signed()))


@FUZZ
@given(st.one_of(st.binary(max_size=400), text_values.map(str.encode),
                 st.sampled_from([b"", b"<xml>", b"<xml><a>1</a>", b"<!DOCTYPE x [<!ENTITY a "
                                  b"'aaaa'>]><xml><Content>&a;</Content></xml>",
                                  b"<?xml version='1.0' encoding='gbk'?><xml></xml>",
                                  b"<xml><MsgType>text</MsgType></xml>"])))
def test_fuzz_wechat_signed_arbitrary_bodies_never_5xx(callback: Callback, body: bytes) -> None:
    _check(callback, callback.post(body, signed()))


@FUZZ
@given(st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "openid",
                                        "echostr", "encrypt_type", "msg_signature"]),
                       text_values, max_size=7),
       st.binary(max_size=100))
def test_fuzz_wechat_unsigned_queries_never_5xx(callback: Callback, query: dict[str, str],
                                                body: bytes) -> None:
    status = callback.post(body, query)
    _check(callback, status)
    if "signature" not in query or "timestamp" not in query:
        assert status >= 400


def test_fuzz_wechat_valid_text_still_answers(callback: Callback) -> None:
    """After all the junk the endpoint still handles a real message."""
    body = as_xml({"ToUserName": "gh_x", "FromUserName": "oFUZZ2", "CreateTime":
                   str(int(time.time())), "MsgType": "text", "Content": "帮助",
                   "MsgId": "77001"}, True)
    status = callback.post(body, signed("oFUZZ2"))
    assert status == 200
    _check(callback, status)

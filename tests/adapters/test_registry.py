"""A new platform is one package: the registry creates adapters by name or module path.

``tests/adapters/loopback.py`` is a platform the service has never heard of; named in
``create_app(adapters=[...])`` it receives a submission with an attachment and sends the
acknowledgement through the same dispatcher, outbox and delivery as QQ, and ``/healthz`` lists
it. The console is an adapter of the same protocol.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.adapters.console.adapter import ConsoleAdapter
from bot.adapters.registry import DEFAULT, AdapterConfigError, create_adapters, factory_of
from bot.app import SERVICES, build_services, create_app, lifecycle
from bot.core.adapter import Host
from bot.core.event import ChatRef, UserRef
from bot.services import people, tasks
from config.settings import ConfigError, Settings, load_settings
from storage.models import Attachment
from tests.adapters.loopback import LoopbackAdapter
from tests.adapters.onebot.conftest import wait_until


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(None, {}, cwd=tmp_path, overrides={
        "service": {"data_dir": str(tmp_path / "data")},
        "database": {"url": f"sqlite:///{tmp_path}/dudao.db"},
        "outbox": {"account_interval_ms": 0, "group_interval_ms": 0, "jitter_ms": 0,
                   "poll_interval_s": 0.2},
        "schedule": {"enabled": False}, "nlu": {"enabled": False}})


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    app = create_app(settings_for(tmp_path), adapters=["onebot", "tests.adapters.loopback"])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    try:
        yield server, session
    finally:
        await session.close()
        await server.close()


async def test_a_platform_from_outside_receives_and_sends(
        served: tuple[TestServer, aiohttp.ClientSession]) -> None:
    server, session = served
    services = server.app[SERVICES]
    loopback = services.adapter("loopback")
    assert isinstance(loopback, LoopbackAdapter) and loopback.started
    now = services.env.clock.now()

    def seed(conn: Any) -> None:
        people.add(conn, identity="lb:alice", unit="郑州市", role="liaison", name="爱丽丝",
                   now=now)
        tasks.add(conn, title="三季度调研报告", due=datetime.fromisoformat("2030-09-30T18:00+08:00"),
                  units_spec="郑州市", system="supervision", created_by=None, now=now)

    services.db.transaction(seed)
    report = "调研报告正文".encode() * 100
    async with session.post(server.make_url("/loopback/messages"), json={
            "from": "alice", "chat": "user:alice", "id": "m1", "text": "提交 三季度调研报告",
            "files": [{"name": "报告.docx", "base64": base64.b64encode(report).decode()}]}) as r:
        assert r.status == 204
    await wait_until(lambda: bool(loopback.sent), within=10)
    [ack] = loopback.sent
    assert ack["chat"] == "lb:user:alice" and ack["kind"] == "reply"
    assert ack["text"].startswith("已收到 #1：郑州市《三季度调研报告》") and "附件1个" in ack["text"]
    stored = services.db.transaction(lambda c: c.execute(select(Attachment.sha256)).scalar_one())
    assert stored == hashlib.sha256(report).hexdigest()
    async with session.get(server.make_url("/healthz")) as r:
        health = await r.json()
    assert health["adapters"]["loopback"] == {"sent": 1}
    assert health["adapters"]["onebot"] == []  # the built-ins still run beside it


async def test_adapters_that_cannot_be_made_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterConfigError, match="no such module"):
        factory_of("tests.adapters.no_such_platform")
    with pytest.raises(AdapterConfigError, match="has no create"):
        factory_of("tests.support")  # a module, but not a platform
    settings = settings_for(tmp_path)

    def twin(s: Settings, host: Host) -> LoopbackAdapter:
        adapter = LoopbackAdapter(host)
        adapter.name = "loopback-twin"
        return adapter

    services = build_services(settings, adapters=["tests.adapters.loopback"])
    try:
        with pytest.raises(AdapterConfigError, match="both send for platform 'lb'"):
            create_adapters(["tests.adapters.loopback", twin], settings, services.host)
    finally:
        services.db.close()


async def test_the_console_is_an_adapter_like_the_others(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings = dataclasses.replace(settings, admins=("qq:10001",))
    stdin, out = io.StringIO("帮助\n"), io.StringIO()
    made: list[ConsoleAdapter] = []

    def console(s: Settings, host: Host) -> ConsoleAdapter:
        made.append(ConsoleAdapter(host, who=UserRef.parse("qq:10001"),
                                   chat=ChatRef.parse("qq:group:20001"), stdin=stdin, out=out))
        return made[-1]

    services = build_services(settings, adapters=[console])
    async with lifecycle(services):
        await asyncio.wait_for(made[0].finished.wait(), 10)
        await wait_until(lambda: "可用指令" in out.getvalue(), within=10)
    assert out.getvalue().startswith("督导控制台：你是 qq:10001")
    assert "督导：可用指令" in out.getvalue()


async def test_the_configuration_names_the_adapters(tmp_path: Path) -> None:
    """``[service] adapters`` decides what runs; ``create_app(adapters=...)`` overrides it."""
    base = settings_for(tmp_path)
    assert base.service.adapters == DEFAULT  # the built-ins, as config/default.toml says

    def configured(*names: str) -> Settings:
        return dataclasses.replace(base, service=dataclasses.replace(base.service,
                                                                     adapters=names))

    services = build_services(configured("tests.adapters.loopback"))
    try:
        assert [a.name for a in services.adapters] == ["loopback"]  # no onebot: left out
    finally:
        services.db.close()
    services = build_services(configured("tests.adapters.loopback"), adapters=["onebot"])
    try:
        assert [a.name for a in services.adapters] == ["onebot"]
    finally:
        services.db.close()
    with pytest.raises(ConfigError, match=r"\[service\] adapters: adapter 'tests.nowhere'"):
        build_services(configured("onebot", "tests.nowhere"))


def test_the_adapters_key_is_read_and_checked(tmp_path: Path) -> None:
    def load(env: dict[str, str]) -> Settings:
        return load_settings(None, env, cwd=tmp_path)

    assert load({"DUDAO_SERVICE_ADAPTERS": "onebot, tests.adapters.loopback"}
                ).service.adapters == ("onebot", "tests.adapters.loopback")
    with pytest.raises(ConfigError, match=r"ADAPTERS: expected adapter names"):
        load({"DUDAO_SERVICE_ADAPTERS": "onebot,my-platform"})
    with pytest.raises(ConfigError, match=r"ADAPTERS: names .onebot. twice"):
        load({"DUDAO_SERVICE_ADAPTERS": "onebot,onebot"})

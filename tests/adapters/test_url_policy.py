"""The address rules of attachment downloads, and the resolver that applies them."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from bot.adapters.download import GuardedResolver
from bot.adapters.url_policy import AllowEntry, Refused, UrlPolicy, is_public, parse_ip


@pytest.mark.parametrize("text", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.2",
    "::1", "::", "fe80::1", "fc00::1", "fd12::1", "ff02::1", "fec0::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "2002:7f00:1::1", "2002:a00:1::1",
])
def test_not_public(text: str) -> None:
    ip = parse_ip(text)
    assert ip is not None
    assert not is_public(ip), text


@pytest.mark.parametrize("text", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2002:808:808::1",
                                  "::ffff:8.8.8.8"])
def test_public(text: str) -> None:
    ip = parse_ip(text)
    assert ip is not None
    assert is_public(ip), text


def test_parse_ip() -> None:
    assert parse_ip("::ffff:127.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_ip("napcat") is None
    assert parse_ip(None) is None


def test_allow_entries() -> None:
    lo = ipaddress.ip_address("127.0.0.1")
    assert AllowEntry.parse("127.0.0.1:6099").matches("127.0.0.1", lo, 6099)
    assert not AllowEntry.parse("127.0.0.1:6099").matches("127.0.0.1", lo, 6100)
    assert AllowEntry.parse("127.0.0.0/8").matches("x", lo, 1)
    assert AllowEntry.parse("NapCat.local.").matches("napcat.local", lo, 80)
    assert AllowEntry.parse("napcat:3000").matches("NAPCAT", lo, 3000)
    v6 = ipaddress.ip_address("::1")
    assert AllowEntry.parse("[::1]:6099").matches("::1", v6, 6099)
    assert AllowEntry.parse("::1").matches("::1", v6, 1)
    assert not AllowEntry.parse("::1").matches("127.0.0.1", lo, 1)
    for bad in ("", "a b", "host:99999", "host:x", "[::1]:0", "http://x"):
        with pytest.raises(ValueError):
            AllowEntry.parse(bad)


def test_policy_order() -> None:
    lo = ipaddress.ip_address("127.0.0.1")
    policy = UrlPolicy.build(own_port=8080, public_url="https://dudao.example.gov.cn",
                             allow=("127.0.0.1",))
    with pytest.raises(Refused, match="own port"):  # even when allowed by name or as the impl
        policy.check_address("127.0.0.1", lo, 8080, lo)
    policy.check_address("127.0.0.1", lo, 3000, None)  # allow-listed
    with pytest.raises(Refused, match="own public address"):
        policy.check_origin("DUDAO.example.gov.cn", 443)
    policy.check_origin("dudao.example.gov.cn", 8443)
    plain = UrlPolicy.build(own_port=8080)
    plain.check_address("napcat", lo, 6099, lo)  # the implementation's address
    with pytest.raises(Refused, match="not a public address"):
        plain.check_address("napcat", lo, 6099, ipaddress.ip_address("127.0.0.2"))
    off = UrlPolicy.build(own_port=8080, trust_impl_host=False)
    with pytest.raises(Refused):
        off.check_address("napcat", lo, 6099, lo)
    public = ipaddress.ip_address("8.8.8.8")
    plain.check_address("cdn", public, 8080, None)  # not one of ours: binding to it fails


class Alternating(AbstractResolver):
    """A DNS server that answers differently each time (DNS rebinding)."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.calls = 0

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answer = self.answers[self.calls % len(self.answers)]
        self.calls += 1
        return [{"hostname": host, "host": answer, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


async def test_resolved_once_and_connected_to_the_checked_address() -> None:
    hits: list[str] = []

    async def page(request: web.Request) -> web.Response:
        hits.append(request.host)
        return web.Response(text="from the allowed host")

    app = web.Application()
    app.router.add_get("/", page)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        impl = ipaddress.ip_address("127.0.0.1")
        # First answer: the allowed address; a second lookup would give a refused one.
        dns = Alternating(["127.0.0.1", "127.0.0.2"])
        resolver = GuardedResolver(UrlPolicy(), impl, inner=dns)
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(f"http://files.example:{server.port}/") as resp:
                assert await resp.text() == "from the allowed host"
            assert dns.calls == 1
            with pytest.raises(Refused, match=r"127\.0\.0\.2"):
                await session.get(f"http://files.example:{server.port}/")
        assert hits == [f"files.example:{server.port}"]
    finally:
        await server.close()


async def test_mixed_answers_keep_only_allowed_addresses() -> None:
    dns = Alternating(["8.8.8.8"])
    resolver = GuardedResolver(UrlPolicy(), None, inner=dns)
    [only] = await resolver.resolve("cdn.example", 443)
    assert only["host"] == "8.8.8.8"
    dns.answers = ["10.0.0.7"]
    with pytest.raises(Refused, match=r"10\.0\.0\.7"):
        await resolver.resolve("cdn.example", 443)


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:6099", "napcat", "NapCat:3000",
                                   "napcat.local.", "172.17.0.0/16", "::1", "[::1]:6099",
                                   "fd00::/8", "", "a b", "host:99999", "host:x", "[::1]:0",
                                   "http://x", "10.0.0.0/33"])
def test_configuration_reads_allow_hosts_as_the_policy_does(entry: str, tmp_path: Path) -> None:
    from config.settings import ConfigError, load_settings

    try:
        AllowEntry.parse(entry)
        policy_ok = True
    except ValueError:
        policy_ok = False
    try:
        load_settings(None, {}, cwd=tmp_path,
                      overrides={"onebot": {"download_allow_hosts": [entry]}})
        config_ok = True
    except ConfigError:
        config_ok = False
    assert config_ok == policy_ok, entry

"""Which addresses an attachment may be downloaded from (server-side request forgery guard).

Attachment URLs come from the implementation's events and answers, and through them from what
people send: a URL pointing at ``127.0.0.1:<our port>``, at the database's host or at a cloud
metadata address would otherwise be fetched by us, stored and served at ``/files/N``. The rules,
checked for every address a host name resolves to and for every redirect hop:

1. never dudao itself: our own port on a non-public or local address, or ``public_url``'s origin;
2. allowed: an address or host in ``[onebot] download_allow_hosts`` (``host``, ``host:port``,
   an IP network such as ``172.17.0.0/16``; ``[v6]:port`` for IPv6 with a port);
3. allowed: the address the implementation itself connects from (its file server is often on
   the same host), unless ``download_trust_impl_host`` is off;
4. allowed: a public address; everything else (loopback, private, link-local, multicast,
   reserved, shared, unspecified) is refused.

The check is made on resolved addresses, and the connection goes to the address that was checked
(``GuardedResolver``): a name cannot resolve to something public for the check and to something
private for the connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HOST_RE = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


class Refused(Exception):
    """The URL or address may not be fetched; the message says why (no secrets in it)."""


def parse_ip(text: str | None) -> IPAddress | None:
    """An address, IPv4-mapped IPv6 turned into IPv4 (``::ffff:127.0.0.1`` is loopback)."""
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IPAddress) -> bool:
    """Globally routable unicast. ``is_global`` alone lets multicast through, and 6to4/Teredo
    addresses carry an IPv4 address that must pass too."""
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        for inner in (ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if inner is not None and not is_public(inner):
                return False
    return True


def is_local(ip: IPAddress) -> bool:
    """True when ``ip`` is an address of this machine (binding to it succeeds)."""
    family = socket.AF_INET6 if isinstance(ip, ipaddress.IPv6Address) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((str(ip), 0))
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AllowEntry:
    host: str = ""  # a host name (lower case), or "" when ``network`` is set
    network: IPNetwork | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowEntry:
        """``host``, ``host:port``, ``1.2.3.4``, ``10.0.0.0/8``, ``[::1]:6099``, ``fd00::/8``."""
        raw = text.strip().lower()
        port: int | None = None
        if raw.startswith("["):
            inner, _, rest = raw[1:].partition("]")
            raw = inner
            if rest:
                port = _port(rest.removeprefix(":"), text)
        elif raw.count(":") == 1:
            raw, _, p = raw.partition(":")
            port = _port(p, text)
        if not raw:
            raise ValueError(f"empty host in {text!r}")
        try:
            return cls(network=ipaddress.ip_network(raw, strict=False), port=port)
        except ValueError:
            pass
        if not _HOST_RE.fullmatch(raw):
            raise ValueError(f"not a host, address or network: {text!r}")
        return cls(host=raw.rstrip("."), port=port)

    def matches(self, host: str, ip: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return ip.version == self.network.version and ip in self.network
        return host.rstrip(".").lower() == self.host


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad port in {whole!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    own_ports: frozenset[int] = frozenset()
    own_origins: frozenset[tuple[str, int]] = frozenset()
    allow: tuple[AllowEntry, ...] = ()
    trust_impl_host: bool = True

    @classmethod
    def build(cls, *, own_port: int | None = None, public_url: str = "",
              allow: tuple[str, ...] = (), trust_impl_host: bool = True) -> UrlPolicy:
        origins = set()
        if public_url:
            parts = urlsplit(public_url)
            if parts.hostname:
                default = 443 if parts.scheme == "https" else 80
                origins.add((parts.hostname.lower(), parts.port or default))
        return cls(own_ports=frozenset({own_port} if own_port else ()),
                   own_origins=frozenset(origins),
                   allow=tuple(AllowEntry.parse(a) for a in allow),
                   trust_impl_host=trust_impl_host)

    def check_origin(self, host: str, port: int) -> None:
        """``Refused`` when ``host:port`` names dudao's own public address (``public_url``)."""
        if (host.rstrip(".").lower(), port) in self.own_origins:
            raise Refused(f"{host}:{port} is dudao's own public address")

    def check_address(self, host: str, ip: IPAddress, port: int, impl: IPAddress | None) -> None:
        """``Refused`` unless ``ip`` (one address ``host`` resolved to) may be connected to."""
        # A public address is ours only if we can bind it (checked only at our own port).
        if port in self.own_ports and (not is_public(ip) or is_local(ip)):
            raise Refused(f"{ip} port {port} is dudao's own port")
        if any(entry.matches(host, ip, port) for entry in self.allow):
            return
        if self.trust_impl_host and impl is not None and ip == impl:
            return
        if not is_public(ip):
            raise Refused(f"{host} is {ip}, not a public address")

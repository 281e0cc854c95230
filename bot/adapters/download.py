"""Fetching one attachment over HTTP: only from allowed addresses, bounded, streamed to disk.

- **Where** (:mod:`url_policy`): every hop of a redirect chain is checked; host names are resolved
  by :class:`GuardedResolver`, which hands aiohttp only the addresses that passed, so the
  connection goes to a checked address (no second lookup that could answer differently). IP
  literals never reach a resolver in aiohttp, so they are checked before the request.
- **How much at once**: at most ``concurrency`` downloads run together, and the bytes they may
  bring in are reserved from a :class:`ByteBudget` once the response's headers are in (its
  ``Content-Length``, or the per-file cap when it has none); a download that does not fit waits.
- **Where the bytes go**: into a ``BlobWriter`` chunk by chunk (a temporary file hashed while it
  is written), never into one buffer: 40 messages with a 48 MB file each are 40 files on disk,
  not 2 GB of memory.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.adapters.url_policy import IPAddress, Refused, UrlPolicy, parse_ip
from bot.core.blobs import NewBlob
from bot.core.event import StoredFile

log = logging.getLogger("dudao.onebot")

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
DOWNLOAD_CONCURRENCY = 8
INFLIGHT_BYTES = 128 * 1024 * 1024
# A download may take this long once its bytes are reserved; QQ's CDN sends 48 MB in seconds.
DOWNLOAD_DEADLINE_S = 120.0
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class TooLarge(Exception):
    pass


class ByteBudget:
    """A pool of bytes reserved by downloads in progress; FIFO, so a large download is not
    starved by a stream of small ones. A reservation larger than the pool is cut to the pool
    (such a download runs alone rather than never)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._waiters: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    @property
    def free(self) -> int:
        return self._free

    @contextlib.asynccontextmanager
    async def reserve(self, n: int) -> AsyncIterator[None]:
        n = max(0, min(n, self.total))
        await self._acquire(n)
        try:
            yield
        finally:
            self._release(n)

    async def _acquire(self, n: int) -> None:
        if not self._waiters and self._free >= n:
            self._free -= n
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (n, fut)
        self._waiters.append(entry)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release(n)  # granted just as we were cancelled: give it back
            else:
                self._waiters.remove(entry)
                self._wake()
            raise

    def _release(self, n: int) -> None:
        self._free += n
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._free:
            n, fut = self._waiters.popleft()
            if not fut.done():
                self._free -= n
                fut.set_result(None)


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp does, then keeps only the addresses the policy allows."""

    def __init__(self, policy: UrlPolicy, impl: IPAddress | None,
                 inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()
        self._policy = policy
        self._impl = impl

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refusal: Refused | None = None
        for result in found:
            ip = parse_ip(result["host"])
            try:
                if ip is None:
                    raise Refused(f"{host} resolved to something that is not an address")
                self._policy.check_address(host, ip, port, self._impl)
            except Refused as exc:
                refusal = exc
                continue
            allowed.append(result)
        if not allowed:
            raise refusal or Refused(f"{host} resolved to no address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class Downloader:
    """Downloads attachments under the policy and limits described in the module docstring."""

    def __init__(self, *, policy: UrlPolicy | None = None, max_bytes: int = MAX_DOWNLOAD_BYTES,
                 concurrency: int = DOWNLOAD_CONCURRENCY, inflight_bytes: int = INFLIGHT_BYTES,
                 deadline_s: float = DOWNLOAD_DEADLINE_S) -> None:
        self.policy = policy or UrlPolicy()
        self.max_bytes = max_bytes
        self.budget = ByteBudget(inflight_bytes)
        self._slots = asyncio.Semaphore(concurrency)
        self._deadline = deadline_s
        self.active = 0  # downloads holding a slot now (for tests and benchmarks)
        self.peak_active = 0

    async def download(self, url: str, new_blob: NewBlob, *,
                       impl: IPAddress | None = None) -> StoredFile | None:
        """Fetch ``url`` into a new blob; None (and a log line naming the host only: query
        strings carry access keys) when it is refused, too large or fails."""
        host = URL(url).host if url.startswith(("http://", "https://")) else "?"
        try:
            async with self._slot():
                return await self._download(url, new_blob, impl)
        except Refused as exc:
            log.warning("attachment URL refused: %s", exc)
        except TooLarge:
            log.warning("attachment from %s exceeds %d bytes; not downloaded", host,
                        self.max_bytes)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.warning("attachment download from %s failed: %s", host, type(exc).__name__)
        return None

    async def store(self, data: bytes, new_blob: NewBlob) -> StoredFile | None:
        """Keep bytes that came inline (a base64 ``get_file`` answer) under the same limits."""
        if len(data) > self.max_bytes:
            log.warning("inline attachment exceeds %d bytes; not kept", self.max_bytes)
            return None
        async with self._slot(), self.budget.reserve(len(data)):
            blob = new_blob()
            try:
                await blob.write(data)
                return await blob.commit()
            except BaseException:
                await blob.discard()
                raise

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self._slots:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
            try:
                yield
            finally:
                self.active -= 1

    async def _download(self, url: str, new_blob: NewBlob,
                        impl: IPAddress | None) -> StoredFile:
        resolver = GuardedResolver(self.policy, impl)
        # One session per download: its resolver knows this download's implementation, and no
        # pooled connection checked for one download is reused by another.
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False,
                                         force_close=True)
        timeout = aiohttp.ClientTimeout(sock_connect=15, sock_read=60)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             trust_env=False) as session:
                target = URL(url)
                for _ in range(MAX_REDIRECTS + 1):
                    self._check(target, impl)
                    async with session.get(target, allow_redirects=False,
                                           headers={"Accept-Encoding": "identity"}) as resp:
                        location = resp.headers.get("Location")
                        if resp.status in _REDIRECTS and location:
                            target = target.join(URL(location))
                            continue
                        resp.raise_for_status()
                        return await self._save(resp, new_blob)
                raise Refused(f"more than {MAX_REDIRECTS} redirects")
        finally:
            await resolver.close()

    def _check(self, url: URL, impl: IPAddress | None) -> None:
        host, port = url.raw_host, url.port
        if url.scheme not in ("http", "https") or not host or port is None:
            raise Refused("not an http(s) URL")
        self.policy.check_origin(host, port)
        literal = parse_ip(host)
        if literal is not None:  # aiohttp connects to a literal without asking any resolver
            self.policy.check_address(host, literal, port, impl)

    async def _save(self, resp: aiohttp.ClientResponse, new_blob: NewBlob) -> StoredFile:
        declared = resp.content_length
        if declared is not None and declared > self.max_bytes:
            raise TooLarge
        async with self.budget.reserve(self.max_bytes if declared is None else declared):
            blob = new_blob()
            try:
                size = 0
                async with asyncio.timeout(self._deadline):
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise TooLarge
                        await blob.write(chunk)
                return await blob.commit()
            except BaseException:
                await blob.discard()
                raise

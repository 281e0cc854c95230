"""Access tokens: a store shared by every process, and the refresh algorithm that uses it.

WeChat wants one central place that refreshes an app's access token
(https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html).
Every process goes through a :class:`~bot.core.ports.TokenStore`; the algorithm in
:class:`AccessTokenManager` is

1. load the cached token; if it is fresh (more than ``refresh_ahead_s`` left), use it;
2. otherwise take the store's refresh lock (a database row lock across processes), load again —
   another process may have refreshed meanwhile — and fetch a new token only if it is still stale;
3. save it, release the lock.

A token WeChat rejected (40001/40014/42001) is passed as ``stale``: if the store already holds a
different fresh token someone else fetched, that one is used; otherwise a new one is fetched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from bot.core.ports import CachedToken, TokenStore

log = logging.getLogger("dudao.wechat_mp")


class InMemoryTokenStore:
    """A :class:`TokenStore` for one process (tests, single-process deployments)."""

    def __init__(self) -> None:
        self._tokens: dict[str, CachedToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def load(self, app_id: str) -> CachedToken | None:
        return self._tokens.get(app_id)

    async def save(self, app_id: str, token: CachedToken) -> None:
        self._tokens[app_id] = token

    async def refresh_lock(self, app_id: str) -> AbstractAsyncContextManager[None]:
        lock = self._locks.get(app_id)
        if lock is None:
            lock = self._locks[app_id] = asyncio.Lock()
        return lock


Fetch = Callable[[bool], Awaitable[CachedToken]]
"""Fetches a new token from WeChat; the argument is ``force_refresh``."""


class AccessTokenManager:
    """Hands out the app's access token, refreshing it through ``store`` as described above."""

    def __init__(self, store: TokenStore, app_id: str, fetch: Fetch, *,
                 now: Callable[[], float] = time.time, refresh_ahead_s: float = 300.0) -> None:
        self._store = store
        self._app_id = app_id
        self._fetch = fetch
        self._now = now
        self._margin = refresh_ahead_s

    def _usable(self, cached: CachedToken | None, stale: str | None) -> bool:
        return (cached is not None and cached.fresh(self._now(), self._margin)
                and cached.token != stale)

    async def get(self, *, stale: str | None = None) -> str:
        """A fresh token; ``stale`` is a token WeChat just rejected (never handed out again)."""
        cached = await self._store.load(self._app_id)
        if cached is not None and self._usable(cached, stale):
            return cached.token
        async with await self._store.refresh_lock(self._app_id):
            cached = await self._store.load(self._app_id)
            if cached is not None and self._usable(cached, stale):
                return cached.token  # another process or task refreshed it meanwhile
            new = await self._fetch(False)
            if stale is not None and new.token == stale:
                # stable_token in normal mode hands back the same token until it rotates; the
                # one WeChat rejected needs a forced refresh (limited to 20 a day, see the page above).
                log.warning("access token for %s rejected by WeChat; forcing a refresh",
                            self._app_id)
                new = await self._fetch(True)
            await self._store.save(self._app_id, new)
            log.info("access token for %s refreshed, valid for %.0f s", self._app_id,
                     new.expires_at - self._now())
            return new.token

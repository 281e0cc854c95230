"""Correlates action responses with callers by ``echo`` — one store per socket.

Responses can come back out of order (NapCat and go-cqhttp handle frames concurrently), so each
call gets a unique string echo and a Future. The Future is removed in ``finally`` whatever
happens, and when the socket dies ``fail_all`` wakes every waiter at once instead of letting them
sit out their timeouts.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.onebot.errors import ActionTimeout, ConnectionLost, NotConnected

log = logging.getLogger("dudao.onebot")

DEFAULT_TIMEOUT = 30.0

Response = dict[str, Any]


class ResultStore:
    def __init__(self) -> None:
        # A random prefix keeps echoes of different sockets apart in logs and makes a response
        # meant for an earlier connection impossible to mistake for one of ours.
        self._prefix = secrets.token_hex(3) + ":"
        self._counter = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Response]] = {}
        self._dead: BaseException | None = None
        self.stray = 0

    def __len__(self) -> int:
        return len(self._pending)

    async def call(self, send: Callable[[str], Awaitable[None]],
                   timeout: float = DEFAULT_TIMEOUT) -> Response:  # noqa: ASYNC109
        """Send a request via ``send(echo)`` and wait for the response frame carrying that echo."""
        if self._dead is not None:
            raise NotConnected(str(self._dead))
        echo = f"{self._prefix}{next(self._counter)}"
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[echo] = fut
        written = False
        try:
            await send(echo)
            written = True
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            raise ActionTimeout(f"no response within {timeout:g} s") from None
        except NotConnected as exc:
            if written and not isinstance(exc, ConnectionLost):
                # The request left us: unlike a socket that was already gone, its effect is
                # unknown, and the caller must not simply repeat it.
                raise ConnectionLost(f"{exc} after the request was sent") from exc
            raise
        finally:
            self._pending.pop(echo, None)
            # Mark an exception set by fail_all() as seen, in case we left for another reason.
            if fut.done() and not fut.cancelled():
                fut.exception()
            else:
                fut.cancel()

    def resolve(self, frame: Response) -> bool:
        """Hand a response to its waiter; False (and a log line) for an unknown or late echo."""
        echo = frame.get("echo")
        fut = self._pending.get(echo) if isinstance(echo, str) else None
        if fut is None or fut.done():
            self.stray += 1
            log.warning("dropping a response nobody waits for (echo=%.40r, status=%.20r)",
                        echo, frame.get("status"))
            return False
        fut.set_result(frame)
        return True

    def fail_all(self, exc: BaseException) -> None:
        """Fail every pending call with ``exc`` and refuse new ones: the socket is gone."""
        if self._dead is None:
            self._dead = exc
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()

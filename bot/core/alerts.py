"""Alerts to the admin group, at most one message per window.

Alerts come in storms: a socket dying with 64 sends in flight, a quota running out half-way
through a broadcast, a platform failing every request for a minute. Admins need to know at once,
but one message per failed send would bury the admin group (and spend the sending account's
rate on our own noise). The first alert goes out immediately; the ones that follow within the
window are held and sent together as one summary when the window ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class AlertCoalescer:
    def __init__(self, emit: Callable[[str], None], *, window_s: float = 60.0,
                 max_lines: int = 10, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._emit = emit
        self._window_s = window_s
        self._max_lines = max_lines
        self._monotonic = monotonic
        self._quiet_until = 0.0
        self._held: list[str] = []
        self._flush_handle: asyncio.TimerHandle | None = None

    def __call__(self, text: str) -> None:
        now = self._monotonic()
        if not self._held and now >= self._quiet_until:
            self._quiet_until = now + self._window_s
            self._emit(text)
            return
        self._held.append(text)
        if self._flush_handle is None:
            delay = max(0.0, self._quiet_until - now)
            self._flush_handle = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        """Send what is held as one summary (also called at shutdown)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._held:
            return
        held, self._held = self._held, []
        self._quiet_until = self._monotonic() + self._window_s
        if len(held) == 1:
            self._emit(held[0])
            return
        shown = held[: self._max_lines]
        more = len(held) - len(shown)
        lines = [f"另有 {len(held)} 条系统提醒（{self._window_s:.0f} 秒内合并发送）："]
        lines += [f"· {t}" for t in shown]
        if more:
            lines.append(f"……其余 {more} 条见日志")
        self._emit("\n".join(lines))

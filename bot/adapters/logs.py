"""A log line that cannot flood: refusals and bad frames come in bursts exactly when under attack
or when an implementation misbehaves, thousands a second."""

from __future__ import annotations

import time


class RateLimitedLog:
    """Lets one warning through per interval and counts the rest (``suppressed``), which the
    next line that gets through reports."""

    __slots__ = ("_interval", "_next", "suppressed")

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._next = 0.0
        self.suppressed = 0

    def allow(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            self.suppressed += 1
            return False
        self._next = now + self._interval
        return True

"""Failed logins per address over the last minute (in this process; enough to stop guessing)."""

from __future__ import annotations

from collections import deque

WINDOW_S = 60.0
MAX_ADDRESSES = 10_000  # bounded memory even under a flood of spoofed addresses


class LoginLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        q = self._failures.get(address)
        if q is None:
            return deque()
        while q and q[0] <= now - WINDOW_S:
            q.popleft()
        if not q:
            del self._failures[address]
        return q

    def blocked(self, address: str, now: float) -> bool:
        return len(self._recent(address, now)) >= self.per_minute

    def retry_after(self, address: str, now: float) -> int:
        q = self._recent(address, now)
        return max(1, int(q[0] + WINDOW_S - now) + 1) if q else 1

    def failed(self, address: str, now: float) -> None:
        if address not in self._failures and len(self._failures) >= MAX_ADDRESSES:
            for key in list(self._failures)[: MAX_ADDRESSES // 10]:
                del self._failures[key]
        self._failures.setdefault(address, deque()).append(now)

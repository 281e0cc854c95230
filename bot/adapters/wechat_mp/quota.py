"""Quotas WeChat enforces, tracked on our side so that we never send what WeChat would refuse.

Two kinds (wechat.md §3.2, §3.4, §5):

- per-day API quotas (customer service 500,000, mass send 100, template 100,000 by default). WeChat
  counts per natural day; we reset at midnight Beijing time (UTC+8).
- the customer-service window: after a user's message, 5 customer-service messages within 48 h;
  after a subscribe, menu click or QR scan, 3 within 1 minute. A new user message opens a new
  window (the count starts again).

:class:`InMemoryQuotaTracker` keeps it in memory. ``export_state``/``import_state`` turn it into
JSON-able data, so that the lead can persist it (or write a database-backed tracker with the same
methods, see :class:`QuotaTracker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

BEIJING_OFFSET_S = 8 * 3600
DAY_S = 86_400

DEFAULT_DAILY_LIMITS: Mapping[str, int] = {
    # wechat.md §5 "OA default daily quotas (API_Call_Limits)".
    "custom": 500_000,
    "mass": 100,
    # wechat.md §3.3: template messages, default cap of 100,000 calls a day.
    "template": 100_000,
}

CUSTOM_AFTER_MESSAGE = (5, 48 * 3600.0)
"""(messages, seconds) allowed after a user message (wechat.md §3.2)."""
CUSTOM_AFTER_EVENT = (3, 60.0)
"""(messages, seconds) allowed after a subscribe, menu click or QR scan (wechat.md §3.2)."""


def beijing_day(now: float) -> int:
    """The number of the natural day in Beijing time that contains ``now`` (epoch seconds)."""
    return int((now + BEIJING_OFFSET_S) // DAY_S)


class QuotaTracker(Protocol):
    def record_user_message(self, openid: str, now: float) -> None: ...
    def record_user_event(self, openid: str, now: float) -> None: ...
    def can_send_custom(self, openid: str, now: float) -> bool: ...
    def custom_refusal(self, openid: str, now: float) -> int | None: ...
    def record_custom_sent(self, openid: str, now: float) -> None: ...
    def close_custom_window(self, openid: str) -> None: ...
    def can_call(self, api: str, now: float, n: int = 1) -> bool: ...
    def record_call(self, api: str, now: float, n: int = 1) -> None: ...
    def mark_exhausted(self, api: str, now: float) -> None: ...


@dataclass(slots=True)
class _Window:
    opened_at: float
    allowed: int
    length_s: float
    sent: int = 0

    def open(self, now: float) -> bool:
        return now - self.opened_at < self.length_s and self.sent < self.allowed


class InMemoryQuotaTracker:
    """Per-day API counts and per-openid customer-service windows, in memory (one process)."""

    def __init__(self, daily_limits: Mapping[str, int] = DEFAULT_DAILY_LIMITS) -> None:
        self._limits = dict(daily_limits)
        self._day: dict[str, int] = {}  # api -> Beijing day number of the counts
        self._used: dict[str, int] = {}
        self._exhausted: dict[str, int] = {}  # api -> Beijing day WeChat answered 45009
        # openid -> windows; index 0 after a message, 1 after an event
        self._windows: dict[str, list[_Window | None]] = {}

    # --- customer-service window -----------------------------------------------------------

    def record_user_message(self, openid: str, now: float) -> None:
        allowed, length = CUSTOM_AFTER_MESSAGE
        self._windows.setdefault(openid, [None, None])[0] = _Window(now, allowed, length)

    def record_user_event(self, openid: str, now: float) -> None:
        """A subscribe, menu click or QR scan: 3 messages within a minute."""
        allowed, length = CUSTOM_AFTER_EVENT
        self._windows.setdefault(openid, [None, None])[1] = _Window(now, allowed, length)

    def custom_remaining(self, openid: str, now: float) -> int:
        return sum(w.allowed - w.sent for w in self._windows.get(openid, [])
                   if w is not None and w.open(now))

    def can_send_custom(self, openid: str, now: float) -> bool:
        return self.custom_remaining(openid, now) > 0 and self.can_call("custom", now)

    def custom_refusal(self, openid: str, now: float) -> int | None:
        """The errcode WeChat would answer a customer-service message with, or None if allowed:
        45009 (daily quota), 45047 (the window's messages used up), 45015 (no open window)."""
        if not self.can_call("custom", now):
            return 45009
        if self.custom_remaining(openid, now) > 0:
            return None
        windows = [w for w in self._windows.get(openid, []) if w is not None]
        if any(now - w.opened_at < w.length_s for w in windows):
            return 45047
        return 45015

    def record_custom_sent(self, openid: str, now: float) -> None:
        windows = [w for w in self._windows.get(openid, []) if w is not None and w.open(now)]
        if windows:
            # spend from the window that closes first
            min(windows, key=lambda w: w.opened_at + w.length_s).sent += 1
        self.record_call("custom", now)

    def close_custom_window(self, openid: str) -> None:
        """WeChat said the window is closed or used up (45015/45047)."""
        self._windows.pop(openid, None)

    # --- per-day API quotas ------------------------------------------------------------------

    def _roll(self, api: str, now: float) -> None:
        day = beijing_day(now)
        if self._day.get(api) != day:
            self._day[api] = day
            self._used[api] = 0

    def remaining(self, api: str, now: float) -> int | None:
        """Calls left today, or None when ``api`` has no tracked limit (and is not exhausted)."""
        self._roll(api, now)
        if self._exhausted.get(api) == beijing_day(now):
            return 0
        limit = self._limits.get(api)
        if limit is None:
            return None
        return max(0, limit - self._used.get(api, 0))

    def can_call(self, api: str, now: float, n: int = 1) -> bool:
        left = self.remaining(api, now)
        return left is None or left >= n

    def record_call(self, api: str, now: float, n: int = 1) -> None:
        self._roll(api, now)
        self._used[api] = self._used.get(api, 0) + n

    def mark_exhausted(self, api: str, now: float) -> None:
        """WeChat answered 45009 for ``api``: nothing more today, whatever our count says."""
        self._exhausted[api] = beijing_day(now)

    # --- persistence ----------------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        return {
            "limits": dict(self._limits),
            "day": dict(self._day),
            "used": dict(self._used),
            "exhausted": dict(self._exhausted),
            "windows": {
                openid: [None if w is None else [w.opened_at, w.allowed, w.length_s, w.sent]
                         for w in ws]
                for openid, ws in self._windows.items()
            },
        }

    def import_state(self, state: Mapping[str, Any]) -> None:
        self._limits = {str(k): int(v) for k, v in state.get("limits", {}).items()}
        self._day = {str(k): int(v) for k, v in state.get("day", {}).items()}
        self._used = {str(k): int(v) for k, v in state.get("used", {}).items()}
        self._exhausted = {str(k): int(v) for k, v in state.get("exhausted", {}).items()}
        self._windows = {
            str(openid): [None if w is None else _Window(float(w[0]), int(w[1]), float(w[2]),
                                                         int(w[3]))
                          for w in ws]
            for openid, ws in state.get("windows", {}).items()
        }

"""Quotas WeChat enforces, tracked on our side so that we never send what WeChat would refuse.

Two kinds (https://developers.weixin.qq.com/doc/service/Message_Management/API_Call_Limits.html,
https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html):

- API quotas per period: per Beijing day (customer service 500,000, template 100,000, mass send
  100 by default) and per month (mass send: each follower receives at most 4 mass messages a
  month on a service account; we send by tag, so every send counts for every follower and the
  account-wide count is the safe one). A call is *reserved* before it is made, through a
  :class:`~bot.core.ports.QuotaCounter`: ``bot.services.api_quota.DbQuotaCounter`` in the
  service (shared by every process, survives restarts), :class:`InMemoryQuotaCounter` for one
  process.
- the customer-service window: after a user's message, 5 customer-service messages within 48 h;
  after a subscribe, menu click or QR scan, 3 within 1 minute. A new user message opens a new
  window (the count starts again). Windows are kept in memory by the process whose callback saw
  the message (WeChat's own 45015/45047 answer stays authoritative).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.ports import QuotaCounter

BEIJING_OFFSET_S = 8 * 3600
DAY_S = 86_400

DEFAULT_DAILY_LIMITS: Mapping[str, int] = {
    # The official account's default daily quotas (API_Call_Limits, above).
    "custom": 500_000,
    "mass": 100,
    # Template messages: a default cap of 100,000 calls a day.
    "template": 100_000,
}
DEFAULT_MONTHLY_LIMITS: Mapping[str, int] = {
    # A service account's followers receive at most 4 mass messages a month.
    "mass": 4,
}

CUSTOM_AFTER_MESSAGE = (5, 48 * 3600.0)
"""(messages, seconds) allowed after a user message (customer-service rules, above)."""
CUSTOM_AFTER_EVENT = (3, 60.0)
"""(messages, seconds) allowed after a subscribe, menu click or QR scan."""


def beijing_day(now: float) -> int:
    """The number of the natural day in Beijing time that contains ``now`` (epoch seconds)."""
    return int((now + BEIJING_OFFSET_S) // DAY_S)


def _beijing(now: float) -> datetime:
    return datetime.fromtimestamp(now + BEIJING_OFFSET_S, UTC)


def day_period(now: float) -> str:
    """``d20250611``: the Beijing day containing ``now``."""
    return f"d{_beijing(now):%Y%m%d}"


def month_period(now: float) -> str:
    """``m202506``: the Beijing month containing ``now``."""
    return f"m{_beijing(now):%Y%m}"


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """Calls allowed per Beijing day and per month, by API name (``custom``, ``template``,
    ``mass``). An API in neither mapping is not limited by us."""

    per_day: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DAILY_LIMITS))
    per_month: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MONTHLY_LIMITS))

    def periods(self, api: str, now: float) -> list[tuple[str, int]]:
        """``(period, limit)`` of every period that limits ``api`` at ``now``."""
        out: list[tuple[str, int]] = []
        if api in self.per_day:
            out.append((day_period(now), self.per_day[api]))
        if api in self.per_month:
            out.append((month_period(now), self.per_month[api]))
        return out


class InMemoryQuotaCounter:
    """A :class:`QuotaCounter` for one process (tests, deployments without a shared DB)."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, str], int] = {}
        self._exhausted: set[tuple[str, str]] = set()

    async def reserve(self, api: str, periods: Sequence[tuple[str, int]], n: int = 1) -> bool:
        for period, limit in periods:
            key = (api, period)
            if key in self._exhausted or self._used.get(key, 0) + n > limit:
                return False
        for period, _ in periods:
            self._used[(api, period)] = self._used.get((api, period), 0) + n
        return True

    async def mark_exhausted(self, api: str, period: str) -> None:
        self._exhausted.add((api, period))

    def used(self, api: str, period: str) -> int:
        return self._used.get((api, period), 0)


@dataclass(slots=True)
class _Window:
    opened_at: float
    allowed: int
    length_s: float
    sent: int = 0

    def open(self, now: float) -> bool:
        return now - self.opened_at < self.length_s and self.sent < self.allowed


class QuotaTracker:
    """Per-period API quotas (through ``counter``) and per-openid customer-service windows."""

    def __init__(self, counter: QuotaCounter | None = None,
                 limits: QuotaLimits | None = None) -> None:
        self.counter: QuotaCounter = counter if counter is not None else InMemoryQuotaCounter()
        self.limits = limits if limits is not None else QuotaLimits()
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
        """An open customer-service window with messages left (the daily quota aside)."""
        return self.custom_remaining(openid, now) > 0

    def custom_refusal(self, openid: str, now: float) -> int | None:
        """The errcode WeChat would answer a customer-service message with because of the
        window, or None if allowed: 45047 (the window's messages used up), 45015 (no open
        window). The daily quota is reserved separately (:meth:`reserve`)."""
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

    def close_custom_window(self, openid: str) -> None:
        """WeChat said the window is closed or used up (45015/45047), or the user left."""
        self._windows.pop(openid, None)

    # --- API quotas per period ---------------------------------------------------------------

    async def reserve(self, api: str, now: float, n: int = 1) -> bool:
        """Reserve ``n`` calls of ``api`` before making them; False if a quota would be
        exceeded (then nothing is counted and the call must not be made)."""
        periods = self.limits.periods(api, now)
        if not periods:
            return True
        return await self.counter.reserve(api, periods, n)

    async def mark_exhausted(self, api: str, now: float) -> None:
        """WeChat answered 45009 ("daily quota reached") for ``api``: nothing more today,
        whatever our count says."""
        if api in self.limits.per_day:
            await self.counter.mark_exhausted(api, day_period(now))


class InMemoryQuotaTracker(QuotaTracker):
    """A :class:`QuotaTracker` counting in memory (one process)."""

    def __init__(self, daily_limits: Mapping[str, int] = DEFAULT_DAILY_LIMITS,
                 monthly_limits: Mapping[str, int] = DEFAULT_MONTHLY_LIMITS) -> None:
        super().__init__(InMemoryQuotaCounter(),
                         QuotaLimits(dict(daily_limits), dict(monthly_limits)))

"""What adapters may ask of the database, as small protocols.

Adapters import no services and no storage (docs/architecture.md): the host hands them an
:class:`AdapterStore` whose pieces the services implement (``bot/services/app_tokens.py``,
``bot/services/api_quota.py``, ``bot/services/groups.py``). Shared by every process of the
service, so that several processes never refresh one access token against each other, and a
quota is counted once however many processes send.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedToken:
    """An access token and the moment (epoch seconds) it expires. ``repr`` hides the token."""

    token: str = field(repr=False)
    expires_at: float

    def fresh(self, now: float, margin: float) -> bool:
        return self.expires_at - now > margin


class TokenStore(Protocol):
    """Where a platform app's access tokens live, shared by every process of the service."""

    async def load(self, app_id: str) -> CachedToken | None: ...

    async def save(self, app_id: str, token: CachedToken) -> None: ...

    async def refresh_lock(self, app_id: str) -> AbstractAsyncContextManager[None]:
        """A lock held while refreshing a token: ``async with await store.refresh_lock(a)``.

        A database-backed store returns a context manager holding a lease, so that several
        processes never refresh against each other.
        """
        ...


class QuotaCounter(Protocol):
    """Where a platform app's API calls are counted, per API and period."""

    async def reserve(self, api: str, periods: Sequence[tuple[str, int]], n: int = 1) -> bool:
        """Count ``n`` calls in every ``(period, limit)`` if all stay within their limits (and
        none is exhausted); otherwise count nothing and return False. Atomic."""
        ...

    async def mark_exhausted(self, api: str, period: str) -> None:
        """The platform refused ``api`` for ``period`` (quota reached): nothing more in it."""
        ...


class AdapterStore(Protocol):
    """The database-backed pieces an adapter may need, handed over by the host."""

    def token_store(self) -> TokenStore: ...

    def quota_counter(self, app_id: str) -> QuotaCounter: ...

    async def webhook_key(self, chat: str) -> str | None:
        """The robot webhook key of the active group with this chat key, if it has one."""
        ...

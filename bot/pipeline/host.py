"""What the service gives its adapters: the one way in, the file store, alerts and the ports.

Every platform's events enter through :meth:`ServiceHost.submit` (or :meth:`ServiceHost.feed`,
which waits for the commit): a message with attachments is first handed back to the adapter
that received it (``resolve_attachments``: the files are downloaded while their handles are
still valid), then to the dispatcher. The database-backed ports an adapter may need (access
tokens, API quotas, robot webhook keys) are the services', wrapped as :class:`ServiceStore`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from typing import Any

from bot.core.adapter import Adapter, Envelope
from bot.core.alerts import AlertCoalescer
from bot.core.blobs import BlobStore
from bot.core.database import Database
from bot.core.event import Event, MessageEvent
from bot.core.ports import QuotaCounter, TokenStore
from bot.domain.clock import Clock
from bot.pipeline.dispatcher import Dispatcher
from bot.services import alerts as alerts_svc
from bot.services import groups as groups_svc
from bot.services.api_quota import DbQuotaCounter
from bot.services.app_tokens import DbTokenStore

log = logging.getLogger("dudao.app")


class ServiceStore:
    """The :class:`~bot.core.ports.AdapterStore` of the running service."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._tokens: DbTokenStore | None = None

    def token_store(self) -> TokenStore:
        if self._tokens is None:  # one per process: its lease owner id names this process
            self._tokens = DbTokenStore(self._db)
        return self._tokens

    def quota_counter(self, app_id: str) -> QuotaCounter:
        return DbQuotaCounter(self._db, app_id)

    async def webhook_key(self, chat: str) -> str | None:
        return await self._db.run(lambda conn: groups_svc.webhook_key(conn, chat))


class ServiceHost:
    """The :class:`~bot.core.adapter.Host` of the running service (one for all adapters)."""

    def __init__(self, *, db: Database, dispatcher: Dispatcher, files: BlobStore, clock: Clock,
                 board_url: str) -> None:
        self._db = db
        self._dispatcher = dispatcher
        self._files = files
        self._clock = clock
        self._board_url = board_url
        self._store = ServiceStore(db)
        self._by_platform: dict[str, Adapter] = {}
        self.background: set[asyncio.Task[Any]] = set()
        # Set by the composition root once the dispatcher handles messages (at start it may
        # wait for the language model, ``[nlu] startup_wait_s``).
        self.handling = asyncio.Event()
        self.alerts = AlertCoalescer(lambda text: self.spawn(self._alert_admins(text)))

    def serve(self, adapters: Iterable[Adapter]) -> None:
        """The adapters whose events come in here, by the platforms they speak for."""
        for adapter in adapters:
            for platform in adapter.platforms:
                self._by_platform[platform] = adapter

    # --- the Host protocol --------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def files(self) -> BlobStore:
        return self._files

    @property
    def board_url(self) -> str:
        return self._board_url

    @property
    def store(self) -> ServiceStore:
        return self._store

    def submit(self, event: Event) -> None:
        if isinstance(event, MessageEvent) and event.attachments:
            self.spawn(self._submit_resolved(event))
        else:
            self._dispatcher.submit(event)

    async def feed(self, event: Event) -> list[Envelope]:
        if isinstance(event, MessageEvent) and event.attachments:
            event = await self._resolve(event)
        return await self._dispatcher.feed(event)

    def alert(self, text: str) -> None:
        self.alerts(text)

    async def until_handling(self) -> None:
        await self.handling.wait()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # --- the rest -----------------------------------------------------------------------------

    async def _submit_resolved(self, event: MessageEvent) -> None:
        self._dispatcher.submit(await self._resolve(event))

    async def _resolve(self, event: MessageEvent) -> MessageEvent:
        """Attachments fetched by the adapter that received them (their handles expire)."""
        adapter = self._by_platform.get(event.platform)
        try:
            if adapter is not None:
                return await adapter.resolve_attachments(event)
        except Exception:
            log.exception("attachments of %s not resolved", event.dedupe_key)
        # Nothing is lost: the handler tells the sender which files to send again.
        names = tuple(a.name or "file" for a in event.attachments)
        return replace(event, missing_files=names)

    async def _alert_admins(self, text: str) -> None:
        now = self._clock.now()
        try:
            await self._db.run(lambda conn: alerts_svc.tell_admins(conn, text, now=now))
        except Exception as exc:
            log.error("could not queue an admin alert: %s", exc)

    async def stop(self) -> None:
        """Cancel what still runs in the background (after the dispatcher and outbox stopped)."""
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)

"""create_app(settings): builds every service, wires them, and owns the start/stop order.

The adapters come from the registry (``bot/adapters/registry.py``: ``[service] adapters``, or the
``adapters`` given here); nothing in this module knows a platform. Start: database (schema
upgrade, bundled roster, configured admins) → language model (jieba, in a thread) → adapters
→ outbox delivery → scheduler; the dispatcher handles messages once the language model is
ready (events received meanwhile wait in its queue, at most ``[nlu] startup_wait_s``, so a
question asked in the first seconds is understood). Stop, in reverse: adapters stop taking events, the dispatcher finishes what it queued (nothing
received is dropped), delivery drains replies briefly (the rest stays in the outbox table for
the next start), adapters release what sending needed, the scheduler waits for a running sweep,
the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Connection, select

from bot.adapters.console.adapter import factory as console_factory
from bot.adapters.registry import AdapterConfigError, AdapterSpec, create_adapters
from bot.core.adapter import Adapter, Envelope, Sender
from bot.core.alerts import AlertCoalescer
from bot.core.env import ServiceEnv
from bot.core.event import ChatRef, UserRef
from bot.core.message import OutgoingMessage
from bot.core.router import RouteTable
from bot.domain.clock import Clock, SystemClock
from bot.domain.gongwen import Document
from bot.domain.workdays import WorkCalendar
from bot.pipeline.delivery import OutboxDelivery
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.host import ServiceHost
from bot.services import people as people_svc
from bot.services import units as units_svc
from bot.services.files import FileStore
from bot.web import health, links
from bot.web.board import setup_board
from config.settings import ConfigError, Settings, WechatMpSettings
from storage import locks, service_lock
from storage.blobs import files_root
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Identity

log = logging.getLogger("dudao.app")

LOCK_CHECK_S = 30.0


@dataclass
class Services:
    settings: Settings
    db: Database
    env: ServiceEnv
    files: FileStore
    dispatcher: Dispatcher
    delivery: OutboxDelivery
    host: ServiceHost
    adapters: list[Adapter]
    table: RouteTable
    scheduler: Any = None
    # Set when the language model has loaded (or failed to, or is switched off): at start the
    # dispatcher waits for it, a few seconds at most (``[nlu] startup_wait_s``), so that a
    # question asked meanwhile is understood instead of answered "没太明白".
    parser_loaded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def alerts(self) -> AlertCoalescer:
        return self.host.alerts

    @property
    def handling(self) -> asyncio.Event:
        """Set once messages are being handled (the console waits for it before its prompt)."""
        return self.host.handling

    def adapter(self, name: str) -> Adapter:
        """The running adapter called ``name`` (``onebot``, ``wechat_mp``…)."""
        for a in self.adapters:
            if a.name == name:
                return a
        raise KeyError(f"no adapter {name!r} is running")


SERVICES = web.AppKey("services", Services)


def make_env(settings: Settings, clock: Clock | None = None) -> ServiceEnv:
    tz = settings.service.tz
    cal = WorkCalendar(tz, settings.schedule.work_start, settings.schedule.work_end)
    return ServiceEnv(settings=settings, clock=clock or SystemClock(), calendar=cal, tz=tz,
                      board_url=settings.http.base_url.rstrip("/"),
                      link_signer=links.BoardLinkSigner(settings), render_document=render_docx)


def render_docx(doc: Document, *, created: datetime | None = None) -> bytes:
    """The services' document renderer: the GB/T 9704 .docx builder, imported when a document
    is first made (python-docx is not needed to start the service)."""
    from bot.reports.render import render

    return render(doc, created=created)


def prepare_database(db: Database, settings: Settings, env: ServiceEnv) -> list[str]:
    """Schema, bundled roster on first start, configured admins. Returns what was done."""
    done = []
    if upgrade(db):
        done.append("schema upgraded")

    def seed(conn: Connection) -> None:
        now = env.clock.now()
        # Processes started together on a fresh database would each load the roster (all but
        # one then crash on the unique unit code): one seeds, the others then find it.
        locks.hold(conn, locks.LockKey.FIRST_START_SEED)
        if settings.service.roster and units_svc.count(conn) == 0:
            rows = [units_svc.RosterRow(r.code, r.name, r.short_name, r.kind, r.aliases, r.parent)
                    for r in _first_roster(settings.service.roster)]
            added, _ = units_svc.import_rows(conn, rows, now=now)
            done.append(f"roster {settings.service.roster}: {added} units loaded")
        for ident in settings.admins:
            key = people_svc.parse_identity(ident, people_svc.known_platforms(settings))
            if conn.execute(select(Identity.id).where(Identity.identity == key)).first() is None:
                people_svc.add(conn, identity=key, unit=None, role="admin", name="", now=now)
                done.append(f"admin {key} registered from configuration")

    db.transaction(seed)
    return done


def _first_roster(spec: str) -> list[Any]:
    """``[service] roster``: a bundled roster's name or a file (TOML, CSV, xlsx; a relative path
    is relative to the working directory, like ``data_dir``). A file that cannot be used is a
    configuration error (exit 2 with its problems, nothing loaded)."""
    from config.roster import RosterError, load_roster

    try:
        return load_roster(spec)
    except RosterError as exc:
        raise ConfigError(f"[service] roster {spec!r}: {exc}") from exc


def build_services(settings: Settings, *, clock: Clock | None = None,
                   adapters: Sequence[AdapterSpec] | None = None) -> Services:
    """Everything the service runs, wired; ``adapters`` overrides ``[service] adapters``."""
    from handlers import build_router

    env = make_env(settings, clock)
    db = Database(settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms,
                  pool_size=settings.database.pool_size)
    files = FileStore(files_root(settings.service.data_dir))
    table = RouteTable(build_router())
    senders: dict[str, Sender] = {}

    async def send_direct(msg: OutgoingMessage, account: str | None) -> None:
        sender = senders.get(msg.chat.platform)
        if sender is not None:
            await sender.send(Envelope(None, msg, account, "reply", ""))

    dispatcher = Dispatcher(db=db, env=env, table=table,
                            deliver=lambda items: delivery.push(items), send_direct=send_direct,
                            batch_max=settings.database.batch_max)
    host = ServiceHost(db=db, dispatcher=dispatcher, files=files, clock=env.clock,
                       board_url=env.board_url)
    running = _adapters(settings, host, adapters)
    host.serve(running)
    senders.update(_by_platform(running))
    delivery = OutboxDelivery(db=db, clock=env.clock, senders=senders, settings=settings.outbox,
                              alert=host.alerts)
    return Services(settings, db, env, files, dispatcher, delivery, host, running, table)


def _adapters(settings: Settings, host: ServiceHost, given: Sequence[AdapterSpec] | None
              ) -> list[Adapter]:
    """The adapters given to ``create_app``, else those of ``[service] adapters``."""
    if given is not None:
        return create_adapters(given, settings, host)
    try:
        return create_adapters(settings.service.adapters, settings, host)
    except AdapterConfigError as exc:  # a configuration mistake: exit 2 with the reason
        raise ConfigError(f"[service] adapters: {exc}") from exc


def _by_platform(adapters: Sequence[Adapter]) -> Mapping[str, Sender]:
    return {platform: a for a in adapters for platform in a.platforms}


async def _load_parser(services: Services) -> None:
    if not services.settings.nlu.enabled:
        services.parser_loaded.set()
        return
    from bot.pipeline.language import build_parser, freeze_long_lived, keep_fresh

    try:
        services.env.parser = await build_parser(services.db, services.env)
        log.info("language model loaded")
        freeze_long_lived()
    except Exception:
        log.exception("language model failed to load; canonical commands still work")
        return
    finally:
        services.parser_loaded.set()
    # New units and tasks (also from other processes) reach the parser within refresh_s.
    await keep_fresh(services.db, services.env, services.settings.nlu.refresh_s)


async def _handle_when_understood(services: Services) -> None:
    """Start handling messages once the language model is ready (or has failed, or after
    ``[nlu] startup_wait_s``). Events received meanwhile wait in the dispatcher's queue: a
    question asked in the first seconds is understood, a submission is acknowledged a moment
    later than it would have been, nothing is lost."""
    wait = services.settings.nlu.startup_wait_s if services.settings.nlu.enabled else 0.0
    if wait > 0:
        try:
            await asyncio.wait_for(services.parser_loaded.wait(), wait)
        except TimeoutError:
            log.warning("language model not ready after %.0f s; handling messages without it",
                        wait)
    services.dispatcher.start()
    services.host.handling.set()


def create_app(settings: Settings, *, clock: Clock | None = None,
               services: Services | None = None,
               adapters: Sequence[AdapterSpec] | None = None) -> web.Application:
    services = services or build_services(settings, clock=clock, adapters=adapters)
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SERVICES] = services
    app.add_routes(health.routes(lambda: health_report(services)))
    for adapter in services.adapters:
        app.add_routes(adapter.routes())
    setup_board(app, db=services.db, env=services.env, files=services.files,
                spawn=services.host.spawn)
    app.cleanup_ctx.append(_lifecycle)
    return app


async def health_report(services: Services) -> tuple[dict[str, Any], bool]:
    """``/healthz``: the database, every running adapter's state, the pipeline's counters."""
    db_ok = await services.db.ping()
    body = {
        "status": "ok" if db_ok else "degraded",
        "database": {"ok": db_ok, "dialect": services.db.dialect},
        "adapters": {a.name: a.health() for a in services.adapters},
        "dispatcher": dict(services.dispatcher.stats),
        "outbox": {"sent": services.delivery.sent, "failed": services.delivery.failed},
        "nlu": services.env.parser is not None,
    }
    return body, db_ok


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    async with lifecycle(app[SERVICES], serve=True):
        yield


@contextlib.asynccontextmanager
async def lifecycle(services: Services, *, serve: bool = False) -> AsyncIterator[None]:
    """The service running (``serve``: with its scheduler) for the body of the ``with``."""
    # Held for the whole life of the service: `dudao restore` refuses to replace a database that
    # a running service holds, and the service does not start while a restore runs.
    lock = await asyncio.to_thread(service_lock.take_shared, services.db.url)
    if not services.db.is_sqlite:
        services.host.spawn(_keep_lock(lock))  # cancelled with the other background tasks
    try:
        async with _running(services, serve=serve):
            yield
    finally:
        lock.release()


async def _keep_lock(lock: service_lock.ServiceLock, every_s: float = LOCK_CHECK_S) -> None:
    """PostgreSQL: take the service lock again if its session was lost (a server restart)."""
    while True:
        await asyncio.sleep(every_s)
        await asyncio.to_thread(lock.keep)


@contextlib.asynccontextmanager
async def _running(services: Services, *, serve: bool) -> AsyncIterator[None]:
    done = await asyncio.to_thread(prepare_database, services.db, services.settings, services.env)
    for line in done:
        log.info("%s", line)
    services.host.spawn(_load_parser(services))
    # Adapters take events at once; they wait in the dispatcher's queue until it starts.
    starting = asyncio.ensure_future(_handle_when_understood(services))
    for adapter in services.adapters:
        await adapter.start()
    services.delivery.start()
    if serve and services.settings.schedule.enabled:
        from bot.scheduler import Scheduler

        services.scheduler = Scheduler(services.db, services.env)
        services.scheduler.start()
    yield
    for adapter in services.adapters:
        await adapter.stop()
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    services.dispatcher.start()  # if it was still waiting: handle what was queued, then stop
    await services.dispatcher.stop()
    services.alerts.flush()  # queued in the outbox: sent after the next start if not now
    await services.delivery.stop()
    for adapter in services.adapters:
        await adapter.close()
    if services.scheduler is not None:
        await services.scheduler.stop()
    await services.host.stop()
    await asyncio.to_thread(services.db.close)


# ----------------------------------------------------------------------------- the console


def run_console(settings: Settings, *, identity: str, chat: str) -> int:
    """``dudao console``: the service with the terminal as its only platform."""
    try:
        who = UserRef.parse(identity)
        here = ChatRef.parse(chat)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return asyncio.run(_console(settings, who, here))


async def _console(settings: Settings, who: UserRef, chat: ChatRef) -> int:
    # Answers are printed at once: the pacing that protects QQ accounts has nothing to protect.
    quiet = dataclasses.replace(settings.outbox, poll_interval_s=3600, account_interval_ms=0,
                                group_interval_ms=0, jitter_ms=0, broadcast_per_minute=0)
    create, finished = console_factory(who, chat)
    services = build_services(dataclasses.replace(settings, outbox=quiet), adapters=[create])
    async with lifecycle(services):
        await finished.wait()
    return 0


async def create_menu(db: Database, mp: WechatMpSettings, menu: Mapping[str, Any]) -> None:
    """``menu/create`` outside the running service (``dudao wechat menu``), with the access
    token shared through the database like the service's."""
    import aiohttp

    from bot.adapters.wechat_mp.api import WeChatAPI
    from bot.services.app_tokens import DbTokenStore

    async with aiohttp.ClientSession() as session:
        api = WeChatAPI(session, app_id=mp.app_id, app_secret=mp.app_secret,
                        api_base=mp.api_base, token_store=DbTokenStore(db))
        await api.create_menu(menu)

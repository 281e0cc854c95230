"""create_app(settings): builds every service, wires them, and owns the start/stop order.

Start: database (schema upgrade, bundled roster, configured admins) → language model (jieba, in
a thread; the bot answers canonical commands meanwhile) → dispatcher → outbox delivery →
scheduler. Stop, in reverse: adapters stop accepting, the dispatcher finishes what it queued
(nothing received is dropped), delivery drains replies briefly (the rest stays in the outbox
table for the next start), the scheduler waits for a running sweep, the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from sqlalchemy import Connection, select

from bot.adapters.onebot import Downloader, HttpFileFetcher, UrlPolicy
from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.onebot_sender import OneBotSender
from bot.core.adapter import Envelope, Sender
from bot.core.alerts import AlertCoalescer
from bot.core.env import ServiceEnv
from bot.core.event import Event, MessageEvent
from bot.core.message import OutgoingMessage
from bot.core.router import RouteTable
from bot.domain.clock import Clock, SystemClock
from bot.domain.workdays import WorkCalendar
from bot.files import FileStore
from bot.pipeline.delivery import OutboxDelivery
from bot.pipeline.dispatcher import Dispatcher
from bot.services import alerts as alerts_svc
from bot.services import people as people_svc
from bot.services import units as units_svc
from config.settings import ConfigError, Settings
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
    onebot: OneBotAdapter
    senders: dict[str, Sender]
    table: RouteTable
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    scheduler: Any = None
    alerts: AlertCoalescer | None = None
    extra_cleanup: list[Any] = field(default_factory=list)

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)


SERVICES = web.AppKey("services", Services)


def make_env(settings: Settings, clock: Clock | None = None) -> ServiceEnv:
    tz = settings.service.tz
    cal = WorkCalendar(tz, settings.schedule.work_start, settings.schedule.work_end)
    return ServiceEnv(settings=settings, clock=clock or SystemClock(), calendar=cal, tz=tz,
                      board_url=settings.http.base_url.rstrip("/"))


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
            key = people_svc.parse_identity(ident)
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
                   extra_senders: dict[str, Sender] | None = None) -> Services:
    from handlers import build_router, route_message

    env = make_env(settings, clock)
    db = Database(settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms,
                  pool_size=settings.database.pool_size)
    files = FileStore(files_root(settings.service.data_dir))
    table = RouteTable(build_router())
    holder: dict[str, Any] = {}

    def sink(event: Event) -> None:
        holder["sink"](event)

    ob = settings.onebot
    policy = UrlPolicy.build(own_port=settings.http.port, public_url=settings.http.public_url,
                             allow=ob.download_allow_hosts,
                             trust_impl_host=ob.download_trust_impl_host)
    downloads = Downloader(policy=policy, max_bytes=ob.download_max_mb * 1024 * 1024,
                           concurrency=ob.download_concurrency,
                           inflight_bytes=ob.download_inflight_mb * 1024 * 1024)
    onebot = OneBotAdapter(access_token=ob.access_token, secret=ob.secret, sink=sink,
                           max_frame_bytes=ob.max_frame_mb * 1024 * 1024,
                           downloader=HttpFileFetcher(downloads),
                           call_timeout=ob.action_timeout_s, pictures=files,
                           push_max_bytes=ob.push_max_kb * 1024,
                           push_concurrency=settings.http.max_unauthenticated_reads)
    senders: dict[str, Sender] = {"qq": OneBotSender(onebot, "qq"),
                                  "wx": OneBotSender(onebot, "wx")}
    senders.update(extra_senders or {})
    delivery = OutboxDelivery(db=db, clock=env.clock, senders=senders, settings=settings.outbox)

    async def send_direct(msg: OutgoingMessage, account: str | None) -> None:
        sender = senders.get(msg.chat.platform)
        if sender is not None:
            await sender.send(Envelope(None, msg, account, "reply", ""))

    from bot.handlers_notice import handle_notice

    dispatcher = Dispatcher(db=db, env=env, table=table, route_message=route_message,
                            on_notice=handle_notice, deliver=delivery.push,
                            send_direct=send_direct, batch_max=settings.database.batch_max)
    services = Services(settings, db, env, files, dispatcher, delivery, onebot, senders, table)

    def alert(text: str) -> None:
        services.spawn(_alert_admins(services, text))

    services.alerts = AlertCoalescer(alert)
    delivery.alert = services.alerts
    holder["sink"] = lambda event: _accept_event(services, event)
    return services


def _accept_event(services: Services, event: Event) -> None:
    """Adapters hand events here. Attachments are fetched first (their handles expire)."""
    if isinstance(event, MessageEvent) and event.attachments:
        services.spawn(_with_files(services, event))
    else:
        services.dispatcher.submit(event)


async def _with_files(services: Services, event: MessageEvent) -> None:
    stored = []
    missing = []
    for seg in event.attachments:
        name = seg.name or (seg.file if hasattr(seg, "file") else "") or "file"
        try:
            kept = await services.onebot.fetch_attachment(
                event.self_id, event.chat, seg, functools.partial(services.files.writer, name))
        except Exception as exc:
            log.warning("attachment %r of %s not fetched: %s", name, event.dedupe_key, exc)
            kept = None
        if kept is None:
            missing.append(name)  # the handler tells the sender to send it again
        else:
            stored.append(kept)
    services.dispatcher.submit(replace(event, files=tuple(stored), missing_files=tuple(missing)))


async def _alert_admins(services: Services, text: str) -> None:
    now = services.env.clock.now()

    try:
        await services.db.run(lambda conn: alerts_svc.tell_admins(conn, text, now=now))
    except Exception as exc:
        log.error("could not queue an admin alert: %s", exc)


async def _load_parser(services: Services) -> None:
    if not services.settings.nlu.enabled:
        return
    try:
        from bot.nlu_vocab import build_parser, freeze_long_lived, keep_fresh
    except ImportError:  # pragma: no cover - language layer not installed
        return
    try:
        services.env.parser = await build_parser(services.db, services.env)
        log.info("language model loaded")
        freeze_long_lived()
    except Exception:
        log.exception("language model failed to load; canonical commands still work")
        return
    # New units and tasks (also from other processes) reach the parser within refresh_s.
    await keep_fresh(services.db, services.env, services.settings.nlu.refresh_s)


def create_app(settings: Settings, *, clock: Clock | None = None,
               services: Services | None = None) -> web.Application:
    services = services or build_services(settings, clock=clock)
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SERVICES] = services
    from bot.web.health import routes as health_routes

    app.add_routes(health_routes())
    app.add_routes(services.onebot.routes())
    _add_optional_routes(app, services)
    app.cleanup_ctx.append(_lifecycle)
    return app


def _add_optional_routes(app: web.Application, services: Services) -> None:
    try:
        from bot.wechat_wiring import setup_wechat
    except ImportError:  # pragma: no cover
        pass
    else:
        setup_wechat(app, services)
    try:
        from bot.web.board import setup_board
    except ImportError:  # pragma: no cover
        pass
    else:
        setup_board(app, services)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    async with _lifecycle_console(app[SERVICES], serve=True):
        yield


@contextlib.asynccontextmanager
async def _lifecycle_console(services: Services, *, serve: bool = False) -> AsyncIterator[None]:
    # Held for the whole life of the service: `dudao restore` refuses to replace a database that
    # a running service holds, and the service does not start while a restore runs.
    lock = await asyncio.to_thread(service_lock.take_shared, services.db.url)
    if not services.db.is_sqlite:
        services.spawn(_keep_lock(lock))  # cancelled with the other background tasks
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
    services.spawn(_load_parser(services))
    services.dispatcher.start()
    services.delivery.start()
    if serve:
        # Implementations that only offer a forward WebSocket (NapCat "WebSocket 服务器",
        # go-cqhttp's ws server): we connect out and reconnect with capped back-off.
        for url in services.settings.onebot.forward_urls:
            services.onebot.start_forward(url)
    if serve and services.settings.schedule.enabled:
        try:
            from bot.scheduler import Scheduler
        except ImportError:  # pragma: no cover
            pass
        else:
            services.scheduler = Scheduler(services.db, services.env)
            services.scheduler.start()
    yield
    await services.onebot.close()
    for fn in services.extra_cleanup:
        await fn()
    await services.dispatcher.stop()
    if services.alerts is not None:
        services.alerts.flush()  # queued in the outbox: sent after the next start if not now
    await services.delivery.stop()
    if services.scheduler is not None:
        await services.scheduler.stop()
    for task in list(services.background):
        task.cancel()
    await asyncio.gather(*services.background, return_exceptions=True)
    await asyncio.to_thread(services.db.close)

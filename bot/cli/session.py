"""One admin command's hold on the database: opened, used, and closed however the command ends.

::

    with admin_session(args) as admin:
        info = admin.run(lambda conn: tasks.get(conn, 12))
        admin.emit({"id": info.id}, f"任务 {info.id}")

Opening takes the service lock shared (a restore takes it alone: storage/service_lock.py), opens
the database and brings its schema up to date (the bundled roster and the configured admins on a
fresh database, as ``dudao serve`` does). Closing releases both, also when the command fails
half-way, so a refused command never leaves the lock behind for the rest of the process.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

from bot.cli.common import CLI_ACTOR, emit, load
from config.settings import Settings

if TYPE_CHECKING:
    from bot.core.env import ServiceEnv
    from storage.db import Database

T = TypeVar("T")


class AdminSession:
    """The settings, service environment and database of one admin command."""

    def __init__(self, args: argparse.Namespace, settings: Settings, env: ServiceEnv,
                 db: Database) -> None:
        self.args = args
        self.settings = settings
        self.env = env
        self.db = db

    @property
    def actor(self) -> str:
        """Who this command's audit entries name (``cli:<user>``)."""
        return CLI_ACTOR

    def run(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` in one transaction: all of it is committed, or nothing when it raises."""
        return self.db.transaction(fn)

    def audit(self, conn: Connection, action: str, target: str, detail: dict[str, Any], *,
              at: datetime | None = None) -> None:
        """An audit entry by this command's user (``at``: now unless the work has its time)."""
        from bot.services import audit

        audit.record(conn, at=at or self.env.clock.now(), actor=CLI_ACTOR, channel="cli",
                     action=action, target=target, detail=detail)

    def emit(self, records: Any, text: str) -> None:
        """``records`` as JSON with ``--json``, else ``text``."""
        emit(self.args, records, text)


@contextmanager
def admin_session(args: argparse.Namespace, settings: Settings | None = None, *,
                  prepare: bool = True) -> Iterator[AdminSession]:
    """Open the database for one command (``settings`` if already read, else from ``args``).

    ``prepare=False`` leaves the schema as it is (a backup copies the database as it finds it).
    """
    settings = settings if settings is not None else load(args)
    from bot.app import make_env, prepare_database
    from storage import service_lock
    from storage.db import Database

    env = make_env(settings)
    with ExitStack() as opened:
        lock = service_lock.take_shared(settings.database_url)
        opened.callback(lock.release)
        db = Database(settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms,
                      pool_size=settings.database.pool_size)
        opened.callback(db.close)
        if prepare:
            prepare_database(db, settings, env)
        yield AdminSession(args, settings, env, db)

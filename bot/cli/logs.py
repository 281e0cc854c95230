"""The command's log: where it goes, how loud it is, and timestamps that say their zone.

Timestamps carry their UTC offset (``2026-07-01 09:00:00.123+08:00``): the process's local zone
until the settings are read, then the configured ``[service] timezone``. A bare time was UTC in
a container and read as Beijing time by the people looking at it.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ZonedFormatter(logging.Formatter):
    """``%(asctime)s`` as an ISO time with its UTC offset, in ``tz`` (None: the local zone)."""

    def __init__(self, fmt: str = FORMAT, tz: tzinfo | None = None) -> None:
        super().__init__(fmt)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.tz)
        if self.tz is None:
            moment = moment.astimezone()
        return moment.isoformat(sep=" ", timespec="milliseconds")


def configure(command: str, *, verbose: bool) -> None:
    """The root logger for one run: INFO for ``serve``, WARNING otherwise, DEBUG with -v."""
    level = logging.DEBUG if verbose else logging.INFO if command == "serve" else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(ZonedFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def use_time_zone(tz: tzinfo) -> None:
    """Write the timestamps of the configured handlers in ``tz`` from now on."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, ZonedFormatter):
            handler.formatter.tz = tz


def apply_service_level(level: str, *, verbose: bool) -> None:
    """[service] log_level for the running service (--verbose still means DEBUG).

    The libraries' own INFO lines say nothing to an operator (Alembic's plugin set-up,
    APScheduler's "Running job" twice a minute; our scheduler logs what its jobs did), so they
    are shown only when debugging.
    """
    root = logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO)
    logging.getLogger().setLevel(root)
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose
                                           else max(root, logging.WARNING))

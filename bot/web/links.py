"""Read-only board links made outside a web request: by ``dudao unit link`` and the chat command.

The token is :meth:`bot.web.security.Signer.view_link` under the board's own key, so a link made
here opens exactly like one made on the unit page (``/v/<token>``: the unit and the units below
it, read-only, until it expires). No aiohttp here: the CLI and the chat handlers import this.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from bot.domain.errors import InvalidInput
from bot.services import units as units_svc
from bot.web.security import Signer, load_secret

if TYPE_CHECKING:
    from config.settings import Settings

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class ViewLink:
    url: str
    unit_id: int
    unit: str
    expires_at: datetime


@functools.cache
def _signer(configured: str, data_dir: Path) -> Signer:
    # One key per process: the board and the link makers must sign with the same bytes, and the
    # generated key file is read (or written) once rather than on every chat command.
    return Signer(load_secret(configured, data_dir))


def signer_for(settings: Settings) -> Signer:
    """The board's signer: ``[web] secret_key``, else the key file kept in ``data_dir``."""
    return _signer(settings.web.secret_key, settings.service.data_dir)


def view_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v/{token}"


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"有效天数应在 1 到 {MAX_DAYS} 天之间")
    return days


def make_view_link(conn: Connection, *, signer: Signer, base_url: str, unit_id: int, days: int,
                   now: datetime) -> ViewLink:
    """A signed read-only link to ``unit_id`` (and its subtree) valid for ``days`` from ``now``.

    Raises NotFound for an unknown unit and InvalidInput for a lifetime out of range; the caller
    audits (it knows who asked and through which channel).
    """
    check_days(days)
    unit = units_svc.get(conn, unit_id)
    expires = int((now + timedelta(days=days)).timestamp())
    token = signer.view_link(unit.id, expires)
    return ViewLink(view_url(base_url, token), unit.id, unit.name,
                    datetime.fromtimestamp(expires, now.tzinfo))

"""Read-only board links: by ``dudao unit link``, the chat command 看板 and the unit page.

The token is signed by the board's own key (``bot/web/security.py``, handed in as a
:class:`~bot.core.env.LinkSigner`), so a link made here opens exactly like one made on the
unit page (``/v/<token>``: the unit and the units below it, read-only, until it expires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bot.core.env import LinkSigner
from bot.domain.errors import InvalidInput
from bot.services import units as units_svc

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class ViewLink:
    url: str
    unit_id: int
    unit: str
    expires_at: datetime


def view_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/v/{token}"


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"有效天数应在 1 到 {MAX_DAYS} 天之间")
    return days


def make_view_link(conn: Connection, *, signer: LinkSigner, base_url: str, unit_id: int, days: int,
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

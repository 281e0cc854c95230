"""Record ids from outside (a path, a query, a form field): one parser for every route.

A database id is a positive 64-bit integer (SQLite's INTEGER, PostgreSQL's BIGINT). Anything
else — letters, a sign, full-width digits, ``2**63`` — can name no record, so it is refused here
as :class:`BadId` and answered with a 404 by the board's middleware (``bot/web/board.py``): the
error page for a page, a JSON error under ``/api/``. Without this, an id past the 64-bit range
reached the driver and failed there with ``OverflowError`` (a 500).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # no aiohttp at run time: bot/web/security.py (imported by the CLI) uses this
    from aiohttp import web

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


class BadId(Exception):
    """An id that cannot name a record; answered with a 404."""

    def __init__(self, name: str, value: object) -> None:
        super().__init__(f"bad id for {name}: {str(value)[:40]!r}")
        self.name = name


def parse_id(value: object) -> int | None:
    """``value`` as a record id, or None when it cannot be one."""
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def require_id(name: str, value: object) -> int:
    number = parse_id(value)
    if number is None:
        raise BadId(name, value)
    return number


def path_id(request: web.Request, name: str) -> int:
    """The id in the route's ``{name}`` segment."""
    return require_id(name, request.match_info.get(name))


def query_id(request: web.Request, name: str) -> int | None:
    """The id in ``?name=``; None when the parameter is absent or empty."""
    value = request.query.get(name, "")
    return require_id(name, value) if value else None


def form_id(form: Any, name: str) -> int:
    """The id in a POSTed form field (required)."""
    value = form.get(name) if hasattr(form, "get") else None
    return require_id(name, value.strip() if isinstance(value, str) else value)

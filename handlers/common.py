"""Small helpers the handler modules share: who is asking, what they may see, argument parsing.

Which role may call a handler is declared in its HandlerSpec and enforced by the router
(``bot/core/router.py``); what is left here are the finer rules: a person without a unit, the
units a liaison or an official may look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.context import Context, Member
from bot.core.router import NOT_BOUND
from bot.domain.errors import NotAllowed
from bot.domain.roles import ADMIN, OFFICIAL
from bot.services import units as units_svc

SUBMISSION_NO = re.compile(r"[#＃]\s*(\d+)")


def person_of(ctx: Context) -> Member:
    """The registered person asking (the router lets only them reach a handler that declares
    roles; a handler called some other way still refuses a stranger)."""
    if ctx.person is None:
        raise NotAllowed(NOT_BOUND, log=f"{ctx.event.sender.key} is not bound")
    return ctx.person


def require_unit(ctx: Context) -> tuple[Member, int]:
    p = person_of(ctx)
    if p.unit_id is None:
        raise NotAllowed("您的账号没有关联单位", log="person without unit")
    return p, p.unit_id


def visible_units(ctx: Context) -> set[int] | None:
    """The units this person may ask about: None for admins (all of them), an official's unit
    and the units below it, a liaison's own unit; nothing for a person without a unit."""
    p = person_of(ctx)
    if p.role == ADMIN:
        return None
    if p.unit_id is None:
        return set()
    if p.role == OFFICIAL:
        return units_svc.subtree_ids(ctx.conn, p.unit_id)
    return {p.unit_id}


def ensure_visible(visible: set[int] | None, unit_ids: Iterable[int], message: str, *,
                   log: str) -> None:
    """Refuse (with ``message``) unless every unit of ``unit_ids`` is in ``visible``."""
    if visible is not None and any(uid not in visible for uid in unit_ids):
        raise NotAllowed(message, log=log)


def first_submission_no(text: str) -> int | None:
    m = SUBMISSION_NO.search(text)
    return int(m.group(1)) if m else None

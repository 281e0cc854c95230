"""Small helpers the handler modules share: permission checks and argument parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.context import Context
from bot.domain.errors import NotAllowed
from bot.services import units as units_svc
from bot.services.people import PersonInfo
from handlers import texts

SUBMISSION_NO = re.compile(r"[#＃]\s*(\d+)")


def require_person(ctx: Context) -> PersonInfo:
    if ctx.person is None:
        raise NotAllowed(texts.NOT_BOUND, log=f"{ctx.event.sender.key} is not bound")
    return ctx.person


def require_admin(ctx: Context, action: str = "") -> PersonInfo:
    """The admin asking; anyone else is told who may ("只有管理员可以发布任务")."""
    p = require_person(ctx)
    if p.role != "admin":
        text = f"只有管理员可以{action}" if action else texts.ADMIN_ONLY
        raise NotAllowed(text, log=f"{ctx.event.sender.key} is not an admin")
    return p


def require_unit(ctx: Context) -> tuple[PersonInfo, int]:
    p = require_person(ctx)
    if p.unit_id is None:
        raise NotAllowed("您的账号没有关联单位", log="person without unit")
    return p, p.unit_id


def visible_units(ctx: Context) -> set[int] | None:
    """The units this person may ask about: None for admins (all of them), an official's unit
    and the units below it, a liaison's own unit; nothing for a person without a unit."""
    p = require_person(ctx)
    if p.role == "admin":
        return None
    if p.unit_id is None:
        return set()
    if p.role == "official":
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

"""Small helpers the handler modules share: permission checks and argument parsing."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.domain.errors import NotAllowed
from bot.services.people import PersonInfo
from handlers import texts

SUBMISSION_NO = re.compile(r"[#＃]\s*(\d+)")


def require_person(ctx: Context) -> PersonInfo:
    if ctx.person is None:
        raise NotAllowed(texts.NOT_BOUND, log=f"{ctx.event.sender.key} is not bound")
    return ctx.person


def require_admin(ctx: Context) -> PersonInfo:
    p = require_person(ctx)
    if p.role != "admin":
        raise NotAllowed(texts.ADMIN_ONLY, log=f"{ctx.event.sender.key} is not an admin")
    return p


def require_unit(ctx: Context) -> tuple[PersonInfo, int]:
    p = require_person(ctx)
    if p.unit_id is None:
        raise NotAllowed("您的账号没有关联单位", log="person without unit")
    return p, p.unit_id


def first_submission_no(text: str) -> int | None:
    m = SUBMISSION_NO.search(text)
    return int(m.group(1)) if m else None

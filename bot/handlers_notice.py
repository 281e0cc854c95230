"""Notices (non-message events) that matter to the programme: reactions as acknowledgements."""

from __future__ import annotations

from sqlalchemy import Connection

from bot.core.context import Outgoing
from bot.core.env import ServiceEnv
from bot.core.event import NoticeEvent
from bot.services import notices as notices_svc
from bot.services import outbox as outbox_svc
from bot.services import people as people_svc

THUMBS_UP = {"76", "👍", "201"}


def handle_notice(ev: NoticeEvent, conn: Connection, env: ServiceEnv,
                  outgoing: list[Outgoing]) -> None:
    # A 👍 on a notice counts as 收到 where the platform reports reactions (NapCat).
    if ev.kind == "reaction" and ev.chat is not None and ev.user is not None:
        if ev.detail.get("emoji", "") not in THUMBS_UP:
            return
        found = outbox_svc.find_by_platform_id(conn, ev.chat.key, ev.detail.get("message_id", ""))
        if not found or not found[1].startswith("notice:"):
            return
        person = people_svc.by_identity(conn, ev.user.key)
        if person is None or person.unit_id is None:
            return
        notices_svc.acknowledge(conn, notice_id=int(found[1].split(":")[1]),
                                unit_id=person.unit_id, person_id=person.id, now=env.clock.now())

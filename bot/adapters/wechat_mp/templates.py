"""Template messages for reminders and notices: which template, and what goes in its fields.

A template's keywords are its own (``thing1``, ``time3`` on new templates; ``first``,
``keyword1``, ``remark`` on old ones), so the mapping is configured (``[wechat_mp]
reminder_template_fields`` / ``notice_template_fields``) as ``keyword=source`` pairs. Sources
(``config.settings.WECHAT_TEMPLATE_SOURCES``):

- ``title``: 督导提醒 for reminders, 督导通知 for notices and bulletins;
- ``text``: the message text on one line;
- ``time``: when it is sent, Beijing time (``2025年06月11日 09:30``).

WeChat refuses a value longer than its keyword type allows
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html),
so values are cut by the keyword's type, read from its name: ``thing`` 20 characters,
``character_string`` 32, ``phrase`` 5, ``name`` 10, anything else 200.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from config.settings import WECHAT_TEMPLATE_SOURCES

BEIJING = timezone(timedelta(hours=8))

TITLES: Mapping[str, str] = {"reminder": "督导提醒", "notice": "督导通知", "bulletin": "督导通知"}
"""Outbox kinds that go out as template messages, and the title of each."""

TEMPLATE_OF_KIND: Mapping[str, str] = {"reminder": "reminder", "notice": "notice",
                                       "bulletin": "notice"}
"""Outbox kind → which configured template (reminder or notice) carries it."""

_LIMITS = (("character_string", 32), ("thing", 20), ("phrase", 5), ("name", 10))
_DEFAULT_LIMIT = 200
_KEYWORD_TYPE = re.compile(r"[a-z_]+")


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A configured template: its id and ``(keyword, source)`` pairs."""

    template_id: str
    fields: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, template_id: str, pairs: Iterable[str]) -> TemplateSpec:
        """From the settings' ``keyword=source`` strings (validated there)."""
        fields: list[tuple[str, str]] = []
        for pair in pairs:
            keyword, _, source = pair.partition("=")
            keyword, source = keyword.strip(), source.strip()
            if source not in WECHAT_TEMPLATE_SOURCES:
                raise ValueError(f"unknown template field source {source!r}")
            fields.append((keyword, source))
        return cls(template_id, tuple(fields))

    def data(self, kind: str, text: str, at: datetime) -> dict[str, str]:
        """The template's ``data`` (keyword → value) for a message of ``kind``."""
        values = {
            "title": TITLES.get(kind, "督导消息"),
            "text": " ".join(text.split()),
            "time": f"{at.astimezone(BEIJING):%Y年%m月%d日 %H:%M}",
        }
        return {keyword: cut(values[source], limit_of(keyword))
                for keyword, source in self.fields}


def limit_of(keyword: str) -> int:
    """How many characters WeChat takes for ``keyword`` (by its type prefix)."""
    match = _KEYWORD_TYPE.match(keyword)
    prefix = match.group(0) if match else ""
    for name, limit in _LIMITS:
        if prefix == name:
            return limit
    return _DEFAULT_LIMIT


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

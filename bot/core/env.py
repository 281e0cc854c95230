"""What every handler, job and CLI command may use besides the database connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.workdays import WorkCalendar

if TYPE_CHECKING:
    from bot.core.nlu import Parser
    from bot.domain.gongwen import Document
    from config.settings import Settings


class LinkSigner(Protocol):
    """Signs read-only board links (the board's key, ``bot/web/security.py``)."""

    def view_link(self, unit_id: int, expires: int) -> str:
        """The token of a link to ``unit_id`` (and below) valid until ``expires`` (epoch s)."""
        ...

    def document_link(self, doc_id: int, expires: int) -> str:
        """The token of a download link to issued document ``doc_id`` until ``expires``."""
        ...


class DocumentRenderer(Protocol):
    """Lays an official document out as .docx bytes (``bot/reports/render.py``)."""

    def __call__(self, doc: Document, *, created: datetime | None = None) -> bytes: ...


@dataclass(slots=True)
class ServiceEnv:
    settings: Settings
    clock: Clock
    calendar: WorkCalendar
    tz: ZoneInfo
    parser: Parser | None = None  # set once jieba has loaded (off the event loop)
    board_url: str = ""
    link_signer: LinkSigner | None = None  # given by the composition root
    render_document: DocumentRenderer | None = None  # given by the composition root

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def fmt(self, moment: datetime) -> str:
        """A deadline as people write it: 7月15日 18:00."""
        m = self.local(moment)
        return f"{m.month}月{m.day}日 {m:%H:%M}"

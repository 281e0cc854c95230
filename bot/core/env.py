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


LOCAL_LINKS_NOTE = ("注意：未配置对外地址（[http] public_url，环境变量 DUDAO_HTTP_PUBLIC_URL），"
                    "链接指向本机 127.0.0.1，只能在运行 dudao 的电脑上打开")


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

    def local_links_note(self) -> str:
        """A line to add where a link is given while links name this machine only; else ""."""
        if not self.settings.http.links_are_local:
            return ""
        return LOCAL_LINKS_NOTE

    def fmt(self, moment: datetime) -> str:
        """A deadline as people write it: 7月15日 18:00."""
        m = self.local(moment)
        return f"{m.month}月{m.day}日 {m:%H:%M}"

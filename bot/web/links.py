"""The board's signer for read-only links, and the links themselves (``bot/services/view_links.py``).

The CLI (``dudao unit link``), the unit page and, through ``ServiceEnv.link_signer``, the chat
command 看板 sign with the same key, so every link opens the same way.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from bot.services.view_links import MAX_DAYS as MAX_DAYS
from bot.services.view_links import ViewLink as ViewLink
from bot.services.view_links import check_days as check_days
from bot.services.view_links import make_view_link as make_view_link
from bot.services.view_links import view_url as view_url
from bot.web.security import Signer, load_secret

if TYPE_CHECKING:
    from config.settings import Settings


@functools.cache
def _signer(configured: str, data_dir: Path) -> Signer:
    # One key per process: the board and the link makers must sign with the same bytes, and the
    # generated key file is read (or written) once rather than on every chat command.
    return Signer(load_secret(configured, data_dir))


def signer_for(settings: Settings) -> Signer:
    """The board's signer: ``[web] secret_key``, else the key file kept in ``data_dir``."""
    return _signer(settings.web.secret_key, settings.service.data_dir)


class BoardLinkSigner:
    """The board's signer for the chat handlers, found on first use (the key file is read, or
    made, only when a link is asked for)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def view_link(self, unit_id: int, expires: int) -> str:
        return signer_for(self._settings).view_link(unit_id, expires)

    def document_link(self, doc_id: int, expires: int) -> str:
        return signer_for(self._settings).document_link(doc_id, expires)

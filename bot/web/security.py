"""Signed values for the board: session cookies, CSRF tokens and read-only links.

Everything is HMAC-SHA256 under one key and checked with ``hmac.compare_digest``. A session
cookie is signed, but the signature alone does not make a session: it carries a random token
whose row in ``web_sessions`` must still exist (``bot/services/web_sessions.py``), so logout and a
password change end it at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.web.ids import parse_id

log = logging.getLogger("dudao.web")

KEY_FILE = "web_secret.key"


def load_secret(configured: str, data_dir: Path) -> bytes:
    """The configured key, else one generated on first start and kept in ``data_dir``."""
    if configured:
        return configured.encode()
    path = data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except ValueError:
        log.warning("%s is not a hex key; generating a new one (sessions are reset)", path)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    try:
        os.link(tmp, path)  # first writer wins when two processes start together
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    log.info("web board: generated a session key in %s", path)
    return bytes.fromhex(path.read_text().strip())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Session:
    """An admin (``role="admin"``, ``person_id``) or a link viewer (``role="viewer"``, ``unit_id``);
    ``token`` names its ``web_sessions`` row."""

    role: str
    person_id: int | None
    unit_id: int | None
    expires: int
    token: str = ""


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, message: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{message}".encode(), hashlib.sha256).digest())

    # -------------------------------------------------------------------------- sessions

    def session_cookie(self, s: Session) -> str:
        body = _b64(json.dumps({"r": s.role, "p": s.person_id, "u": s.unit_id, "e": s.expires,
                                "t": s.token}, separators=(",", ":")).encode())
        return f"{body}.{self._mac('session', body)}"

    def read_session(self, cookie: str | None, now: float) -> Session | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac("session", body).encode()):
            return None
        try:
            d = json.loads(_unb64(body))
            s = Session(str(d["r"]), d["p"], d["u"], int(d["e"]), str(d.get("t", "")))
        except (ValueError, KeyError, TypeError):
            return None
        if s.expires <= now or s.role not in ("admin", "viewer"):
            return None
        return s

    # -------------------------------------------------------------------------- CSRF

    def csrf_token(self, nonce: str) -> str:
        """The form token for a browser's CSRF nonce cookie (signed double submit)."""
        return self._mac("csrf", nonce)

    def check_csrf(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return hmac.compare_digest(token.encode(), self.csrf_token(nonce).encode())

    # -------------------------------------------------------------------------- read-only links

    def view_link(self, unit_id: int, expires: int) -> str:
        """``<unit>.<expiry>.<mac>``: read-only access to one unit and the units below it."""
        msg = f"{unit_id}.{expires}"
        return f"{msg}.{self._mac('view', msg)}"

    def read_view_link(self, token: str, now: float) -> tuple[int, int] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        unit_id, expires = parse_id(parts[0]), parse_id(parts[1])
        if unit_id is None or expires is None:
            return None
        msg = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2].encode(), self._mac("view", msg).encode()):
            return None
        if expires <= now:
            return None
        return unit_id, expires

    # -------------------------------------------------------------------------- document links

    def document_link(self, doc_id: int, expires: int) -> str:
        """``<document>.<expiry>.<mac>``: downloading one issued document until ``expires``.
        Its own purpose in the MAC, so a view link's token never opens a document."""
        msg = f"{doc_id}.{expires}"
        return f"{msg}.{self._mac('document', msg)}"

    def read_document_link(self, token: str, now: float) -> int | None:
        """The document a download token names, or None when it is forged or expired."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        doc_id, expires = parse_id(parts[0]), parse_id(parts[1])
        if doc_id is None or expires is None:
            return None
        msg = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2].encode(), self._mac("document", msg).encode()):
            return None
        if expires <= now:
            return None
        return doc_id

"""The HTTP access log, without the secrets that travel in URLs.

aiohttp's default access log writes the request line as received, so it kept every
``?access_token=…`` of a OneBot implementation, every signed read-only link (``/v/<unit>.<expiry>
.<signature>``, valid for up to a year) and the signed query of each WeChat callback — and the
same again in the Referer header. Here the request line and the Referer are redacted before they
are logged:

- a path with a ``/v/`` segment is cut there (``/v/***``), and so is one with ``/d/`` (a signed
  download link of an issued document, ``/d/***``);
- a query keeps its parameter names, but only the values of the parameters listed in
  ``SAFE_PARAMS`` (filters and page cursors); every other value is replaced, so a parameter added
  later is safe by default.

``dudao serve`` passes this class to aiohttp's runner (``access_log_class``).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REDACTED = "***"
SAFE_PARAMS = frozenset({"kind", "system", "period", "before", "limit", "cursor", "task", "unit",
                         "since", "timestamp", "encrypt_type"})
# Signed read-only links and document download links: the path *is* the credential.
_LINK_PATHS = ("/v/", "/d/")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")


def redact_target(target: str) -> str:
    """A request target (path and query) fit for a log line."""
    if not target.startswith("/"):  # absolute-form (``GET http://host/v/…``) or junk
        return redact_url(target) if "://" in target else REDACTED
    path, sep, query = target.partition("?")
    decoded = unquote(path)
    # also ``/%76/…`` and ``/x/v/…``: never the token
    cuts = [(i, p) for p in _LINK_PATHS if (i := decoded.find(p)) >= 0]
    if cuts:
        cut, link = min(cuts)
        path = quote(decoded[:cut]) + link + REDACTED
    if not sep:
        return path
    parts = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        name = key if _PLAIN_KEY.fullmatch(key) else REDACTED
        # Values are decoded by parse_qsl: quoted again so that no %0A splits a log line.
        shown = quote(value, safe=":,") if name in SAFE_PARAMS or not value else REDACTED
        parts.append(f"{name}={shown}")
    return f"{path}?{'&'.join(parts)}" if parts else path


def redact_url(url: str) -> str:
    """A full URL (a Referer) with its path and query redacted like a request target."""
    if not url or url == "-":
        return "-"
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
    return origin + (redact_target(target) if target.startswith("/") else REDACTED)


class RedactingAccessLogger(AbstractAccessLogger):
    """``<address> "<method> <redacted target> HTTP/x.y" <status> <bytes> "<redacted referer>"
    "<user agent>" <seconds>``; the logger's own format adds the time."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            version = f"{request.version.major}.{request.version.minor}"
            self.logger.info(
                '%s "%s %s HTTP/%s" %d %d "%s" "%s" %.3fs',
                request.remote or "-", request.method, redact_target(request.raw_path), version,
                response.status, response.body_length,
                redact_url(request.headers.get("Referer", "-")),
                request.headers.get("User-Agent", "-")[:200], time)
        except Exception:
            self.logger.exception("Error in access logging")

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

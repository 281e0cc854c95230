"""How secrets are hidden when settings are shown (``dudao config check``, ``repr()``, errors)."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit


def mask_secret(value: str) -> str:
    """``""`` stays empty; short secrets become ``***``; longer ones keep their last 2 chars."""
    if not value:
        return ""
    if len(value) >= 8:
        return "***" + value[-2:]
    return "***"


_URL_SECRET_PARAMS: Final = frozenset({"access_token", "token", "key", "secret", "password"})


def mask_url(url: str) -> str:
    """Hide a password in the authority and secret-looking query parameters of a URL."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(k.lower() in _URL_SECRET_PARAMS for k, _ in pairs):
                query = urlencode(
                    [(k, "***" if k.lower() in _URL_SECRET_PARAMS else v) for k, v in pairs],
                    safe="*",
                )
        if netloc == parts.netloc and query == parts.query:
            return url
        # Put together by hand: urlunsplit drops the empty authority of sqlite:////abs/path.
        slashes = "//" if url[len(parts.scheme) + 1 :].startswith("//") else ""
        return (f"{parts.scheme}:{slashes}{netloc}{parts.path}" + (f"?{query}" if query else "")
                + (f"#{parts.fragment}" if parts.fragment else ""))
    except ValueError:
        return "***"


def masked(value: object, how: str | None) -> object:
    if how == "secret" and isinstance(value, str):
        return mask_secret(value)
    if how == "url":
        if isinstance(value, str):
            return mask_url(value)
        if isinstance(value, tuple):
            return tuple(mask_url(v) if isinstance(v, str) else v for v in value)
    return value

"""Small helpers shared by the WeChat adapters."""

from __future__ import annotations


def mask(value: str) -> str:
    """An identifier fit for a log line: ``o9Ag…bGY`` (openids are personal data)."""
    if len(value) <= 8:
        return "***" if value else ""
    return f"{value[:4]}…{value[-3:]}"

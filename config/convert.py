"""Reading a raw value as its key's type: from a TOML file, or from an environment variable."""

from __future__ import annotations

import contextlib
import json
import math
import re
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Final

from config.errors import Invalid
from config.schema import Key


def _describe_got(value: object, key: Key) -> str:
    if isinstance(value, dict):
        return "a table"
    if key.mask == "secret":
        # Never echo a secret, not even a wrongly typed one.
        return {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(
            type(value), "a value"
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "an array"
    return repr(value)


_EXPECTED: Final = MappingProxyType(
    {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "path": "a path (string)",
        "time": 'a time "HH:MM"',
        "strlist": "an array of strings",
    }
)
_ENV_EXPECTED: Final = MappingProxyType(
    {
        **_EXPECTED,
        "bool": "a boolean (true/false/1/0/yes/no)",
        "strlist": "a comma-separated list",
    }
)
_TIME_RE: Final = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_INT_RE: Final = re.compile(r"[+-]?\d+")
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


def _parse_time(text: str) -> time:
    match = _TIME_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def from_toml(key: Key, value: object) -> object:
    """A value read from a TOML file, checked against the key's type."""
    kind = key.kind
    ok: object = None
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        ok = value
    elif kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise Invalid(f"expected a finite number, got {value!r}")
        ok = float(value)
    elif (kind == "bool" and isinstance(value, bool)) or (kind == "str" and isinstance(value, str)):
        ok = value
    elif kind == "path" and isinstance(value, str | Path):
        ok = Path(value)
    elif (
        kind == "strlist"
        and isinstance(value, list | tuple)
        and all(isinstance(v, str) for v in value)
    ):
        ok = tuple(value)
    elif kind == "time":
        if isinstance(value, time) and value.second == 0 and value.tzinfo is None:
            ok = value.replace(microsecond=0)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                ok = _parse_time(value)
    if ok is None:
        raise Invalid(f"expected {_EXPECTED[kind]}, got {_describe_got(value, key)}")
    return ok


def from_env(key: Key, text: str) -> object:
    """A value read from an environment variable, converted to the key's type."""
    kind = key.kind
    stripped = text.strip()
    try:
        if kind == "int":
            if not _INT_RE.fullmatch(stripped):
                raise ValueError(text)
            return int(stripped)
        if kind == "float":
            number = float(stripped)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
        if kind == "bool":
            lowered = stripped.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(text)
        if kind == "path":
            return Path(stripped)
        if kind == "time":
            return _parse_time(stripped)
        if kind == "strlist":
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return text
    except ValueError:
        got = "a value" if key.mask == "secret" else json.dumps(text, ensure_ascii=False)
        raise Invalid(f"expected {_ENV_EXPECTED[kind]}, got {got}") from None

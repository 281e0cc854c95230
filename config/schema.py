"""The key schema: which keys exist, of which type, and the environment variable of each.

It is read off the dataclasses of config/sections.py, so a field there is a key everywhere
(files, environment, ``dudao config check``) with nothing else to register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast, get_type_hints

from config.sections import Section, Settings

ENV_PREFIX: Final = "DUDAO_"


def _section_types() -> Mapping[str, type[Section]]:
    hints = get_type_hints(Settings)
    return MappingProxyType(
        {
            f.name: hints[f.name]
            for f in fields(Settings)
            if isinstance(hints[f.name], type) and issubclass(hints[f.name], Section)
        }
    )


SECTIONS: Final = _section_types()
TOP_LEVEL: Final = ("admins",)
_KIND_BY_TYPE: Final[Mapping[object, str]] = MappingProxyType(
    {
        int: "int",
        float: "float",
        bool: "bool",
        str: "str",
        Path: "path",
        time: "time",
        tuple[str, ...]: "strlist",
    }
)


@dataclass(frozen=True, slots=True)
class Key:
    section: str  # "" for top-level keys
    name: str
    kind: str
    mask: str | None

    @property
    def label(self) -> str:
        return f"[{self.section}] {self.name}" if self.section else self.name

    @property
    def env(self) -> str:
        return env_var_name(self.section, self.name)


def _schema() -> Mapping[str, Mapping[str, Key]]:
    out: dict[str, Mapping[str, Key]] = {}
    root_hints = get_type_hints(Settings)
    out[""] = MappingProxyType(
        {name: Key("", name, _KIND_BY_TYPE[root_hints[name]], None) for name in TOP_LEVEL}
    )
    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        out[section] = MappingProxyType(
            {
                f.name: Key(section, f.name, _KIND_BY_TYPE[hints[f.name]], f.metadata.get("mask"))
                for f in fields(cast(Any, cls))
            }
        )
    return MappingProxyType(out)


SCHEMA: Final = _schema()
# Longest first, so that DUDAO_WECHAT_MP_APP_ID is read as [wechat_mp] app_id.
ENV_SECTIONS: Final = tuple(sorted(SECTIONS, key=len, reverse=True))


def env_var_name(section: str, key: str) -> str:
    """The environment variable overriding a key: ``env_var_name("http", "port")`` →
    ``DUDAO_HTTP_PORT``; top-level keys have ``section=""``."""
    return (
        f"{ENV_PREFIX}{section.upper()}_{key.upper()}" if section else f"{ENV_PREFIX}{key.upper()}"
    )


def settings_keys() -> dict[str, tuple[str, ...]]:
    """Every known key by section (``""`` for top-level keys), in declaration order."""
    return {section: tuple(keys) for section, keys in SCHEMA.items()}


def secret_keys() -> tuple[tuple[str, str], ...]:
    """``(section, key)`` of every setting masked as a secret."""
    return tuple(
        (k.section, k.name)
        for keys in SCHEMA.values()
        for k in keys.values()
        if k.mask == "secret"
    )

"""Typed, frozen settings for dudao.

Values come from three layers, later ones winning:

1. ``config/default.toml`` (bundled): the single source of defaults, every key documented there;
2. the user's file: ``--config PATH``, or ``./dudao.toml`` when present;
3. environment variables ``DUDAO_<SECTION>_<KEY>`` (``DUDAO_HTTP_PORT``,
   ``DUDAO_WECHAT_MP_AES_KEY``) and ``DUDAO_<KEY>`` for top-level keys
   (``DUDAO_ADMINS=qq:10001,qq:10002``).

Every problem found is collected and raised together as one :class:`ConfigError` whose lines name
the source and the key (``dudao.toml: [http] port: expected an integer, got "abc"``). Secrets are
never shown: :meth:`Settings.describe`, ``repr()`` and error messages mask them.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final, cast, get_type_hints
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "BackupSettings",
    "ConfigError",
    "DatabaseSettings",
    "DocumentsSettings",
    "HttpSettings",
    "NluSettings",
    "OneBotSettings",
    "OutboxSettings",
    "ScheduleSettings",
    "ScoringSettings",
    "ServiceSettings",
    "Settings",
    "WebSettings",
    "WechatMpSettings",
    "WecomSettings",
    "env_var_name",
    "load_settings",
    "mask_secret",
]

DEFAULT_CONFIG_PATH: Final = Path(__file__).with_name("default.toml")
USER_CONFIG_NAME: Final = "dudao.toml"
ENV_PREFIX: Final = "DUDAO_"

# Field metadata: how a value is hidden in describe() and repr().
_SECRET: Final = MappingProxyType({"mask": "secret"})  # the whole value
_URL: Final = MappingProxyType({"mask": "url"})  # passwords and token parameters inside URLs

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WECHAT_MODES: Final = ("", "plain", "compatible", "safe")
# What a template message field can carry: the kind's title (督导提醒/督导通知), the message text,
# the time it is sent ([wechat_mp] *_template_fields; bot.adapters.wechat_mp.templates).
WECHAT_TEMPLATE_SOURCES: Final = ("title", "text", "time")


class ConfigError(Exception):
    """Invalid configuration. ``problems`` holds one line per problem, each naming its source."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def mask_secret(value: str) -> str:
    """``""`` stays empty; short secrets become ``***``; longer ones keep their last 2 chars."""
    if not value:
        return ""
    if len(value) >= 8:
        return "***" + value[-2:]
    return "***"


_URL_SECRET_PARAMS: Final = frozenset({"access_token", "token", "key", "secret", "password"})


def _mask_url(url: str) -> str:
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
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "***"


def _masked(value: object, how: str | None) -> object:
    if how == "secret" and isinstance(value, str):
        return mask_secret(value)
    if how == "url":
        if isinstance(value, str):
            return _mask_url(value)
        if isinstance(value, tuple):
            return tuple(_mask_url(v) if isinstance(v, str) else v for v in value)
    return value


def _plain(value: object) -> object:
    """A JSON- and TOML-friendly form of a setting value."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


class _Section:
    """Base of the section dataclasses: a ``repr`` that masks secrets, and ``describe()``."""

    __slots__ = ()
    NAME: ClassVar[str] = ""

    def describe(self) -> dict[str, object]:
        """The section's keys and values, secrets masked, in plain JSON/TOML types."""
        return {
            f.name: _plain(_masked(getattr(self, f.name), f.metadata.get("mask")))
            for f in fields(self)  # type: ignore[arg-type]
        }

    def __repr__(self) -> str:
        body = ", ".join(
            f"{f.name}={_masked(getattr(self, f.name), f.metadata.get('mask'))!r}"
            for f in fields(self)  # type: ignore[arg-type]
        )
        return f"{type(self).__name__}({body})"


@dataclass(frozen=True, slots=True, repr=False)
class ServiceSettings(_Section):
    NAME: ClassVar[str] = "service"

    timezone: str
    data_dir: Path
    log_level: str
    roster: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True, repr=False)
class HttpSettings(_Section):
    NAME: ClassVar[str] = "http"

    host: str
    port: int
    public_url: str
    max_unauthenticated_reads: int

    @property
    def base_url(self) -> str:
        """``public_url`` if set, else ``http://host:port`` (a wildcard host shown as 127.0.0.1)."""
        if self.public_url:
            return self.public_url
        host = self.host
        if host in ("", "0.0.0.0"):  # noqa: S104 - only used to build a display URL
            host = "127.0.0.1"
        elif host == "::":
            host = "[::1]"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


@dataclass(frozen=True, slots=True, repr=False)
class DatabaseSettings(_Section):
    NAME: ClassVar[str] = "database"

    url: str = field(metadata=_URL)
    busy_timeout_ms: int
    pool_size: int
    batch_max: int


@dataclass(frozen=True, slots=True, repr=False)
class OneBotSettings(_Section):
    NAME: ClassVar[str] = "onebot"

    access_token: str = field(metadata=_SECRET)
    secret: str = field(metadata=_SECRET)
    max_frame_mb: int
    action_timeout_s: float
    forward_urls: tuple[str, ...] = field(metadata=_URL)
    download_max_mb: int
    download_concurrency: int
    download_inflight_mb: int
    download_allow_hosts: tuple[str, ...]
    download_trust_impl_host: bool
    push_max_kb: int


@dataclass(frozen=True, slots=True, repr=False)
class WechatMpSettings(_Section):
    NAME: ClassVar[str] = "wechat_mp"

    app_id: str
    app_secret: str = field(metadata=_SECRET)
    token: str = field(metadata=_SECRET)
    aes_key: str = field(metadata=_SECRET)
    mode: str
    replay_window_s: int
    api_base: str
    reminder_template_id: str
    reminder_template_fields: tuple[str, ...]
    notice_template_id: str
    notice_template_fields: tuple[str, ...]
    reply_deadline_s: float
    quota_custom_per_day: int
    quota_template_per_day: int
    quota_mass_per_day: int
    quota_mass_per_month: int

    @property
    def effective_mode(self) -> str:
        """``mode`` if set, else ``safe`` when an AES key is configured, else ``plain``."""
        if self.mode:
            return self.mode
        return "safe" if self.aes_key else "plain"


@dataclass(frozen=True, slots=True, repr=False)
class WecomSettings(_Section):
    NAME: ClassVar[str] = "wecom"

    api_base: str
    per_minute: int


@dataclass(frozen=True, slots=True, repr=False)
class OutboxSettings(_Section):
    NAME: ClassVar[str] = "outbox"

    poll_interval_s: float
    account_interval_ms: int
    group_interval_ms: int
    jitter_ms: int
    broadcast_per_minute: int
    max_attempts: int
    retry_backoff_s: float
    risk_backoff_s: float
    split_chars: int


@dataclass(frozen=True, slots=True, repr=False)
class ScheduleSettings(_Section):
    NAME: ClassVar[str] = "schedule"

    enabled: bool
    work_start: time
    work_end: time
    reminders: str
    bulletin_weekday: str
    bulletin_time: time
    digest_time: time
    notice_remind: str
    halfyear_time: time

    @property
    def bulletin_weekday_index(self) -> int:
        """``bulletin_weekday`` as ``date.weekday()`` counts: Monday is 0."""
        return WEEKDAYS.index(self.bulletin_weekday)


@dataclass(frozen=True, slots=True, repr=False)
class ScoringSettings(_Section):
    NAME: ClassVar[str] = "scoring"

    red: float
    blue: float
    yellow: float
    innovation: float
    incident: float


@dataclass(frozen=True, slots=True, repr=False)
class WebSettings(_Section):
    NAME: ClassVar[str] = "web"

    secret_key: str = field(metadata=_SECRET)
    session_hours: int
    login_attempts_per_minute: int
    api_token: str = field(metadata=_SECRET)
    trust_proxy: bool


@dataclass(frozen=True, slots=True, repr=False)
class NluSettings(_Section):
    NAME: ClassVar[str] = "nlu"

    enabled: bool
    refresh_s: float
    conversation_ttl_s: float
    startup_wait_s: float


@dataclass(frozen=True, slots=True, repr=False)
class BackupSettings(_Section):
    NAME: ClassVar[str] = "backup"

    enabled: bool
    at: time
    directory: str  # "" means <data_dir>/backups (see Settings.backup_dir)
    keep: int


@dataclass(frozen=True, slots=True, repr=False)
class DocumentsSettings(_Section):
    """The official documents (公文): who issues them, their numbers, to whom they go."""

    NAME: ClassVar[str] = "documents"

    issuer: str
    mark: str
    prefix_bulletin: str
    prefix_letter: str
    prefix_halfyear: str
    prefix_cases: str
    bulletin_to: str
    halfyear_to: str
    letter_to_suffix: str
    copy_to: tuple[str, ...]
    letter_copy_to: tuple[str, ...]
    seal: bool
    dir: str

    def prefix(self, kind: str) -> str:
        """The agency code (机关代字) of a kind's document numbers."""
        value = getattr(self, f"prefix_{kind}", None)
        if not isinstance(value, str):
            raise KeyError(f"no document number prefix for kind {kind!r}")
        return value


@dataclass(frozen=True, slots=True)
class Settings:
    """The whole configuration. Build it with :func:`load_settings`."""

    admins: tuple[str, ...]
    service: ServiceSettings
    http: HttpSettings
    database: DatabaseSettings
    onebot: OneBotSettings
    wechat_mp: WechatMpSettings
    wecom: WecomSettings
    outbox: OutboxSettings
    schedule: ScheduleSettings
    scoring: ScoringSettings
    web: WebSettings
    nlu: NluSettings
    backup: BackupSettings
    documents: DocumentsSettings
    # Where the values came from, in order of precedence (for `dudao config check`).
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def database_url(self) -> str:
        """``[database] url``, or SQLite at ``<data_dir>/dudao.db`` when it is empty."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.service.data_dir / 'dudao.db').as_posix()}"

    @property
    def backup_dir(self) -> Path:
        """``[backup] directory``, or ``<data_dir>/backups`` when it is empty."""
        if self.backup.directory:
            return Path(self.backup.directory)
        return self.service.data_dir / "backups"

    def sections(self) -> Iterator[_Section]:
        for name in _SECTIONS:
            section = getattr(self, name)
            assert isinstance(section, _Section)
            yield section

    def describe(self) -> dict[str, dict[str, object]]:
        """The effective configuration with secrets masked.

        Keyed by section name; the top-level keys (``admins``) are under the empty name ``""``.
        """
        out: dict[str, dict[str, object]] = {"": {"admins": list(self.admins)}}
        for section in self.sections():
            out[section.NAME] = section.describe()
        return out

    def to_toml(self) -> str:
        """The effective configuration as TOML text, secrets masked (for `dudao config check`)."""
        described = self.describe()
        lines = [f"{key} = {_toml_value(value)}" for key, value in described.pop("").items()]
        for name, values in described.items():
            lines.append("")
            lines.append(f"[{name}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


# --------------------------------------------------------------------------- schema


def _section_types() -> Mapping[str, type[_Section]]:
    hints = get_type_hints(Settings)
    return MappingProxyType(
        {
            f.name: hints[f.name]
            for f in fields(Settings)
            if isinstance(hints[f.name], type) and issubclass(hints[f.name], _Section)
        }
    )


_SECTIONS: Final = _section_types()
_TOP_LEVEL: Final = ("admins",)
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
class _Key:
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


def _schema() -> Mapping[str, Mapping[str, _Key]]:
    out: dict[str, Mapping[str, _Key]] = {}
    root_hints = get_type_hints(Settings)
    out[""] = MappingProxyType(
        {name: _Key("", name, _KIND_BY_TYPE[root_hints[name]], None) for name in _TOP_LEVEL}
    )
    for section, cls in _SECTIONS.items():
        hints = get_type_hints(cls)
        out[section] = MappingProxyType(
            {
                f.name: _Key(section, f.name, _KIND_BY_TYPE[hints[f.name]], f.metadata.get("mask"))
                for f in fields(cast(Any, cls))
            }
        )
    return MappingProxyType(out)


_SCHEMA: Final = _schema()
# Longest first, so that DUDAO_WECHAT_MP_APP_ID is read as [wechat_mp] app_id.
_ENV_SECTIONS: Final = tuple(sorted(_SECTIONS, key=len, reverse=True))


def env_var_name(section: str, key: str) -> str:
    """The environment variable overriding a key: ``env_var_name("http", "port")`` →
    ``DUDAO_HTTP_PORT``; top-level keys have ``section=""``."""
    return (
        f"{ENV_PREFIX}{section.upper()}_{key.upper()}" if section else f"{ENV_PREFIX}{key.upper()}"
    )


def settings_keys() -> dict[str, tuple[str, ...]]:
    """Every known key by section (``""`` for top-level keys), in declaration order."""
    return {section: tuple(keys) for section, keys in _SCHEMA.items()}


def secret_keys() -> tuple[tuple[str, str], ...]:
    """``(section, key)`` of every setting masked as a secret."""
    return tuple(
        (k.section, k.name)
        for keys in _SCHEMA.values()
        for k in keys.values()
        if k.mask == "secret"
    )


# --------------------------------------------------------------------------- conversion


class _Invalid(Exception):
    """One value is wrong; the message does not name the key (the caller adds it)."""


def _describe_got(value: object, key: _Key) -> str:
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


def _from_toml(key: _Key, value: object) -> object:
    """A value read from a TOML file, checked against the key's type."""
    kind = key.kind
    ok: object = None
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        ok = value
    elif kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _Invalid(f"expected a finite number, got {value!r}")
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
        raise _Invalid(f"expected {_EXPECTED[kind]}, got {_describe_got(value, key)}")
    return ok


def _from_env(key: _Key, text: str) -> object:
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
        raise _Invalid(f"expected {_ENV_EXPECTED[kind]}, got {got}") from None


# --------------------------------------------------------------------------- validation

_Check = Callable[[Any], Any]


def _between(low: float, high: float | None = None) -> _Check:
    def check(value: Any) -> Any:
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise _Invalid(f"must be {bound}, got {value!r}")
        return value

    return check


def _positive(value: Any) -> Any:
    if value <= 0:
        raise _Invalid(f"must be greater than 0, got {value!r}")
    return value


def _one_of(choices: tuple[str, ...], *, fold: Callable[[str], str] = str.lower) -> _Check:
    def check(value: Any) -> Any:
        folded = fold(value.strip())
        if folded not in choices:
            shown = ", ".join(f'"{c}"' for c in choices)
            raise _Invalid(f"must be one of {shown}, got {json.dumps(value, ensure_ascii=False)}")
        return folded

    return check


def _timezone(value: Any) -> Any:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _Invalid(
            f"unknown time zone {json.dumps(value, ensure_ascii=False)} "
            '(use an IANA name such as "Asia/Shanghai")'
        ) from None
    return name


def _non_empty(value: Any) -> Any:
    if not value.strip():
        raise _Invalid("must not be empty")
    return value.strip()


def _url(*schemes: str, allow_empty: bool = True) -> _Check:
    def check(value: Any) -> Any:
        url = value.strip()
        if not url and allow_empty:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in schemes or not parts.netloc:
            wanted = " or ".join(f"{s}://" for s in schemes)
            raise _Invalid(f"expected a URL starting with {wanted}, got {_mask_url(url)!r}")
        return url.rstrip("/")

    return check


def _url_list(*schemes: str) -> _Check:
    single = _url(*schemes, allow_empty=False)

    def check(value: Any) -> Any:
        return tuple(single(v) for v in value)

    return check


def _allow_hosts(value: Any) -> Any:
    # The same reading as bot.adapters.onebot.url_policy.AllowEntry (config stays free of
    # imports from bot/): host, host:port, an address or network, [v6]:port.
    out: list[str] = []
    for item in value:
        text = item.strip().lower()
        host, port = text, ""
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":")
        elif text.count(":") == 1:
            host, _, port = text.partition(":")
        ok = bool(host) and (not port or (port.isdigit() and 0 < int(port) < 65536))
        if ok:
            try:
                ipaddress.ip_network(host, strict=False)
            except ValueError:
                ok = re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?", host) is not None
        if not ok:
            raise _Invalid(
                "expected hosts such as \"127.0.0.1:6099\", \"napcat\", \"172.17.0.0/16\" or "
                f"\"[::1]:6099\", got {json.dumps(item, ensure_ascii=False)}"
            )
        out.append(text)
    return tuple(out)


def _database_url(value: Any) -> Any:
    url = value.strip()
    if url and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise _Invalid(
            "expected a database URL such as sqlite:///data/dudao.db or "
            "postgresql://user:password@host/dudao, or empty for the default"
        )
    return url


_IDENTITY_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9_]*):([^\s:]+)")


def _identities(value: Any) -> Any:
    out: list[str] = []
    for item in value:
        match = _IDENTITY_RE.fullmatch(item.strip())
        if not match:
            raise _Invalid(
                f"expected identities written platform:id (e.g. qq:10001), "
                f"got {json.dumps(item, ensure_ascii=False)}"
            )
        identity = f"{match.group(1).lower()}:{match.group(2)}"
        if identity not in out:
            out.append(identity)
    return tuple(out)


_BEFORE_RE: Final = re.compile(r"\d+(?:\s*[,，]\s*\d+)*")
_OVERDUE_RE: Final = re.compile(r"overdue\s*=\s*(\d+)\s*[x×*]\s*(\d+)")
_POLICY_EXAMPLE: Final = '(e.g. "7,3,1;due;overdue=2x3;escalate", "default" or "none")'


def _reminder_policy(value: Any) -> Any:
    """The same syntax ``bot.domain.reminders.ReminderPolicy.parse`` reads."""
    text = value.strip()
    if text.lower() in ("default", "none"):
        return text.lower()
    parts = [p.strip().lower() for p in re.split(r"[;；]", text) if p.strip()]
    if not parts:
        raise _Invalid(f"must not be empty {_POLICY_EXAMPLE}")
    seen: set[str] = set()
    for part in parts:
        if _BEFORE_RE.fullmatch(part):
            kind = "days before"
            days = [int(x) for x in re.split(r"\s*[,，]\s*", part)]
            if any(d < 1 for d in days) or len(set(days)) != len(days):
                raise _Invalid(f'days before the deadline must be distinct and >= 1: "{part}"')
        elif part in ("due", "escalate"):
            kind = part
        elif match := _OVERDUE_RE.fullmatch(part):
            kind = "overdue"
            if int(match.group(1)) < 1:
                raise _Invalid(f'overdue urging needs an interval of at least 1 day: "{part}"')
        else:
            raise _Invalid(f'cannot read "{part}" {_POLICY_EXAMPLE}')
        if kind in seen:
            raise _Invalid(f'"{kind}" appears twice {_POLICY_EXAMPLE}')
        seen.add(kind)
    return text


_WEEKDAY_NAMES: Final = MappingProxyType(
    {
        **{d: d for d in WEEKDAYS},
        **dict(
            zip(
                ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
                WEEKDAYS,
                strict=True,
            )
        ),
        **{f"周{c}": d for c, d in zip("一二三四五六日", WEEKDAYS, strict=True)},
        **{f"星期{c}": d for c, d in zip("一二三四五六日", WEEKDAYS, strict=True)},
    }
)


def _weekday(value: Any) -> Any:
    day = _WEEKDAY_NAMES.get(value.strip().lower())
    if day is None:
        raise _Invalid(
            "expected a weekday (mon, tue, wed, thu, fri, sat, sun), "
            f"got {json.dumps(value, ensure_ascii=False)}"
        )
    return day


def _roster(value: Any) -> Any:
    from config.roster import available_rosters  # roster imports nothing from here; lazily anyway

    name = value.strip()
    if not name or "/" in name or "\\" in name or "." in name:
        return name  # none, or a file path checked when the roster is loaded
    names = available_rosters()
    if name not in names:
        raise _Invalid(
            f'unknown bundled roster "{name}" (bundled: {", ".join(names)}; '
            'or give a path to a .toml/.csv/.xlsx file, or "" for none)'
        )
    return name


_TEMPLATE_FIELD_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9_]*)\s*=\s*([a-z]+)")


def _template_fields(value: Any) -> Any:
    """``keyword=source`` pairs; see ``bot.adapters.wechat_mp.templates``."""
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        match = _TEMPLATE_FIELD_RE.fullmatch(item.strip())
        if not match or match.group(2) not in WECHAT_TEMPLATE_SOURCES:
            raise _Invalid(
                f"expected keyword=source with source one of {', '.join(WECHAT_TEMPLATE_SOURCES)}"
                f" (e.g. \"thing1=title\"), got {json.dumps(item, ensure_ascii=False)}"
            )
        if match.group(1) in seen:
            raise _Invalid(f'template keyword "{match.group(1)}" appears twice')
        seen.add(match.group(1))
        out.append(f"{match.group(1)}={match.group(2)}")
    return tuple(out)


_NOTICE_REMIND_RE: Final = re.compile(r"(\d+)\s*(?:[x×*]\s*(\d+))?")


def _notice_remind(value: Any) -> Any:
    """The syntax ``bot.domain.notice_reminders.NoticeReminderPolicy.parse`` reads, normalised."""
    text = value.strip().lower()
    if text in ("none", "off", "0"):
        return "none"
    match = _NOTICE_REMIND_RE.fullmatch(text)
    if match is None:
        raise _Invalid(f'expected "HOURSxTIMES" (e.g. "4x2") or "none", got {value!r}')
    hours, times = int(match.group(1)), int(match.group(2) or 1)
    return "none" if hours == 0 or times == 0 else f"{hours}x{times}"


def _doc_prefix(value: Any) -> Any:
    # The agency code is followed by the year in 六角括号: brackets or a final digit inside it
    # would make numbers nobody can read back (豫办2〔2027〕3号).
    if not value.strip() or any(c in value for c in "〔〕[]()（）") or value.strip()[-1].isdigit():
        raise _Invalid(f"must be an agency code without brackets or a final digit, got {value!r}")
    if len(value.strip()) > 40:
        raise _Invalid(f"must be at most 40 characters, got {len(value.strip())}")
    return value.strip()


def _aes_key(value: Any) -> Any:
    if value and len(value) != 43:
        raise _Invalid(f"the EncodingAESKey must be 43 characters long, got {len(value)}")
    return value


_CHECKS: Final[Mapping[tuple[str, str], _Check]] = MappingProxyType(
    {
        ("", "admins"): _identities,
        ("service", "timezone"): _timezone,
        ("service", "log_level"): _one_of(LOG_LEVELS, fold=str.upper),
        ("service", "roster"): _roster,
        ("http", "host"): _non_empty,
        ("http", "port"): _between(1, 65535),
        ("http", "public_url"): _url("http", "https"),
        ("http", "max_unauthenticated_reads"): _between(1),
        ("database", "url"): _database_url,
        ("database", "busy_timeout_ms"): _between(0),
        ("database", "pool_size"): _between(1),
        ("database", "batch_max"): _between(1),
        ("onebot", "max_frame_mb"): _between(1),
        ("onebot", "action_timeout_s"): _positive,
        ("onebot", "forward_urls"): _url_list("ws", "wss"),
        ("onebot", "download_max_mb"): _between(1),
        ("onebot", "download_concurrency"): _between(1),
        ("onebot", "download_inflight_mb"): _between(1),
        ("onebot", "download_allow_hosts"): _allow_hosts,
        ("onebot", "push_max_kb"): _between(16),
        ("wechat_mp", "aes_key"): _aes_key,
        ("wechat_mp", "mode"): _one_of(WECHAT_MODES),
        ("wechat_mp", "replay_window_s"): _between(1),
        ("wechat_mp", "api_base"): _url("http", "https", allow_empty=False),
        ("wechat_mp", "reply_deadline_s"): _between(0.1, 4.9),
        ("wechat_mp", "reminder_template_fields"): _template_fields,
        ("wechat_mp", "notice_template_fields"): _template_fields,
        ("wechat_mp", "quota_custom_per_day"): _between(0),
        ("wechat_mp", "quota_template_per_day"): _between(0),
        ("wechat_mp", "quota_mass_per_day"): _between(0),
        ("wechat_mp", "quota_mass_per_month"): _between(0),
        ("wecom", "api_base"): _url("http", "https", allow_empty=False),
        ("wecom", "per_minute"): _between(1),
        ("outbox", "poll_interval_s"): _positive,
        ("outbox", "account_interval_ms"): _between(0),
        ("outbox", "group_interval_ms"): _between(0),
        ("outbox", "jitter_ms"): _between(0),
        ("outbox", "broadcast_per_minute"): _between(1),
        ("outbox", "max_attempts"): _between(1),
        ("outbox", "retry_backoff_s"): _between(0),
        ("outbox", "risk_backoff_s"): _between(0),
        ("outbox", "split_chars"): _between(50),
        ("schedule", "reminders"): _reminder_policy,
        ("schedule", "bulletin_weekday"): _weekday,
        ("schedule", "notice_remind"): _notice_remind,
        ("scoring", "innovation"): _positive,
        ("scoring", "incident"): _positive,
        ("nlu", "refresh_s"): _positive,
        ("backup", "keep"): _between(1),
        ("documents", "issuer"): _non_empty,
        ("documents", "prefix_bulletin"): _doc_prefix,
        ("documents", "prefix_letter"): _doc_prefix,
        ("documents", "prefix_halfyear"): _doc_prefix,
        ("documents", "prefix_cases"): _doc_prefix,
        ("nlu", "conversation_ttl_s"): _positive,
        ("nlu", "startup_wait_s"): _between(0),
        ("web", "session_hours"): _between(1),
        ("web", "login_attempts_per_minute"): _between(1),
    }
)


# --------------------------------------------------------------------------- loading


def _suggest(word: str, choices: Iterator[str] | tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else ""


class _Layers:
    """The merged values and, for each, the source that set it last."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], object] = {}
        self.origin: dict[tuple[str, str], str] = {}
        self.problems: list[str] = []
        self.sources: list[str] = []

    def apply_table(self, data: Mapping[str, Any], source: str) -> None:
        for name, value in data.items():
            if name in _SECTIONS:
                if not isinstance(value, dict):
                    self.problems.append(f"{source}: [{name}] must be a table, got {value!r}")
                    continue
                for key_name, item in value.items():
                    self._apply_file_value(name, key_name, item, source)
            elif name in _SCHEMA[""]:
                self._apply_file_value("", name, value, source)
            elif isinstance(value, dict):
                hint = _suggest(name, list(_SECTIONS))
                tip = f" (did you mean [{hint}]?)" if hint else ""
                self.problems.append(f"{source}: unknown section [{name}]{tip}")
            else:
                hint = _suggest(name, list(_SCHEMA[""]))
                tip = f" (did you mean {hint}?)" if hint else ""
                self.problems.append(f"{source}: unknown key {name}{tip}")

    def _apply_file_value(self, section: str, name: str, value: object, source: str) -> None:
        keys = _SCHEMA[section]
        key = keys.get(name)
        if key is None:
            hint = _suggest(name, list(keys))
            tip = f" (did you mean {hint}?)" if hint else ""
            where = f"[{section}] {name}" if section else name
            self.problems.append(f"{source}: unknown key {where}{tip}")
            return
        try:
            self.values[section, name] = _from_toml(key, value)
        except _Invalid as exc:
            self.problems.append(f"{source}: {key.label}: {exc}")
            return
        self.origin[section, name] = source

    def apply_environ(self, environ: Mapping[str, str]) -> None:
        used: list[str] = []
        for var in sorted(environ):
            if not var.upper().startswith(ENV_PREFIX):
                continue
            rest = var[len(ENV_PREFIX) :].upper()
            section, name = self._env_target(rest)
            if section is None:
                continue  # DUDAO_CONFIG, DUDAO_TEST_PG_URL…: not a setting, not ours to judge
            key = _SCHEMA[section].get(name)
            if key is None:
                hint = _suggest(name, list(_SCHEMA[section]))
                tip = f" (did you mean {env_var_name(section, hint)}?)" if hint else ""
                self.problems.append(f"{var}: unknown key [{section}] {name}{tip}")
                continue
            try:
                self.values[section, name] = _from_env(key, environ[var])
            except _Invalid as exc:
                self.problems.append(f"{var}: {exc}")
                continue
            self.origin[section, name] = var
            used.append(var)
        if used:
            self.sources.append("environment (" + ", ".join(used) + ")")

    @staticmethod
    def _env_target(rest: str) -> tuple[str | None, str]:
        for section in _ENV_SECTIONS:
            prefix = section.upper() + "_"
            if rest.startswith(prefix) and len(rest) > len(prefix):
                return section, rest[len(prefix) :].lower()
        if rest.lower() in _SCHEMA[""]:
            return "", rest.lower()
        return None, ""

    def check(self) -> None:
        for (section, name), check in _CHECKS.items():
            if (section, name) not in self.values:
                continue
            try:
                self.values[section, name] = check(self.values[section, name])
            except _Invalid as exc:
                self.problems.append(self._where(section, name) + f"{exc}")
        self._check_together()

    def _where(self, section: str, name: str) -> str:
        source = self.origin.get((section, name), "?")
        if source.startswith(ENV_PREFIX):
            return f"{source}: "
        return f"{source}: {_SCHEMA[section][name].label}: "

    def _check_together(self) -> None:
        start = self.values.get(("schedule", "work_start"))
        end = self.values.get(("schedule", "work_end"))
        if isinstance(start, time) and isinstance(end, time) and not start < end:
            self.problems.append(
                self._where("schedule", "work_end")
                + f"must be later than [schedule] work_start ({start:%H:%M}), got {end:%H:%M}"
            )
        mode = self.values.get(("wechat_mp", "mode"))
        if mode in ("compatible", "safe") and not self.values.get(("wechat_mp", "aes_key")):
            self.problems.append(
                self._where("wechat_mp", "mode")
                + f'"{mode}" needs [wechat_mp] aes_key (the EncodingAESKey from the console)'
            )


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text (save the file as UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load the effective settings.

    ``path`` is the user's file (``--config``); it must exist. Without it ``./dudao.toml`` (in
    ``cwd``, default the working directory) is read if present. ``environ`` defaults to
    ``os.environ``; pass ``{}`` to ignore the environment. ``overrides`` is a TOML-shaped mapping
    applied last (``{"http": {"port": 9000}}``), for tests and embedding. A relative ``data_dir``
    is resolved against ``cwd``. Raises :class:`ConfigError` listing every problem.
    """
    base = Path.cwd() if cwd is None else cwd
    layers = _Layers()

    defaults = _read_toml(DEFAULT_CONFIG_PATH, DEFAULT_CONFIG_PATH.name)
    layers.apply_table(defaults, DEFAULT_CONFIG_PATH.name)
    layers.sources.append(str(DEFAULT_CONFIG_PATH))
    missing = [
        _SCHEMA[s][k].label for s in _SCHEMA for k in _SCHEMA[s] if (s, k) not in layers.values
    ]
    if missing:  # a broken installation, not a user error, but say so clearly
        layers.problems.append(f"{DEFAULT_CONFIG_PATH.name}: no default for {', '.join(missing)}")

    if path is not None:
        user_path = path if path.is_absolute() else base / path
        if not user_path.is_file():
            raise ConfigError(f"{path}: config file not found")
        layers.apply_table(_read_toml(user_path, str(path)), str(path))
        layers.sources.append(str(user_path))
    elif (base / USER_CONFIG_NAME).is_file():
        layers.apply_table(_read_toml(base / USER_CONFIG_NAME, USER_CONFIG_NAME), USER_CONFIG_NAME)
        layers.sources.append(str(base / USER_CONFIG_NAME))

    layers.apply_environ(os.environ if environ is None else environ)
    if overrides:
        layers.apply_table(overrides, "overrides")
        layers.sources.append("overrides")

    layers.check()
    if layers.problems:
        raise ConfigError(layers.problems)

    values = layers.values
    data_dir = values["service", "data_dir"]
    assert isinstance(data_dir, Path)
    if not data_dir.is_absolute():
        values["service", "data_dir"] = Path(os.path.abspath(base / data_dir))
    backup_dir = values["backup", "directory"]
    assert isinstance(backup_dir, str)
    if backup_dir.strip() and not Path(backup_dir.strip()).is_absolute():
        values["backup", "directory"] = os.path.abspath(base / backup_dir.strip())

    sections: dict[str, _Section] = {
        name: cls(**{key: values[name, key] for key in _SCHEMA[name]})
        for name, cls in _SECTIONS.items()
    }
    admins = values["", "admins"]
    assert isinstance(admins, tuple)
    return Settings(admins=admins, sources=tuple(layers.sources), **sections)  # type: ignore[arg-type]

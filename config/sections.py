"""The settings' sections: one frozen dataclass per ``[section]`` of the TOML, and ``Settings``.

A new key is a field here (its type decides how it is read: config/schema.py), its default and
comment in config/default.toml, and a check in config/validate.py if its type is not enough.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from config.masking import masked

# Field metadata: how a value is hidden in describe() and repr().
_SECRET: Final = MappingProxyType({"mask": "secret"})  # the whole value
_URL: Final = MappingProxyType({"mask": "url"})  # passwords and token parameters inside URLs

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WECHAT_MODES: Final = ("", "plain", "compatible", "safe")
# What a template message field can carry: the kind's title (督导提醒/督导通知), the message text,
# the time it is sent ([wechat_mp] *_template_fields; bot.adapters.wechat_mp.templates).
WECHAT_TEMPLATE_SOURCES: Final = ("title", "text", "time")


def _plain(value: object) -> object:
    """A JSON- and TOML-friendly form of a setting value."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


class Section:
    """Base of the section dataclasses: a ``repr`` that masks secrets, and ``describe()``."""

    __slots__ = ()
    NAME: ClassVar[str] = ""

    def describe(self) -> dict[str, object]:
        """The section's keys and values, secrets masked, in plain JSON/TOML types."""
        return {
            f.name: _plain(masked(getattr(self, f.name), f.metadata.get("mask")))
            for f in fields(self)  # type: ignore[arg-type]
        }

    def __repr__(self) -> str:
        body = ", ".join(
            f"{f.name}={masked(getattr(self, f.name), f.metadata.get('mask'))!r}"
            for f in fields(self)  # type: ignore[arg-type]
        )
        return f"{type(self).__name__}({body})"


@dataclass(frozen=True, slots=True, repr=False)
class ServiceSettings(Section):
    NAME: ClassVar[str] = "service"

    timezone: str
    data_dir: Path
    log_level: str
    roster: str
    adapters: tuple[str, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True, repr=False)
class HttpSettings(Section):
    NAME: ClassVar[str] = "http"

    host: str
    port: int
    public_url: str
    max_unauthenticated_reads: int

    def public_url_missing(self, host: str | None = None) -> bool:
        """No ``public_url`` while listening beyond loopback (``host``, else ``[http] host``):
        people reach the service from other machines, but the links it writes (bulletins,
        read-only board links) would name 127.0.0.1."""
        if self.public_url:
            return False
        listen = (self.host if host is None else host).strip("[]").lower()
        if listen == "localhost":
            return False
        try:
            return not ipaddress.ip_address(listen).is_loopback
        except ValueError:
            return True  # a host name: reachable by that name from elsewhere

    @property
    def links_are_local(self) -> bool:
        """The links the service writes name this machine only (no ``public_url``, and the
        host is a loopback or wildcard address, shown as 127.0.0.1)."""
        if self.public_url:
            return False
        host = self.host.strip("[]").lower()
        if host in ("", "0.0.0.0", "::", "localhost"):  # noqa: S104 - a display rule
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

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
class DatabaseSettings(Section):
    NAME: ClassVar[str] = "database"

    url: str = field(metadata=_URL)
    busy_timeout_ms: int
    pool_size: int
    batch_max: int


@dataclass(frozen=True, slots=True, repr=False)
class OneBotSettings(Section):
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
class WechatMpSettings(Section):
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
class WecomSettings(Section):
    NAME: ClassVar[str] = "wecom"

    api_base: str
    per_minute: int


@dataclass(frozen=True, slots=True, repr=False)
class OutboxSettings(Section):
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
    coalesce_acks: bool


@dataclass(frozen=True, slots=True, repr=False)
class ScheduleSettings(Section):
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
class ScoringSettings(Section):
    NAME: ClassVar[str] = "scoring"

    red: float
    blue: float
    yellow: float
    innovation: float
    incident: float


@dataclass(frozen=True, slots=True, repr=False)
class WebSettings(Section):
    NAME: ClassVar[str] = "web"

    secret_key: str = field(metadata=_SECRET)
    session_hours: int
    login_attempts_per_minute: int
    api_token: str = field(metadata=_SECRET)
    trust_proxy: bool


@dataclass(frozen=True, slots=True, repr=False)
class NluSettings(Section):
    NAME: ClassVar[str] = "nlu"

    enabled: bool
    refresh_s: float
    conversation_ttl_s: float
    startup_wait_s: float


@dataclass(frozen=True, slots=True, repr=False)
class BackupSettings(Section):
    NAME: ClassVar[str] = "backup"

    enabled: bool
    at: time
    directory: str  # "" means <data_dir>/backups (see Settings.backup_dir)
    keep: int


@dataclass(frozen=True, slots=True, repr=False)
class PlanSettings(Section):
    """The yearly plan's recurring work (series): when instances appear, when they are due."""

    NAME: ClassVar[str] = "plan"

    lead_days: int
    due_time: time


@dataclass(frozen=True, slots=True, repr=False)
class DocumentsSettings(Section):
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
    plan: PlanSettings
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

    def sections(self) -> Iterator[Section]:
        """The sections, in the order they are declared."""
        for f in fields(self):
            section = getattr(self, f.name)
            if isinstance(section, Section):
                yield section

    def describe(self, *, effective: bool = False) -> dict[str, dict[str, object]]:
        """The configuration with secrets masked.

        Keyed by section name; the top-level keys (``admins``) are under the empty name ``""``.
        With ``effective`` the keys whose empty value means a default show what is used instead
        (``[database] url``, ``[backup] directory``); without it the values read back as they
        were given.
        """
        out: dict[str, dict[str, object]] = {"": {"admins": list(self.admins)}}
        for section in self.sections():
            out[section.NAME] = section.describe()
        if effective:
            out["database"]["url"] = masked(self.database_url, "url")
            out["backup"]["directory"] = str(self.backup_dir)
        return out

    def to_toml(self, *, effective: bool = False) -> str:
        """The configuration as TOML text, secrets masked (for `dudao config check`).

        ``effective`` as for :meth:`describe`; a default used for an empty key says so in a
        comment.
        """
        described = self.describe(effective=effective)
        defaulted = {("database", "url"): not self.database.url,
                     ("backup", "directory"): not self.backup.directory} if effective else {}
        lines = [f"{key} = {_toml_value(value)}" for key, value in described.pop("").items()]
        for name, values in described.items():
            lines.append("")
            lines.append(f"[{name}]")
            lines.extend(f"{key} = {_toml_value(value)}"
                         + ("  # 未配置，使用默认值" if defaulted.get((name, key)) else "")
                         for key, value in values.items())
        return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)

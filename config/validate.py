"""Checks of values beyond their type: ranges, formats, choices, and keys that go together.

Each check takes the value already converted to its key's type and returns it, possibly
normalised (``"info"`` → ``"INFO"``), or raises :class:`config.errors.Invalid` saying why.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from datetime import time
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.errors import Invalid
from config.masking import mask_url
from config.sections import LOG_LEVELS, WECHAT_MODES, WECHAT_TEMPLATE_SOURCES, WEEKDAYS

Check = Callable[[Any], Any]


def _between(low: float, high: float | None = None) -> Check:
    def check(value: Any) -> Any:
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise Invalid(f"must be {bound}, got {value!r}")
        return value

    return check


def _positive(value: Any) -> Any:
    if value <= 0:
        raise Invalid(f"must be greater than 0, got {value!r}")
    return value


def _one_of(choices: tuple[str, ...], *, fold: Callable[[str], str] = str.lower) -> Check:
    def check(value: Any) -> Any:
        folded = fold(value.strip())
        if folded not in choices:
            shown = ", ".join(f'"{c}"' for c in choices)
            raise Invalid(f"must be one of {shown}, got {json.dumps(value, ensure_ascii=False)}")
        return folded

    return check


def _timezone(value: Any) -> Any:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(
            f"unknown time zone {json.dumps(value, ensure_ascii=False)} "
            '(use an IANA name such as "Asia/Shanghai")'
        ) from None
    return name


def _non_empty(value: Any) -> Any:
    if not value.strip():
        raise Invalid("must not be empty")
    return value.strip()


def _url(*schemes: str, allow_empty: bool = True) -> Check:
    def check(value: Any) -> Any:
        url = value.strip()
        if not url and allow_empty:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in schemes or not parts.netloc:
            wanted = " or ".join(f"{s}://" for s in schemes)
            raise Invalid(f"expected a URL starting with {wanted}, got {mask_url(url)!r}")
        return url.rstrip("/")

    return check


def _url_list(*schemes: str) -> Check:
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
            raise Invalid(
                "expected hosts such as \"127.0.0.1:6099\", \"napcat\", \"172.17.0.0/16\" or "
                f"\"[::1]:6099\", got {json.dumps(item, ensure_ascii=False)}"
            )
        out.append(text)
    return tuple(out)


def _database_url(value: Any) -> Any:
    url = value.strip()
    if url and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise Invalid(
            "expected a database URL such as sqlite:///data/dudao.db or "
            "postgresql://user:password@host/dudao, or empty for the default"
        )
    return url


_IDENTITY_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9_]*):([^\s:]+)")


_ADAPTER_RE: Final = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _adapters(value: Any) -> Any:
    # Whether a name is a built-in or an importable module is known when the service starts
    # (bot/adapters/registry.py; config imports nothing of bot/): here only its spelling.
    out: list[str] = []
    for item in value:
        name = item.strip()
        if not _ADAPTER_RE.fullmatch(name):
            raise Invalid("expected adapter names (onebot, wechat_mp, wecom_robot) or dotted "
                          f"module paths, got {json.dumps(item, ensure_ascii=False)}")
        if name in out:
            raise Invalid(f"names {name!r} twice")
        out.append(name)
    return tuple(out)


def _identities(value: Any) -> Any:
    out: list[str] = []
    for item in value:
        match = _IDENTITY_RE.fullmatch(item.strip())
        if not match:
            raise Invalid(
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
        raise Invalid(f"must not be empty {_POLICY_EXAMPLE}")
    seen: set[str] = set()
    for part in parts:
        if _BEFORE_RE.fullmatch(part):
            kind = "days before"
            days = [int(x) for x in re.split(r"\s*[,，]\s*", part)]
            if any(d < 1 for d in days) or len(set(days)) != len(days):
                raise Invalid(f'days before the deadline must be distinct and >= 1: "{part}"')
        elif part in ("due", "escalate"):
            kind = part
        elif match := _OVERDUE_RE.fullmatch(part):
            kind = "overdue"
            if int(match.group(1)) < 1:
                raise Invalid(f'overdue urging needs an interval of at least 1 day: "{part}"')
        else:
            raise Invalid(f'cannot read "{part}" {_POLICY_EXAMPLE}')
        if kind in seen:
            raise Invalid(f'"{kind}" appears twice {_POLICY_EXAMPLE}')
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
        raise Invalid(
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
        raise Invalid(
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
            raise Invalid(
                f"expected keyword=source with source one of {', '.join(WECHAT_TEMPLATE_SOURCES)}"
                f" (e.g. \"thing1=title\"), got {json.dumps(item, ensure_ascii=False)}"
            )
        if match.group(1) in seen:
            raise Invalid(f'template keyword "{match.group(1)}" appears twice')
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
        raise Invalid(f'expected "HOURSxTIMES" (e.g. "4x2") or "none", got {value!r}')
    hours, times = int(match.group(1)), int(match.group(2) or 1)
    return "none" if hours == 0 or times == 0 else f"{hours}x{times}"


def _doc_prefix(value: Any) -> Any:
    # The agency code is followed by the year in 六角括号: brackets or a final digit inside it
    # would make numbers nobody can read back (豫办2〔2027〕3号).
    if not value.strip() or any(c in value for c in "〔〕[]()（）") or value.strip()[-1].isdigit():
        raise Invalid(f"must be an agency code without brackets or a final digit, got {value!r}")
    if len(value.strip()) > 40:
        raise Invalid(f"must be at most 40 characters, got {len(value.strip())}")
    return value.strip()


def _aes_key(value: Any) -> Any:
    if value and len(value) != 43:
        raise Invalid(f"the EncodingAESKey must be 43 characters long, got {len(value)}")
    return value


CHECKS: Final[Mapping[tuple[str, str], Check]] = MappingProxyType(
    {
        ("", "admins"): _identities,
        ("service", "timezone"): _timezone,
        ("service", "log_level"): _one_of(LOG_LEVELS, fold=str.upper),
        ("service", "roster"): _roster,
        ("service", "adapters"): _adapters,
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
        ("nlu", "conversation_ttl_s"): _positive,
        ("nlu", "startup_wait_s"): _between(0),
        ("backup", "keep"): _between(1),
        ("plan", "lead_days"): _between(0, 366),
        ("documents", "issuer"): _non_empty,
        ("documents", "prefix_bulletin"): _doc_prefix,
        ("documents", "prefix_letter"): _doc_prefix,
        ("documents", "prefix_halfyear"): _doc_prefix,
        ("documents", "prefix_cases"): _doc_prefix,
        ("web", "session_hours"): _between(1),
        ("web", "login_attempts_per_minute"): _between(1),
    }
)


def check_together(values: Mapping[tuple[str, str], object]) -> list[tuple[str, str, str]]:
    """Problems of keys that are only wrong together: ``(section, key, message)`` each."""
    problems: list[tuple[str, str, str]] = []
    start = values.get(("schedule", "work_start"))
    end = values.get(("schedule", "work_end"))
    if isinstance(start, time) and isinstance(end, time) and not start < end:
        problems.append(("schedule", "work_end", f"must be later than [schedule] work_start "
                                                 f"({start:%H:%M}), got {end:%H:%M}"))
    mode = values.get(("wechat_mp", "mode"))
    if mode in ("compatible", "safe") and not values.get(("wechat_mp", "aes_key")):
        problems.append(("wechat_mp", "mode", f'"{mode}" needs [wechat_mp] aes_key '
                                              "(the EncodingAESKey from the console)"))
    return problems

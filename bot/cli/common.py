"""What every command shares: its settings, its errors, reading a time, writing text or JSON."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from bot.cli import logs
from config.settings import Settings, load_settings

CLI_ACTOR = f"cli:{os.environ.get('USER', 'root')}"

Command = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """Bad input or a refusal: ``错误：<message>`` on stderr and ``status`` as the exit code."""

    def __init__(self, message: str, *, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class Subcommands(Protocol):
    """The object ``ArgumentParser.add_subparsers()`` returns."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, with an option's default after its help (argparse hides it).

    Only where a default says something: not for flags (False) or options without one (None or
    ""), nor where the help already names it.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (not action.option_strings or default is None or default is False or default == ""
                or default is argparse.SUPPRESS or "默认" in text or "%(default)" in text):
            return text
        return f"{text}（默认 %(default)s）"


def group(sub: Subcommands, name: str, help_: str) -> Subcommands:
    """A command group (``dudao unit …``) whose subcommands are added with :func:`leaf`."""
    parser = sub.add_parser(name, help=help_, formatter_class=HelpFormatter)
    subcommands: Subcommands = parser.add_subparsers(dest="sub", required=True)
    return subcommands


def leaf(parent: Subcommands, name: str, fn: Command, help_: str, *,
         json_: bool = True) -> argparse.ArgumentParser:
    """A command that runs ``fn``; with ``--json`` (after the subcommand) unless ``json_=False``."""
    parser = parent.add_parser(name, help=help_, description=help_, formatter_class=HelpFormatter)
    parser.set_defaults(fn=fn)
    if json_:
        parser.add_argument("--json", action="store_true", help="机器可读的 JSON 输出")
    return parser


def load(args: argparse.Namespace) -> Settings:
    """The settings named by ``--config`` (else ./dudao.toml and the environment).

    From here on the log's timestamps are in the configured time zone.
    """
    settings = load_settings(Path(args.config) if args.config else None)
    logs.use_time_zone(settings.service.tz)
    return settings


def parse_time(text: str, settings: Settings, *, deadline: bool = False) -> datetime:
    """An ISO time (``2026-09-30T18:00+08:00``); without an offset, in the service's zone.

    ``deadline``: a date alone (``2026-12-20``) is that day at ``[plan] due_time`` (18:00), the
    time chat and the plan import take for a deadline without one — not midnight.
    """
    raw = text.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CliError(f"时间格式不对：{text!r}，应写作 2026-09-30T18:00+08:00") from exc
    if deadline and "T" not in raw:
        moment = datetime.combine(moment.date(), settings.plan.due_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.service.tz)
    return moment


def jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit(args: argparse.Namespace, records: Any, text: str) -> None:
    """``records`` as JSON with ``--json``, else ``text``."""
    if getattr(args, "json", False):
        print(json.dumps(jsonable(records), ensure_ascii=False, indent=2))
    else:
        print(text)


def public_url_warning(settings: Settings, host: str | None = None) -> str | None:
    """One line for the operator when the service is reached from other machines but the links
    it writes would name 127.0.0.1 (``[http] public_url`` unset); None when all is well."""
    if not settings.http.public_url_missing(host):
        return None
    listen = settings.http.host if host is None else host
    return (f"警告：服务在 {listen or '所有地址'} 上监听，但未配置 [http] public_url"
            f"（环境变量 DUDAO_HTTP_PUBLIC_URL）：通报和看板链接会写成 {settings.http.base_url}，"
            "别的电脑打不开；请设为对外地址，如 https://dudao.example.gov.cn")

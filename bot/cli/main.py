"""The ``dudao`` command line: its parser, and how a command's end becomes an exit status."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli import (
    backup,
    cases,
    config_check,
    documents,
    export,
    groups,
    logs,
    notices,
    people,
    plans,
    serve,
    sites,
    submissions,
    tasks,
    tick,
    tokens,
    units,
    wechat,
)
from bot.cli.common import CliError, HelpFormatter
from bot.domain.errors import DomainError
from config.settings import ConfigError
from storage.service_lock import LockBusy, LockError

log = logging.getLogger("dudao.cli")

# In the order `dudao --help` lists them.
COMMAND_GROUPS = (serve, config_check, units, people, groups, tasks, plans, submissions, notices,
                  export, tick, documents, wechat, backup, tokens, cases, sites)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dudao", description="督导：督导工作群机器人服务",
                                formatter_class=HelpFormatter)
    p.add_argument("--config", help="TOML 配置文件（默认 ./dudao.toml）")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    for module in COMMAND_GROUPS:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.command, verbose=args.verbose)
    try:
        status: int = args.fn(args)
        sys.stdout.flush()  # a reader that went away shows here, not at exit
        return status
    except BrokenPipeError:
        # `dudao unit list | head`: the reader has what it wanted; the work itself is done.
        _discard_stdout()
        return 0
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.status
    except ConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2
    except LockError as exc:
        log.info("%s", exc)
        if isinstance(exc, LockBusy) and exc.restoring:
            print("错误：数据库正在恢复（dudao restore 正在运行），请等恢复完成后再试", file=sys.stderr)
        else:
            print(f"错误：无法锁定数据库：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor behind sys.stdout (embedded, tests)
        pass

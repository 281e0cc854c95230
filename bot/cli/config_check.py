"""``dudao config check``: the effective configuration, secrets masked."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import Subcommands, group, leaf, load, public_url_warning


def cmd_config_check(args: argparse.Namespace) -> int:
    settings = load(args)
    if args.json:
        print(json.dumps(settings.describe(effective=True), ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(settings.to_toml(effective=True))
    if (warning := public_url_warning(settings)) is not None:
        print(warning, file=sys.stderr)  # stdout stays the configuration, readable as TOML
    return 0


def register(sub: Subcommands) -> None:
    cfg = group(sub, "config", "配置")
    leaf(cfg, "check", cmd_config_check, "显示生效的配置（密钥已遮盖）")

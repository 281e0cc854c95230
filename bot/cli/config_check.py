"""``dudao config check``: the effective configuration, secrets masked."""

from __future__ import annotations

import argparse
import json

from bot.cli.common import Subcommands, group, leaf, load


def cmd_config_check(args: argparse.Namespace) -> int:
    settings = load(args)
    if args.json:
        print(json.dumps(settings.describe(effective=True), ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(settings.to_toml(effective=True))
    return 0


def register(sub: Subcommands) -> None:
    cfg = group(sub, "config", "配置")
    leaf(cfg, "check", cmd_config_check, "显示生效的配置（密钥已遮盖）")

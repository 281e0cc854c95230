"""The ``dudao`` command (DESIGN §5): one module per command group.

Every admin subcommand takes ``--json`` after the subcommand, exits non-zero with a clear message
on bad input, changes nothing when it fails (one transaction), and writes the audit log. Each
runs in one admin session (bot/cli/session.py) that opens the database and the service lock and
closes them however the command ends.
"""

from __future__ import annotations

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

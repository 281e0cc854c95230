"""The configuration's errors: one for the whole load, one for a single value."""

from __future__ import annotations


class ConfigError(Exception):
    """Invalid configuration. ``problems`` holds one line per problem, each naming its source."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Invalid(Exception):
    """One value is wrong; the message does not name the key (the caller adds it)."""

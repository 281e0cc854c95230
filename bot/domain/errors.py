"""Errors the domain raises on purpose.

A ``DomainError`` is an expected refusal (unknown unit, not allowed, bad date…). Its ``message`` is
Chinese text fit to show the person who asked; ``log`` is an English line for the log. Anything
that is not a ``DomainError`` is a bug and is reported as one.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, log: str | None = None) -> None:
        super().__init__(log or message)
        self.message = message
        self.log = log or message


class NotFound(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class Conflict(DomainError):
    pass

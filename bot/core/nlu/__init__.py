"""The language layer: decides what a chat message asks (intent + slots); never answers."""

from .model import Intent, Parse, TaskName, UnitName, Vocabulary
from .parser import Parser

__all__ = ["Intent", "Parse", "Parser", "TaskName", "UnitName", "Vocabulary"]

"""The language layer: decides what a chat message asks (intent, slots, a query frame); never
answers."""

from .frame import Form, Query, State
from .model import Intent, Parse, TaskName, UnitName, Vocabulary
from .parser import Parser

__all__ = ["Form", "Intent", "Parse", "Parser", "Query", "State", "TaskName", "UnitName",
           "Vocabulary"]

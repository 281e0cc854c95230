"""What the language layer knows by name: the active units and the open tasks.

Read by the parser's builder and refresher (``bot/pipeline/language.py``) and by the command
reader of the handlers (``handlers/slots.command_parse``), which compares it with the installed
parser's to know whether that parser is current.
"""

from __future__ import annotations

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.core.nlu.model import TaskName, UnitName, Vocabulary
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc


def read_vocabulary(conn: Connection, env: ServiceEnv) -> Vocabulary:
    """Active units and open tasks, in a stable order (so equal data gives an equal value)."""
    units = tuple(UnitName(u.id, u.name, u.short_name, u.aliases, u.kind)
                  for u in units_svc.list_units(conn))
    tasks = tuple(TaskName(tid, title, env.local(due).date())
                  for tid, title, due in tasks_svc.open_titles(conn))
    return Vocabulary(units=units, tasks=tasks)

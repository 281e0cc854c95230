"""How each subject's answer is written in Chinese (one module per subject).

Adding a subject (bot/core/nlu/subjects.py): a renderer here, keyed by the subject's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from bot.core.context import Context
from bot.core.nlu import Query
from bot.services import query as query_svc
from handlers.answers.flags import render_flags
from handlers.answers.notices import render_notices
from handlers.answers.plan import render_plan
from handlers.answers.progress import render_tasks, render_units
from handlers.answers.submissions import render_submissions

Renderer = Callable[[Context, Query, query_svc.Ask, Any], str]

RENDERERS: Mapping[str, Renderer] = MappingProxyType({
    "units": render_units,
    "tasks": render_tasks,
    "flags": render_flags,
    "notices": render_notices,
    "submissions": render_submissions,
    "plan": render_plan,
})

"""The chat vocabulary: one Router per area, composed here in a fixed order.

The canonical forms, who may use them and the natural phrasings they answer are declared on
each handler (its HandlerSpec); routing, roles and "was the bot addressed" are decided by
``bot/core/router.py``. Observers of notices and subscription events are registered the same
way (``Router.observe``), and so is the conversation that answers plain words
(``handlers/natural.py``: ``Router.fallback`` and ``Router.expects_answer``).
"""

from __future__ import annotations

from bot.core.router import Route, Router
from handlers import (
    board_link,
    bulletins,
    cases,
    corrections,
    documents,
    due_soon,
    dynamics,
    flags,
    natural,
    notices,
    queries,
    records,
    rectify,
    remind,
    review,
    sites,
    submissions,
    subscriptions,
    tasks,
    units,
)
from handlers import help as help_mod


def build_router() -> Router:
    root = Router("root")
    # Order matters only for command words that share a prefix; longer words win anyway.
    root.include(help_mod.router, units.router, submissions.router, queries.router,
                 due_soon.router, flags.router, dynamics.router, review.router, tasks.router,
                 notices.router, records.router, board_link.router, bulletins.router,
                 documents.router, remind.router, cases.router, sites.router, rectify.router,
                 natural.router, subscriptions.router, corrections.router)
    return root


def all_routes() -> list[Route]:
    return build_router().all_routes()

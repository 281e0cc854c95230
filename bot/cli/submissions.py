"""``dudao submission list``."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, group, leaf
from bot.cli.session import admin_session


def cmd_submission_list(args: argparse.Namespace) -> int:
    from bot.services import submissions

    with admin_session(args) as admin:
        rows = admin.run(lambda c: submissions.list_submissions(c, task_id=args.task))
        records = [{"id": s.id, "task_id": s.task_id, "task": s.task, "unit": s.unit,
                    "submitter": s.submitter, "text": s.text,
                    "attachments": [{"name": f.name, "sha256": f.sha256, "size": f.size}
                                    for f in s.attachments],
                    "status": s.status, "rating": s.rating, "version": s.version,
                    "submitted_at": s.submitted_at.isoformat()} for s in rows]
        text = "\n".join(f"#{s.id}  {s.unit}《{s.task}》第{s.version}版  {s.status}"
                         f"{' ' + s.rating if s.rating else ''}  {admin.env.fmt(s.submitted_at)}"
                         for s in rows)
        admin.emit(records, text or "（没有提交）")
    return 0


def register(sub: Subcommands) -> None:
    subm = group(sub, "submission", "提交")
    sl = leaf(subm, "list", cmd_submission_list, "列出提交")
    sl.add_argument("--task", type=int)

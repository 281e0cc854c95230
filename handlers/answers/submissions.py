"""Answers about submissions: by number, by state, how many."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Query
from bot.domain.errors import NotFound
from bot.services import query as query_svc
from handlers.answers.words import SHOWN, asked
from handlers.slots import period_label


def render_submissions(ctx: Context, q: Query, a: query_svc.Ask,
                        r: query_svc.SubmissionAnswer) -> str:
    label = asked(a.states)
    when = f"{period_label(ctx, *a.days)}收到的" if a.days is not None else ""
    if a.submission_id is not None:
        if not r.rows:
            raise NotFound(f"没有编号为 #{a.submission_id} 的提交", log="unknown submission")
        s = r.rows[0]
        return f"#{s.id} {s.unit}《{s.task}》第{s.version}版：{_sub_state(s)}"
    what = f"{when}{label}的提交" if label else f"{when}提交"
    if a.form == "count":
        return f"{what}共 {r.total} 份"
    if not r.rows:
        return f"没有{what}"
    head = f"有，{what} {r.total} 份：" if a.form == "yesno" else f"{what} {r.total} 份："
    lines = [head]
    for s in r.rows[:SHOWN]:
        lines.append(f"· #{s.id} {s.unit}《{s.task}》第{s.version}版，{_sub_state(s)}"
                     f"（{ctx.env.fmt(s.submitted_at)}）")
    if r.total > SHOWN:
        lines.append(f"……另有 {r.total - SHOWN} 份，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _sub_state(s: query_svc.SubmissionRow) -> str:
    if s.status == "accepted":
        return f"已通过（{s.rating}）" if s.rating else "已通过"
    if s.status == "returned":
        return f"已退回（{s.reason}）" if s.reason else "已退回"
    return "待审核"

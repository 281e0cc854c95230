"""Answers about notices and their acknowledgements (回执)."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Query
from bot.services import query as query_svc


def render_notices(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.NoticeAnswer) -> str:
    if not r.notices:
        return "还没有发过通知"
    if len(r.notices) > 1:
        lines = ["最近的通知："]
        for n in r.notices:
            total = len(n.acked) + len(n.missing)
            lines.append(f"· 通知 {n.notice_id}（{ctx.env.fmt(n.created_at)}）{_clip(n.text)}："
                         f"已确认 {len(n.acked)}/{total}")
        return "\n".join(lines)
    n = r.notices[0]
    if n.asked and (q.unit_ids or q.mine):
        parts = [f"{name}{'已确认' if ok else '还没有确认'}" for name, ok in n.asked]
        return f"通知 {n.notice_id}（{_clip(n.text)}）：" + "，".join(parts)
    if a.form == "count":
        which = "已确认" if "acked" in a.states else "未确认"
        number = len(n.acked) if "acked" in a.states else len(n.missing)
        return f"通知 {n.notice_id}：{which} {number} 个单位"
    if a.form == "yesno" and "acked" in a.states and not n.missing:
        return f"通知 {n.notice_id}：{len(n.acked)} 个单位都已确认"
    head = f"通知 {n.notice_id}：已确认 {len(n.acked)} 个单位，未确认 {len(n.missing)} 个"
    if n.pending_groups:
        head += f"（还有 {n.pending_groups} 个群在排队发送）"
    if n.missing:
        head += "：" + "、".join(n.missing[:40]) + ("等" if len(n.missing) > 40 else "")
    return head


def _clip(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[:n] + "…"

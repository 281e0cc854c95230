"""通过 / 退回: an admin reviews a submission; the unit is told in its group."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.event import ChatRef
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import submissions as subs_svc
from bot.services.flag_rules import refresh_task_unit_flag
from handlers import cases as cases_handlers
from handlers.common import first_submission_no, person_of

router = Router("review")

ACCEPT = HandlerSpec("accept", ("通过",), "通过 #编号 [优/良/一般]", "审核通过一份提交",
                     intents=("accept",), roles=(ADMIN,), area="review", example="通过 #12 优",
                     action="审核提交")
RETURN = HandlerSpec("return", ("退回",), "退回 #编号 原因", "退回一份提交并说明原因",
                     intents=("return",), roles=(ADMIN,), area="review",
                     example="退回 #12 缺少盖章扫描件", action="退回提交")


def _number(ctx: Context) -> int:
    if ctx.parse is not None and ctx.parse.submission_id:
        return ctx.parse.submission_id
    n = first_submission_no(ctx.args)
    if n is None:
        digits = ctx.args.split()[0] if ctx.args.split() else ""
        if digits.isdigit():
            return int(digits)
        raise InvalidInput("请写明提交编号，例如：通过 #12 优", log="review without number")
    return n


def _tell_unit(ctx: Context, sub: subs_svc.SubmissionInfo, text: str) -> None:
    if sub.source_chat:
        ctx.send(ChatRef.parse(sub.source_chat), text, kind="notify", cause=f"submission:{sub.id}")


@router.handler(ACCEPT)
def accept(ctx: Context) -> None:
    admin = person_of(ctx)
    sid = _number(ctx)
    rating = None
    for r in ("一般", "优", "良"):
        if r in ctx.args:
            rating = r
            break
    if ctx.parse is not None and ctx.parse.rating:
        rating = ctx.parse.rating
    sub = subs_svc.review(ctx.conn, sid, accept=True, rating=rating, reason=None,
                          reviewer_id=admin.id, now=ctx.now)
    flag = refresh_task_unit_flag(ctx.conn, ctx.env, sub.task_id, sub.unit_id, ctx.now)
    ctx.audit("submission.accept", f"submission:{sid}", {"rating": sub.rating})
    ctx.reply(f"已通过 #{sid}（{sub.unit}《{sub.task}》，评价：{sub.rating}）" +
              (f"，{flag}" if flag else ""))
    _tell_unit(ctx, sub, f"{sub.unit}提交的《{sub.task}》（#{sid}）已审核通过，评价：{sub.rating}")


@router.handler(RETURN)
def return_(ctx: Context) -> None:
    if cases_handlers.is_case_ref(ctx.args):  # 退回 案例#3 原因: a case, not a submission
        cases_handlers.return_case(ctx)
        return
    admin = person_of(ctx)
    sid = _number(ctx)
    reason = ctx.parse.body if ctx.parse is not None and ctx.parse.body else ctx.args
    reason = reason.replace(f"#{sid}", "").replace(f"＃{sid}", "").strip()
    if reason.startswith(str(sid)):
        reason = reason[len(str(sid)):].strip()
    sub = subs_svc.review(ctx.conn, sid, accept=False, rating=None, reason=reason,
                          reviewer_id=admin.id, now=ctx.now)
    refresh_task_unit_flag(ctx.conn, ctx.env, sub.task_id, sub.unit_id, ctx.now)
    ctx.audit("submission.return", f"submission:{sid}", {"reason": reason})
    ctx.reply(f"已退回 #{sid}（{sub.unit}《{sub.task}》）")
    _tell_unit(ctx, sub, f"{sub.unit}提交的《{sub.task}》（#{sid}）不符合要求，已退回：{reason}。"
                         "请按意见修改后重新提交")

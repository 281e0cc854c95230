"""督导建议书 / 签发: official documents (公文) from chat, for admins.

``督导建议书 开封市`` drafts the unit's supervision letter as a .docx (文件#N); ``签发 文件#N``
issues a draft with the next number of the year and queues it for the unit's group and officials
(``bot.services.drafting.after_issue``); the board's 公文 page shows how each send went.
"""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import drafting as docs
from bot.services.documents import Actor
from handlers.common import person_of

router = Router("documents")

LETTER = HandlerSpec("document_letter", ("督导建议书",), "督导建议书 单位",
                     "为单位起草督导建议书（.docx，列明黄旗、逾期和退回情况及整改要求）",
                     roles=(ADMIN,), area="documents", action="起草督导建议书",
                     example="督导建议书 开封市")
ISSUE = HandlerSpec("document_issue", ("签发",), "签发 文件#编号",
                    "签发公文草稿：取本年度下一个文号，生成正式文件",
                    roles=(ADMIN,), area="documents", action="签发公文", example="签发 文件#3")

_DOC_NO = re.compile(r"^(?:文件)?\s*[#＃]?\s*(\d+)\s*$")
AFTER_ISSUE = "签发后自动送达单位群和关注公众号的单位领导。"


def _actor(ctx: Context) -> Actor:
    p = person_of(ctx)
    return Actor(p.actor, p.id)


@router.handler(LETTER)
def draft_letter(ctx: Context) -> None:
    actor = _actor(ctx)
    unit = ctx.args.strip()
    if not unit:
        raise InvalidInput(f"请写明单位，例如：{LETTER.example}", log="letter without unit")
    made = docs.draft_letter(ctx.conn, ctx.env, unit, actor=actor, now=ctx.now)
    info, meta = made.info, made.document.meta
    ctx.audit("document.draft", f"document:{info.id}",
              {"kind": info.kind, "title": info.title, "sha256": info.sha256})
    demands = meta.get("demands", [])
    ctx.reply(f"已起草 文件#{info.id}《{info.title}》（草稿），提出整改要求{len(demands)}项，"
              f"回复期限 {meta.get('reply_by', '')}。\n"
              f"审核无误后发送“签发 文件#{info.id}”编号签发，{AFTER_ISSUE}")


@router.handler(ISSUE)
def issue(ctx: Context) -> None:
    actor = _actor(ctx)
    m = _DOC_NO.match(ctx.args.strip())
    if m is None:
        raise InvalidInput(f"请写明文件编号，例如：{ISSUE.example}",
                           log=f"issue without document number: {ctx.args!r}")
    made = docs.issue(ctx.conn, ctx.env, int(m.group(1)), actor=actor, now=ctx.now)
    info = made.info
    ctx.audit("document.issue", f"document:{info.id}",
              {"kind": info.kind, "number": info.number, "sha256": info.sha256})
    ctx.reply(f"已签发 文件#{info.id}：{info.number}《{info.title}》。{docs.delivery_note(made)}")

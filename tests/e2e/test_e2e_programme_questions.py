"""The programme's questions in plain words (issue 16), end to end over the fake OneBot
implementation (SQLite and PostgreSQL) with the language layer loaded: cases ("今年入选了几个案例",
"郑州报了哪些案例", "有没有关于行政调解的案例"), sites ("今年有几个示范点") and rectification items
("郑州的整改完成了没", "开封还有哪些整改没完成") are answered from the records with the canonical
commands' wording, and a liaison sees every selected case but only its own unit's others (as
查案例 does). The clock stands at Wednesday 2026-07-08 10:00 (Shanghai)."""

from __future__ import annotations

from datetime import datetime

from bot.services import cases as cases_svc
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import ADMIN, KF_LIAISON, SH, ZZ_LIAISON, ask
from tests.e2e.test_e2e_sites import add_item, sbot

__all__ = ["sbot"]  # the fixture, used by name


def _case_no(ack: str) -> int:
    return int(ack.split("案例#")[1].split("，")[0])


async def _cases(bot: Bot) -> tuple[int, int, int]:
    """郑州: a selected 行政调解 case and a pending 行政指导 one; 开封: a returned 行政契约 one."""
    a = _case_no(await ask(bot, ZZ_LIAISON,
                           "案例 物业纠纷调解促成和解 行政调解 某街道组织业主与物业公司调解，双方达成和解"))
    b = _case_no(await ask(bot, ZZ_LIAISON,
                           "案例 柔性执法指导企业 行政指导 市场监管所上门指导企业规范经营"))
    c = _case_no(await ask(bot, KF_LIAISON,
                           "案例 供热合同履约监管 行政契约 城管局与供热企业签订履约承诺"))
    env, now = bot.services.env, bot.services.env.clock.now()
    bot.db.transaction(lambda conn: cases_svc.select_case(conn, env, a, reviewer_id=None, now=now))
    bot.db.transaction(lambda conn: cases_svc.return_case(conn, c, reason="事实不完整",
                                                          reviewer_id=None, now=now))
    return a, b, c


async def test_questions_about_cases_in_plain_words(sbot: Bot) -> None:
    a, b, c = await _cases(sbot)
    link = f"{sbot.services.env.board_url}/cases"
    line_a = f"案例#{a}《物业纠纷调解促成和解》郑州市，行政调解 {link}/{a}"
    line_b = f"案例#{b}《柔性执法指导企业》郑州市，行政指导，待审核 {link}/{b}"

    assert await ask(sbot, ADMIN, "今年入选了几个案例") == (
        f"2026年入选的典型案例共 1 个（最新的在前）：\n1. {line_a}")
    assert await ask(sbot, ADMIN, "郑州报了哪些案例") == (
        f"郑州市的典型案例共 2 个（最新的在前）：\n1. {line_b}\n2. {line_a}")
    assert await ask(sbot, ADMIN, "有没有关于行政调解的案例") == (
        f"有，行政调解典型案例共 1 个（最新的在前）：\n1. {line_a}")
    assert await ask(sbot, ADMIN, "行政契约的案例有哪些") == (
        f"行政契约典型案例共 1 个（最新的在前）：\n1. 案例#{c}《供热合同履约监管》开封市，行政契约，"
        f"退回 {link}/{c}")
    assert (await ask(sbot, ADMIN, "各地市报了几个案例")).startswith(
        "地市的典型案例共 3 个（最新的在前）：\n1. 案例#")
    # A keyword is searched as 查案例 searches, with its wording.
    assert await ask(sbot, ADMIN, "有没有关于物业纠纷的案例") == await ask(
        sbot, ADMIN, "查案例 物业纠纷")

    # A liaison: every selected case, its own unit's others, never another unit's others.
    assert await ask(sbot, KF_LIAISON, "郑州报了哪些案例") == (
        f"郑州市的典型案例共 1 个（最新的在前）：\n1. {line_a}")
    assert await ask(sbot, KF_LIAISON, "我们单位的案例退回了没有") == (
        f"有，开封市被退回的典型案例共 1 个（最新的在前）：\n1. 案例#{c}《供热合同履约监管》开封市，"
        f"行政契约，退回 {link}/{c}")
    assert await ask(sbot, ZZ_LIAISON, "开封报了哪些案例") == "没有开封市的典型案例"
    assert await ask(sbot, ZZ_LIAISON, "去年入选了多少案例") == "没有2025年入选的典型案例"


async def test_questions_about_sites_and_rectifications_in_plain_words(sbot: Bot) -> None:
    zz = add_item(sbot, "郑州市", "执法公示不及时", datetime(2026, 7, 6, 18, tzinfo=SH))
    kf = add_item(sbot, "开封市", "案卷归档不全", datetime(2026, 7, 20, 18, tzinfo=SH))
    got = await ask(sbot, ZZ_LIAISON, "申报示范点 中牟县市场监管所 推行柔性执法三张清单")
    assert got.startswith("已收到郑州市申报的2026年示范点候选“中牟县市场监管所”")

    assert await ask(sbot, ADMIN, "今年有几个示范点") == (
        "2026年示范点：验收通过 0 个，培育中 1 个（共申报 1 个）\n"
        f"全部候选见督导看板 {sbot.services.env.board_url}/sites")
    assert await ask(sbot, ADMIN, "郑州有几个示范点") == (
        "郑州市2026年申报的示范点（1 个）：\n· 中牟县市场监管所（编号 1，已申报）")
    assert await ask(sbot, ADMIN, "郑州的示范点通过验收了吗") == "郑州市2026年还没有验收通过的示范点"

    zz_answer = await ask(sbot, ADMIN, "郑州的整改完成了没")
    assert zz_answer.startswith("郑州市的整改事项共 1 项：已销号 0 项，未完成 1 项（其中逾期 1 项）")
    assert f"#R{zz} 郑州市：执法公示不及时" in zz_answer
    kf_answer = await ask(sbot, ADMIN, "开封还有哪些整改没完成")
    assert kf_answer.startswith("开封市的整改事项共 1 项：已销号 0 项，未完成 1 项")
    assert f"#R{kf} 开封市：案卷归档不全" in kf_answer
    assert await ask(sbot, ADMIN, "开封有没有逾期的整改") == (
        "开封市的整改事项共 1 项：已销号 0 项，未完成 1 项，没有逾期的")
    # A liaison asks about its own unit only.
    assert await ask(sbot, KF_LIAISON, "郑州的整改完成了没") == "您只能查看本单位的整改事项"

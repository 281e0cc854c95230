"""The reminder sweep over a real database: a task's whole life with a controllable clock."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from bot.domain.reminders import DueReminder
from bot.services import groups, submissions
from bot.services.reminders import claim, sweep_reminders
from storage.models import Flag, OutboxMessage
from tests.schedule.conftest import ADMIN_GROUP, DEPT_GROUP, EXCHANGE, World, at, ledger, outbox

DUE = at("2026-07-17 18:00")  # a Friday


def test_whole_life_of_a_task(world: World) -> None:
    tid = world.add_task("三季度调研报告", DUE)
    u = world.unit
    zz, kf, ly, sft = u["郑州市"], u["开封市"], u["洛阳市"], u["省司法厅"]

    # Nothing before the first stage, nor before working hours on its day.
    assert world.sweep(at("2026-07-07 10:00")).claimed == ()
    assert world.sweep(at("2026-07-08 08:59")).claimed == ()

    # before-7 (Wed 8 July): one group message for the three cities, a private one for 司法厅.
    r = world.sweep(at("2026-07-08 09:00"))
    assert {(c.unit_id, c.stage) for c in r.claimed} == {
        (zz, "before-7"), (kf, "before-7"), (ly, "before-7"), (sft, "before-7")}
    sent = outbox(world.db)
    assert [m.chat for m in sent] == [EXCHANGE, "qq:user:30005"]
    group = sent[0]
    assert group.kind == "reminder" and group.cause == f"task:{tid}"
    assert set(group.mentions) == {"30001", "30002", "30003", "30004"}  # no officials, no wx id
    assert "郑州市、开封市、洛阳市" in group.text and "《三季度调研报告》" in group.text
    assert "7月8日（周三）" in group.text and "还有 7 个工作日" in group.text
    assert "回复本消息即可提交" in group.text
    assert "省司法厅" in sent[1].text and sent[1].mentions == ()
    last = sent[-1].id

    # Later the same day: nothing more for that stage.
    assert world.sweep(at("2026-07-08 15:00")).claimed == ()

    # 郑州 submits: never reminded again.
    world.tx(lambda c: submissions.submit(c, task_id=tid, unit_id=zz, person_id=None,
                                          text="调研报告", now=at("2026-07-10 11:00")))
    r = world.sweep(at("2026-07-14 09:05"))  # before-3
    assert {c.unit_id for c in r.claimed} == {kf, ly, sft}
    sent = outbox(world.db, after=last)
    group = next(m for m in sent if m.chat == EXCHANGE)
    assert "郑州市" not in group.text and "30001" not in group.mentions
    assert "开封市、洛阳市" in group.text and "还有 3 个工作日" in group.text
    last = sent[-1].id

    # 开封 submits, the admin returns it: the next reminder asks for a revision.
    def submit_and_return(conn: Connection) -> None:
        s = submissions.submit(conn, task_id=tid, unit_id=kf, person_id=None, text="初稿",
                               now=at("2026-07-15 10:00"))
        submissions.review(conn, s.id, accept=False, rating=None, reason="缺少盖章件",
                           reviewer_id=world.person["qq:10001"], now=at("2026-07-15 11:00"))

    world.tx(submit_and_return)
    r = world.sweep(at("2026-07-16 09:00"))  # before-1
    assert {(c.unit_id, c.returned) for c in r.claimed} == {(kf, True), (ly, False),
                                                           (sft, False)}
    group = next(m for m in outbox(world.db, after=last) if m.chat == EXCHANGE)
    assert "开封市：材料已退回，请按意见修改后重新提交" in group.text
    assert "请 洛阳市 按时报送" in group.text
    last = outbox(world.db)[-1].id

    # Deadline day: "today".
    r = world.sweep(at("2026-07-17 09:30"))
    assert {c.stage for c in r.claimed} == {"due"}
    group = next(m for m in outbox(world.db, after=last) if m.chat == EXCHANGE)
    assert "今天 18:00 截止" in group.text and "今天内报送" in group.text
    last = outbox(world.db)[-1].id

    # The deadline passes at 18:00 (outside working hours): no message, but yellow flags.
    r = world.sweep(at("2026-07-17 18:01"))
    assert r.claimed == () and r.messages == 0
    assert r.flags_marked == 3
    flags = world.tx(lambda c: dict(c.execute(
        select(Flag.unit_id, Flag.color).where(Flag.task_id == tid, Flag.current.is_(True)))
        .all()))
    # Nothing submitted: yellow. Submitted on time but returned: blue (DESIGN §4).
    assert flags == {ly: "yellow", sft: "yellow", kf: "blue"}

    # Weekend: nothing.
    assert world.sweep(at("2026-07-18 10:00")).claimed == ()
    assert world.sweep(at("2026-07-19 10:00")).claimed == ()

    # Overdue urging: Mon 20, Wed 22, Fri 24 July.
    for k, day in enumerate(("2026-07-20", "2026-07-22", "2026-07-24"), 1):
        assert world.sweep(at(f"{day} 08:30")).claimed == ()
        r = world.sweep(at(f"{day} 09:00"))
        assert {(c.unit_id, c.stage) for c in r.claimed} == {
            (kf, f"overdue-{k}"), (ly, f"overdue-{k}"), (sft, f"overdue-{k}")}
        sent = outbox(world.db, after=last)
        group = next(m for m in sent if m.chat == EXCHANGE)
        assert group.text.strip().startswith("【逾期催办】")
        assert f"请 洛阳市 尽快报送（第 {k} 次催办）" in group.text
        assert "开封市：材料已退回，请按意见修改后重新提交" in group.text
        assert "已逾期" in group.text
        last = sent[-1].id
        assert world.sweep(at(f"{day} 16:00")).claimed == ()

    # Escalation (Tue 28 July): the officials privately and the admin group; not the group.
    assert world.sweep(at("2026-07-27 10:00")).claimed == ()
    r = world.sweep(at("2026-07-28 09:00"))
    assert {(c.unit_id, c.stage) for c in r.claimed} == {
        (kf, "escalate"), (ly, "escalate"), (sft, "escalate")}
    sent = outbox(world.db, after=last)
    chats = [m.chat for m in sent]
    assert EXCHANGE not in chats
    assert "mp:user:oLUOYANG" in chats  # 洛阳's official, on the official account
    assert "qq:user:30019" not in chats  # ...and only there
    admin = next(m for m in sent if m.chat == ADMIN_GROUP)
    assert "开封市（退回未改，未登记单位领导）" in admin.text
    assert "省司法厅（未登记单位领导）" in admin.text and "洛阳市" in admin.text
    last = sent[-1].id

    # After that: silence, however long the task stays open.
    for day in ("2026-07-29", "2026-07-30", "2026-08-03", "2026-09-01"):
        assert world.sweep(at(f"{day} 10:00")).claimed == ()
    assert outbox(world.db, after=last) == []

    # Every stage went to every owing unit exactly once.
    expected = {(tid, zz, "before-7")}
    for unit_id in (kf, ly, sft):
        for stage in ("before-7", "before-3", "before-1", "due", "overdue-1", "overdue-2",
                      "overdue-3", "escalate"):
            expected.add((tid, unit_id, stage))
    assert ledger(world.db) == expected


def test_same_moment_twice_and_restart_send_nothing_twice(world: World) -> None:
    world.add_task("半年总结", DUE)
    first = world.sweep(at("2026-07-08 09:00"))
    assert first.messages == 2
    n = len(outbox(world.db))
    assert world.sweep(at("2026-07-08 09:00")).claimed == ()
    world.reopen()
    assert world.sweep(at("2026-07-08 09:00")).claimed == ()
    assert world.sweep(at("2026-07-08 11:00")).claimed == ()
    assert len(outbox(world.db)) == n
    # The next stage still goes out after the restart, once.
    assert len(world.sweep(at("2026-07-14 09:00")).claimed) == 4
    world.reopen()
    assert world.sweep(at("2026-07-14 09:01")).claimed == ()


def test_quiet_hours_sundays_and_holidays(world: World) -> None:
    world.add_task("半年总结", DUE)
    for moment in ("2026-07-08 22:00", "2026-07-08 18:00", "2026-07-08 07:00",
                   "2026-07-12 10:00"):  # night, end of day, early, Sunday
        assert world.sweep(at(moment)).claimed == ()
    assert outbox(world.db) == []
    # The stage is still sent at the next working moment (catch-up), once.
    assert len(world.sweep(at("2026-07-09 09:00")).claimed) == 4


def test_national_day_holiday_and_make_up_workday(world: World) -> None:
    # Due Thu 8 Oct, right after the National Day holiday (1-7 Oct 2026).
    tid = world.add_task("国庆后报送", at("2026-10-08 18:00"), created=at("2026-09-20 09:00"))
    # Due Tue 13 Oct with a 2-day stage: that day is Sat 10 Oct, a make-up workday (调休).
    tid2 = world.add_task("调休日测试", at("2026-10-13 18:00"), scope="郑州市",
                          policy="3,2,1;due", created=at("2026-09-20 09:00"))
    r = world.sweep(at("2026-09-30 09:00"))  # before-1 of the first task
    assert {(c.task_id, c.stage) for c in r.claimed} == {(tid, "before-1")}
    for day in range(1, 8):
        assert world.sweep(at(f"2026-10-0{day} 10:00")).claimed == (), day
    r = world.sweep(at("2026-10-08 09:00"))
    assert {(c.task_id, c.stage) for c in r.claimed} == {(tid, "due")}
    r = world.sweep(at("2026-10-09 09:00"))
    assert {(c.task_id, c.stage) for c in r.claimed} == {(tid2, "before-3")} | {
        (tid, "overdue-1")}
    r = world.sweep(at("2026-10-10 09:00"))  # Saturday, but a working day
    assert {(c.task_id, c.stage) for c in r.claimed} == {(tid2, "before-2")}
    assert world.sweep(at("2026-10-11 10:00")).claimed == ()  # Sunday


def test_catch_up_after_downtime_sends_only_the_latest_stage(world: World) -> None:
    tid = world.add_task("半年总结", DUE)
    r = world.sweep(at("2026-07-16 14:00"))  # first sweep in a week: only before-1
    assert {c.stage for c in r.claimed} == {"before-1"}
    assert len(outbox(world.db)) == 2
    assert {s for _, _, s in ledger(world.db)} == {"before-1"}
    # Down again over the deadline: the first sweep afterwards urges once (overdue-1).
    r = world.sweep(at("2026-07-21 10:00"))
    assert {c.stage for c in r.claimed} == {"overdue-1"}
    assert all(c.task_id == tid for c in r.claimed)


def test_one_message_per_group_for_several_tasks(world: World) -> None:
    t1 = world.add_task("任务甲", DUE, scope="郑州市,开封市")
    t2 = world.add_task("任务乙", DUE, scope="开封市,洛阳市")
    world.sweep(at("2026-07-08 09:00"))
    sent = [m for m in outbox(world.db) if m.chat == EXCHANGE]
    assert len(sent) == 1
    text = sent[0].text
    assert "1. 《任务甲》" in text and "2. 《任务乙》" in text
    assert sent[0].cause == f"task:{t1}"
    assert "提交时请写明任务" in text
    assert t2 > t1


def test_unit_in_two_groups_is_reminded_once_in_the_specific_one(world: World) -> None:
    world.tx(lambda c: groups.add(c, chat="qq:group:40009", name="全体群", units_spec="all",
                                  purpose="exchange", account="999", webhook_key=None,
                                  now=at("2026-07-01 09:00")))
    world.tx(lambda c: groups.add(c, chat=DEPT_GROUP, name="省直群", units_spec="省司法厅",
                                  purpose="exchange", account="999", webhook_key=None,
                                  now=at("2026-07-01 09:00")))
    world.add_task("半年总结", DUE)
    world.sweep(at("2026-07-08 09:00"))
    sent = outbox(world.db)
    assert sorted(m.chat for m in sent) == [EXCHANGE, DEPT_GROUP]
    assert "30005" in next(m for m in sent if m.chat == DEPT_GROUP).mentions


def test_policies_per_task_and_none(world: World) -> None:
    quiet = world.add_task("不提醒", DUE, policy="none")
    custom = world.add_task("只在当天提醒", DUE, policy="due", scope="郑州市")
    world.sweep(at("2026-07-08 09:00"))
    assert {t for t, _, _ in ledger(world.db)} == set()
    r = world.sweep(at("2026-07-17 09:00"))
    assert {(c.task_id, c.stage) for c in r.claimed} == {(custom, "due")}
    assert quiet not in {t for t, _, _ in ledger(world.db)}


def test_never_the_same_text_twice_in_a_row(world: World) -> None:
    world.add_task("半年总结", DUE)
    moment = at("2026-07-08 09:00")

    def rehearse(conn: Connection) -> list[dict[str, object]]:
        sp = conn.begin_nested()
        sweep_reminders(conn, world.env, moment)
        content = conn.execute(select(OutboxMessage.content)
                               .where(OutboxMessage.chat == EXCHANGE)).scalar_one()
        sp.rollback()
        return list(content)

    content = world.tx(rehearse)
    assert ledger(world.db) == set()  # the rehearsal left nothing behind

    # The very same text was the last thing said in the group.
    world.tx(lambda c: c.execute(insert(OutboxMessage), {
        "chat": EXCHANGE, "content": content, "kind": "reminder", "cause": "",
        "state": "sent", "attempts": 1, "not_before": moment, "created_at": moment}))
    world.sweep(moment)
    texts = [m.text for m in outbox(world.db) if m.chat == EXCHANGE]
    assert len(texts) == 2 and texts[0] != texts[1]
    assert "再次提醒" in texts[1]


def test_sweep_reads_only_the_deadline_window(world: World) -> None:
    for month in range(8, 13):
        for day in (3, 10, 17, 24):
            world.add_task(f"远期任务{month}-{day}", at(f"2026-{month:02d}-{day:02d} 18:00"))
    world.add_task("本周任务", DUE)
    r = world.sweep(at("2026-07-08 09:00"))
    assert r.considered == 4  # the one task in the window, its four units
    assert len(r.claimed) == 4


def test_unit_without_group_or_people_is_reported(world: World) -> None:
    world.add_task("公安专项", DUE, scope="省公安厅")
    r = world.sweep(at("2026-07-08 09:00"))
    assert r.unreachable == (world.unit["省公安厅"],)
    assert r.messages == 0
    assert len(r.claimed) == 1


def test_bounded_passed_deadline_check(world: World) -> None:
    old = world.add_task("早已截止", at("2026-06-30 18:00"), scope="郑州市",
                         created=at("2026-06-01 09:00"))
    recent = world.add_task("刚截止", at("2026-07-08 18:00"), scope="开封市")
    late = world.add_task("补登记", at("2026-06-20 18:00"), scope="洛阳市",
                          created=at("2026-07-08 18:30"))

    def flagged() -> set[int]:
        return world.tx(lambda c: set(c.execute(
            select(Flag.task_id).where(Flag.current.is_(True))).scalars()))

    moment = at("2026-07-08 18:40")
    r = world.tx(lambda c: sweep_reminders(c, world.env, moment,
                                           flags_since=at("2026-07-08 17:55")))
    # Only deadlines passed (or tasks registered) since the previous tick are checked...
    assert r.flags_marked == 2 and flagged() == {recent, late}
    # ...and the full check (first tick, hourly, `dudao tick`) catches everything else.
    r = world.tx(lambda c: sweep_reminders(c, world.env, moment))
    assert r.flags_marked == 1 and flagged() == {old, recent, late}


def test_claim_returns_only_rows_this_transaction_inserted(world: World) -> None:
    tid = world.add_task("半年总结", DUE)
    u = sorted(world.unit.values())
    moment = at("2026-07-08 09:00")
    first = [DueReminder(tid, uid, "before-7", False, False) for uid in u[:2]]
    mixed = [DueReminder(tid, uid, "before-7", False, False) for uid in u[:4]]
    assert world.tx(lambda c: claim(c, first, moment)) == first
    assert world.tx(lambda c: claim(c, mixed, moment)) == mixed[2:]
    assert world.tx(lambda c: claim(c, mixed, moment)) == []

"""Reminder stages (DESIGN §4 "Reminders", §5 ``dudao tick``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.reminders import (
    Assignment,
    DueReminder,
    ReminderPolicy,
    current_stage,
    deadline_window,
    envelope,
    is_pre_deadline,
    reminders_due,
    stage_days,
)
from bot.domain.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(TZ)
DEFAULT = ReminderPolicy()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- the policy -----------------------------------------------------------------------------


def test_default_policy_is_the_programme_rule() -> None:
    assert DEFAULT == ReminderPolicy((7, 3, 1), True, 2, 3, True)
    assert ReminderPolicy.parse("7,3,1;due;overdue=2x3;escalate") == DEFAULT
    assert ReminderPolicy.parse("default") == DEFAULT
    assert DEFAULT.format() == "7,3,1;due;overdue=2x3;escalate"


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("1,3,7；due", ReminderPolicy((7, 3, 1), True, 2, 0, False)),
        ("escalate; 5 , 2 ;overdue=1x2", ReminderPolicy((5, 2), False, 1, 2, True)),
        ("due", ReminderPolicy((), True, 2, 0, False)),
        ("overdue=3×1", ReminderPolicy((), False, 3, 1, False)),
        ("none", ReminderPolicy((), False, 2, 0, False)),
    ],
)
def test_parse(text: str, policy: ReminderPolicy) -> None:
    assert ReminderPolicy.parse(text) == policy


@pytest.mark.parametrize(
    "text", ["", " ; ", "7,3,x", "due;due", "overdue=0x3", "0,1", "3,3", "tomorrow", "7,3;1,2"]
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ReminderPolicy.parse(text)
    assert "提醒" in info.value.message or "逾期" in info.value.message


def test_policy_validation() -> None:
    with pytest.raises(InvalidInput):
        ReminderPolicy(overdue_times=-1)
    with pytest.raises(InvalidInput):
        ReminderPolicy(overdue_every=0)
    assert ReminderPolicy(before=(1, 7, 3)).before == (7, 3, 1)


policies = st.builds(
    ReminderPolicy,
    before=st.lists(st.integers(1, 10), unique=True, max_size=3).map(tuple),
    on_due_day=st.booleans(),
    overdue_every=st.integers(1, 3),
    overdue_times=st.integers(0, 3),
    escalate=st.booleans(),
)


@settings(max_examples=150)
@given(policies)
def test_format_round_trips(policy: ReminderPolicy) -> None:
    again = ReminderPolicy.parse(policy.format())
    assert again.format() == policy.format()
    assert stage_days(at("2026-07-15T18:00"), again, CAL) == stage_days(
        at("2026-07-15T18:00"), policy, CAL
    )


def test_envelope() -> None:
    env = envelope([ReminderPolicy(before=(5,), overdue_times=1), ReminderPolicy(overdue_every=4)])
    assert env == ReminderPolicy(before=(7,), on_due_day=True, overdue_every=4, overdue_times=3)
    assert envelope([]) == DEFAULT


# --- stage days -----------------------------------------------------------------------------


def test_stages_around_national_day_2026() -> None:
    # Sep 25 is the Mid-Autumn holiday and Sunday Sep 20 a make-up day; Oct 1–7 are off and
    # Saturday Oct 10 is a make-up day.
    assert stage_days(at("2026-09-30T18:00"), DEFAULT, CAL) == [
        ("before-7", d("2026-09-20")),
        ("before-3", d("2026-09-24")),
        ("before-1", d("2026-09-29")),
        ("due", d("2026-09-30")),
        ("overdue-1", d("2026-10-08")),
        ("overdue-2", d("2026-10-10")),
        ("overdue-3", d("2026-10-13")),
        ("escalate", d("2026-10-15")),
    ]


def test_stages_around_spring_festival_2026() -> None:
    assert stage_days(at("2026-02-24T18:00"), DEFAULT, CAL) == [
        ("before-7", d("2026-02-06")),
        ("before-3", d("2026-02-12")),
        ("before-1", d("2026-02-14")),
        ("due", d("2026-02-24")),
        ("overdue-1", d("2026-02-25")),
        ("overdue-2", d("2026-02-27")),
        ("overdue-3", d("2026-03-02")),
        ("escalate", d("2026-03-04")),
    ]


def test_deadline_on_a_day_off_is_announced_the_working_day_before() -> None:
    # Sunday 1 Mar 2026: the due-day reminder moves to the make-up Saturday, where before-1
    # would also fall; only the later stage (due) is kept.
    stages = stage_days(at("2026-03-01T18:00"), DEFAULT, CAL)
    assert stages[:3] == [
        ("before-7", d("2026-02-13")),
        ("before-3", d("2026-02-26")),
        ("due", d("2026-02-28")),
    ]
    assert stages[3] == ("overdue-1", d("2026-03-02"))


def test_stages_in_2027_use_the_fallback_calendar() -> None:
    # Monday 4 Jan 2027; 1 Jan (Friday) is the only holiday the fallback knows about.
    stages = dict(stage_days(at("2027-01-04T18:00"), DEFAULT, CAL))
    assert stages["before-1"] == d("2026-12-31")
    assert stages["before-3"] == d("2026-12-29")
    assert stages["overdue-1"] == d("2027-01-05")


def test_escalation_without_overdue_urging() -> None:
    policy = ReminderPolicy(before=(), on_due_day=False, overdue_times=0, escalate=True)
    assert stage_days(at("2026-07-03T18:00"), policy, CAL) == [("escalate", d("2026-07-06"))]


def test_deadline_local_date_is_used() -> None:
    # 2026-07-02T17:00Z is 01:00 on 3 Jul in Beijing.
    utc_deadline = datetime(2026, 7, 2, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert dict(stage_days(utc_deadline, DEFAULT, CAL))["due"] == d("2026-07-03")


# --- the current stage ----------------------------------------------------------------------

DEADLINE = at("2026-07-15T18:00")  # Wednesday


@pytest.mark.parametrize(
    ("now", "stage"),
    [
        ("2026-07-06T08:59", None),  # before-7 day, before working hours
        ("2026-07-06T09:00", "before-7"),
        ("2026-07-06T17:59", "before-7"),
        ("2026-07-06T18:00", None),  # after working hours
        ("2026-07-07T10:00", "before-7"),  # stays due until the next stage (catch-up)
        ("2026-07-10T09:00", "before-3"),
        ("2026-07-11T10:00", None),  # Saturday
        ("2026-07-14T09:00", "before-1"),
        ("2026-07-15T09:00", "due"),
        ("2026-07-15T17:59", "due"),
        ("2026-07-16T09:00", "overdue-1"),
        ("2026-07-17T09:00", "overdue-1"),
        ("2026-07-20T09:00", "overdue-2"),
        ("2026-07-22T09:00", "overdue-3"),
        ("2026-07-24T09:00", "escalate"),
        ("2026-07-27T09:00", "escalate"),
        ("2026-07-28T09:00", None),  # the last stage has lapsed
        ("2026-06-01T09:00", None),  # long before
    ],
)
def test_current_stage(now: str, stage: str | None) -> None:
    assert current_stage(DEADLINE, DEFAULT, CAL, at(now)) == stage


def test_catch_up_after_downtime_sends_only_the_latest_stage() -> None:
    # Down from before-7 (6 Jul) until before-1 day: only before-1 is due, not 7/3 as well.
    due = reminders_due([assignment()], set(), at("2026-07-14T11:00"), CAL)
    assert [r.stage for r in due] == ["before-1"]


def test_pre_deadline_stage_lapses_when_the_deadline_passes_the_same_day() -> None:
    noon = at("2026-07-15T12:00")
    assert current_stage(noon, DEFAULT, CAL, at("2026-07-15T09:00")) == "due"
    assert current_stage(noon, DEFAULT, CAL, at("2026-07-15T12:00")) is None
    assert current_stage(noon, DEFAULT, CAL, at("2026-07-15T13:00")) is None
    assert current_stage(noon, DEFAULT, CAL, at("2026-07-16T09:00")) == "overdue-1"


def test_deadline_before_working_hours_skips_the_due_stage() -> None:
    early = at("2026-07-15T08:00")
    assert current_stage(early, DEFAULT, CAL, at("2026-07-15T09:00")) is None
    assert current_stage(early, DEFAULT, CAL, at("2026-07-14T09:00")) == "before-1"


def test_task_registered_after_its_deadline_gets_overdue_urging() -> None:
    assert current_stage(at("2026-07-13T18:00"), DEFAULT, CAL, at("2026-07-15T10:00")) == (
        "overdue-1"
    )


def test_custom_working_hours() -> None:
    cal = WorkCalendar(TZ, time(8, 30), time(17, 30))
    assert current_stage(DEADLINE, DEFAULT, cal, at("2026-07-15T08:30")) == "due"
    assert current_stage(DEADLINE, DEFAULT, cal, at("2026-07-15T17:30")) is None


# --- what to send ---------------------------------------------------------------------------


def assignment(
    task_id: int = 1,
    unit_id: int = 10,
    deadline: datetime = DEADLINE,
    owes: bool = True,
    returned: bool = False,
    policy: ReminderPolicy = DEFAULT,
) -> Assignment:
    return Assignment(task_id, unit_id, deadline, policy, owes, returned)


def test_only_units_that_owe_are_reminded() -> None:
    assignments = [
        assignment(unit_id=10),
        assignment(unit_id=11, owes=False),
        assignment(unit_id=12, returned=True),
    ]
    due = reminders_due(assignments, set(), at("2026-07-15T09:00"), CAL)
    assert due == [
        DueReminder(1, 10, "due", returned=False, escalate=False),
        DueReminder(1, 12, "due", returned=True, escalate=False),
    ]


def test_already_sent_is_not_sent_again() -> None:
    now = at("2026-07-15T09:00")
    first = reminders_due([assignment()], set(), now, CAL)
    sent = {(r.task_id, r.unit_id, r.stage) for r in first}
    assert reminders_due([assignment()], sent, now, CAL) == []
    assert reminders_due([assignment()], sent, at("2026-07-15T15:00"), CAL) == []


def test_escalation_is_marked() -> None:
    due = reminders_due([assignment()], set(), at("2026-07-24T09:00"), CAL)
    assert due == [DueReminder(1, 10, "escalate", returned=False, escalate=True)]


def test_nothing_outside_working_hours() -> None:
    assert reminders_due([assignment()], set(), at("2026-07-15T08:00"), CAL) == []
    assert reminders_due([assignment()], set(), at("2026-10-01T10:00"), CAL) == []


def test_result_is_ordered_and_one_per_task_and_unit() -> None:
    assignments = [assignment(2, 5), assignment(1, 7), assignment(1, 7), assignment(1, 3)]
    due = reminders_due(assignments, set(), at("2026-07-15T09:00"), CAL)
    assert [(r.task_id, r.unit_id) for r in due] == [(1, 3), (1, 7), (2, 5)]


def test_deadline_window_example() -> None:
    lo, hi = deadline_window(at("2026-07-15T09:00"), DEFAULT, CAL)
    assert lo <= at("2026-07-06T00:00")  # escalation of a deadline ~7 working days ago
    assert hi >= at("2026-07-25T00:00")  # before-7 of a deadline 7 working days ahead
    assert hi <= at("2026-07-27T00:00")
    # Nothing after the policy's last stage, nothing beyond before-7: the window is bounded.
    assert (hi - lo) < timedelta(days=40)


# --- properties -----------------------------------------------------------------------------

deadlines = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 30), timezones=st.just(TZ)
)
offsets = st.timedeltas(min_value=timedelta(days=-25), max_value=timedelta(days=40))


@settings(max_examples=200)
@given(deadlines, offsets, policies, st.booleans(), st.booleans())
def test_reminders_only_in_working_hours_and_only_to_units_that_owe(
    deadline: datetime, offset: timedelta, policy: ReminderPolicy, owes: bool, returned: bool
) -> None:
    now = deadline + offset
    due = reminders_due([assignment(deadline=deadline, owes=owes, policy=policy)], set(), now, CAL)
    if due:
        assert owes
        assert CAL.in_working_hours(now)
        assert CAL.is_workday(CAL.local(now).date())
        stage_day = dict(stage_days(deadline, policy, CAL))[due[0].stage]
        assert CAL.is_workday(stage_day)
        assert stage_day <= CAL.local(now).date()


@settings(max_examples=200)
@given(deadlines, offsets, policies)
def test_catch_up_sends_one_stage_the_latest(
    deadline: datetime, offset: timedelta, policy: ReminderPolicy
) -> None:
    now = deadline + offset
    many = [assignment(deadline=deadline, policy=policy)] * 3
    due = reminders_due(many, set(), now, CAL)
    assert len(due) <= 1
    if due:
        today = CAL.local(now).date()
        latest = [s for s, day in stage_days(deadline, policy, CAL) if day <= today][-1]
        assert due[0].stage == latest
        assert (now < deadline) == is_pre_deadline(latest)


@settings(max_examples=200)
@given(deadlines, offsets, st.lists(policies, min_size=1, max_size=3))
def test_deadline_window_contains_every_deadline_with_a_stage_due(
    deadline: datetime, offset: timedelta, task_policies: list[ReminderPolicy]
) -> None:
    now = deadline + offset
    lo, hi = deadline_window(now, envelope(task_policies), CAL)
    for policy in task_policies:
        if current_stage(deadline, policy, CAL, now) is not None:
            assert lo <= deadline < hi


SWEEP_TIMES = (time(0), time(8, 59), time(9), time(12, 30), time(17, 59), time(18))


@settings(max_examples=100, deadline=None)
@given(deadlines, policies)
def test_sweeps_send_every_stage_once_on_its_day(
    deadline: datetime, policy: ReminderPolicy
) -> None:
    """Sweeping several times a day, every stage goes out once, on its own day, at 09:00."""
    start = CAL.local(deadline).date() - timedelta(days=25)
    sent: dict[tuple[int, int, str], datetime] = {}
    a = assignment(deadline=deadline, policy=policy)
    for i in range(70):
        for t in SWEEP_TIMES:
            now = datetime.combine(start + timedelta(days=i), t, tzinfo=TZ)
            for r in reminders_due([a], sent.keys(), now, CAL):
                key = (r.task_id, r.unit_id, r.stage)
                assert key not in sent
                assert CAL.in_working_hours(now)
                sent[key] = now
    expected = {
        stage: day
        for stage, day in stage_days(deadline, policy, CAL)
        if not is_pre_deadline(stage) or CAL.day_start(day) < deadline
    }
    assert {stage: moment.date() for (_, _, stage), moment in sent.items()} == expected
    assert all(moment.time() == time(9) for moment in sent.values())


@settings(max_examples=100, deadline=None)
@given(deadlines, policies, st.integers(0, 40))
def test_no_reminder_after_submission(
    deadline: datetime, policy: ReminderPolicy, submitted_on: int
) -> None:
    """A unit stops being reminded the moment it has submitted (owes becomes False)."""
    start = CAL.local(deadline).date() - timedelta(days=20)
    submitted = datetime.combine(start + timedelta(days=submitted_on), time(10), tzinfo=TZ)
    for i in range(60):
        now = datetime.combine(start + timedelta(days=i), time(9, 30), tzinfo=TZ)
        a = assignment(deadline=deadline, policy=policy, owes=now < submitted)
        due = reminders_due([a], set(), now, CAL)
        assert not due or now < submitted

"""Which open tickets an alert rule flags, and when: each rule kind on the business and the
calendar clock, quiet hours, a holiday, a DST change, ConnectWise's due times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.alerts import (
    AlertClock,
    AlertRule,
    AlertWhen,
    SlaDue,
    SlaStage,
    WatchedTicket,
    at_risk,
    duration_minutes,
    tickets_at_risk,
)
from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.records import TicketRecord

CHICAGO = ZoneInfo("America/Chicago")
CALENDAR = BusinessCalendar(
    BusinessHours(
        timezone="America/Chicago",
        start=time(8),
        end=time(17),
        extra_holidays=frozenset({date(2026, 11, 26)}),  # Thanksgiving, say
    )
)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def open_ticket(entered: datetime, **fields: object) -> WatchedTicket:
    record = TicketRecord(id=7, board="Service Desk", entered_at=entered, summary="Server down")
    return WatchedTicket(replace(record, **fields), category_mask=1)  # type: ignore[arg-type]


UNANSWERED_15 = AlertRule("Emergency", AlertWhen.UNANSWERED, AlertClock.CALENDAR, 15.0)
UNRESOLVED_3D = AlertRule("Stale", AlertWhen.UNRESOLVED, AlertClock.BUSINESS, 3 * 540.0)
DUE_30 = AlertRule("Due soon", AlertWhen.UNRESOLVED, before_due_minutes=30.0)


def flags(ticket: WatchedTicket, rule: AlertRule, now: datetime) -> bool:
    return at_risk(ticket, rule, now=now, calendar=CALENDAR) is not None


def test_an_unanswered_emergency_is_flagged_at_15_minutes_even_at_night():
    ticket = open_ticket(local(3, 2, 0))  # Tuesday 02:00, the desk is closed
    assert not flags(ticket, UNANSWERED_15, local(3, 2, 14))
    risk = at_risk(ticket, UNANSWERED_15, now=local(3, 2, 15), calendar=CALENDAR)
    assert risk is not None
    assert risk.age_minutes == 15.0
    # answered: no longer unanswered
    answered = open_ticket(local(3, 2, 0), responded_at=local(3, 2, 10), responder="jsmith")
    assert not flags(answered, UNANSWERED_15, local(3, 2, 30))


def test_a_business_clock_rule_counts_working_minutes_and_is_quiet_at_night():
    rule = AlertRule("Unanswered 2h", AlertWhen.UNANSWERED, AlertClock.BUSINESS, 120.0)
    ticket = open_ticket(local(6, 16, 0))  # Friday 16:00
    assert not flags(ticket, rule, local(6, 16, 59))  # 59 working minutes
    assert not flags(ticket, rule, local(7, 12, 0))  # Saturday: closed, and only 60 minutes
    assert not flags(ticket, rule, local(9, 8, 59))  # Monday 08:59: 119 minutes
    risk = at_risk(ticket, rule, now=local(9, 9, 0), calendar=CALENDAR)
    assert risk is not None
    assert risk.age_minutes == 120.0
    assert not flags(ticket, rule, local(9, 17, 30))  # past closing: quiet until the morning


def test_unresolved_after_three_business_days_skips_a_holiday():
    ticket = open_ticket(local(23, 8, 0), responded_at=local(23, 8, 5), responder="jsmith")
    # Mon 23, Tue 24, Wed 25 are three working days; Thursday 26 is a holiday
    assert not flags(ticket, UNRESOLVED_3D, local(25, 16, 59))
    assert not flags(ticket, UNRESOLVED_3D, local(26, 12, 0))  # the holiday: closed
    assert flags(ticket, UNRESOLVED_3D, local(27, 8, 0))  # Friday at opening: 3 days 0 min
    resolved = replace(ticket.record, resolved_at=local(25, 10), resolver="jsmith")
    assert not flags(WatchedTicket(resolved, 1), UNRESOLVED_3D, local(27, 8, 0))
    closed = replace(ticket.record, closed=True)
    assert not flags(WatchedTicket(closed, 1), UNRESOLVED_3D, local(27, 8, 0))


def test_the_calendar_clock_across_the_dst_change_counts_real_minutes():
    # entered 00:50 CDT on 1 November; the clocks fall back at 02:00 to 01:00 CST
    entered = datetime(2026, 11, 1, 0, 50, tzinfo=CHICAGO).astimezone(UTC)
    rule = AlertRule("Emergency 2h", AlertWhen.UNANSWERED, AlertClock.CALENDAR, 120.0)
    ticket = open_ticket(entered)
    # 01:50 CST local is 2 h elapsed, though the wall clock moved one hour
    two_hours_later = entered + timedelta(hours=2)
    assert two_hours_later.astimezone(CHICAGO).hour == 1
    assert not flags(ticket, rule, two_hours_later - timedelta(minutes=1))
    assert flags(ticket, rule, two_hours_later)


def test_before_due_uses_connectwises_due_time_for_the_stage():
    due = local(3, 12, 0)
    responding = open_ticket(local(3, 9), sla_stage="respond", sla_due_at=due)
    resolving = open_ticket(
        local(3, 9), responded_at=local(3, 9, 5), responder="jsmith", sla_stage="resolve",
        sla_due_at=due,
    )  # fmt: skip
    assert not flags(resolving, DUE_30, local(3, 11, 29))
    risk = at_risk(resolving, DUE_30, now=local(3, 11, 30), calendar=CALENDAR)
    assert risk is not None
    assert risk.due_at == due
    assert flags(resolving, DUE_30, local(3, 12, 30))  # past due: still at risk
    # the respond-by time is not the resolution's due time
    assert not flags(responding, DUE_30, local(3, 11, 45))
    answer_due = AlertRule("Answer due", AlertWhen.UNANSWERED, before_due_minutes=30.0)
    assert flags(responding, answer_due, local(3, 11, 45))
    # no due time known: never flagged by a before_due rule
    assert not flags(open_ticket(local(3, 9)), DUE_30, local(3, 16))


def test_category_and_boards_narrow_a_rule():
    rule = replace(UNANSWERED_15, category="emergency", category_bit=2, boards=("Service Desk",))
    entered = local(3, 10)
    now = local(3, 11)
    assert not flags(open_ticket(entered), rule, now)  # mask 1: not an emergency
    emergency = WatchedTicket(open_ticket(entered).record, category_mask=3)
    assert flags(emergency, rule, now)
    elsewhere = WatchedTicket(replace(emergency.record, board="Projects"), category_mask=3)
    assert not flags(elsewhere, rule, now)
    by_id = replace(rule, boards=("12",))
    assert flags(WatchedTicket(replace(emergency.record, board_id=12), 3), by_id, now)


def test_tickets_at_risk_lists_the_oldest_first():
    tickets = [
        replace(open_ticket(local(3, 10)), record=replace(open_ticket(local(3, 10)).record, id=1)),
        replace(open_ticket(local(3, 9)), record=replace(open_ticket(local(3, 9)).record, id=2)),
        replace(open_ticket(local(3, 11)), record=replace(open_ticket(local(3, 11)).record, id=3)),
    ]
    found = tickets_at_risk(tickets, UNANSWERED_15, now=local(3, 11, 10), calendar=CALENDAR)
    assert [r.ticket.id for r in found] == [2, 1]


@pytest.mark.parametrize(
    ("text", "day_minutes", "minutes"),
    [("15m", 540, 15.0), ("2h", 540, 120.0), ("3d", 540, 1620.0), ("1d", 1440, 1440.0),
     (" 1.5h ", 540, 90.0)],
)  # fmt: skip
def test_durations(text, day_minutes, minutes):
    assert duration_minutes(text, day_minutes=day_minutes) == minutes


@pytest.mark.parametrize("text", ["15", "2 hours", "0m", "-1h", "h", ""])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="duration"):
        duration_minutes(text, day_minutes=540)


def test_a_rule_needs_exactly_one_threshold():
    with pytest.raises(ValueError, match="exactly one of after and before_due"):
        AlertRule("x", AlertWhen.UNANSWERED)
    with pytest.raises(ValueError, match="exactly one of after and before_due"):
        AlertRule("x", AlertWhen.UNANSWERED, after_minutes=1.0, before_due_minutes=1.0)


@pytest.mark.parametrize(
    ("text", "near", "stage", "due"),
    [
        # the captured staging sample: entered 2022-07-02 04:20 UTC, due Monday 13:00 EDT
        ("Respond by Mon 07/04 1:00 PM UTC-04", datetime(2022, 7, 2, 4, 20, tzinfo=UTC),
         SlaStage.RESPOND, datetime(2022, 7, 4, 17, 0, tzinfo=UTC)),
        ("Resolve by Tue 10/04 11:00 PM UTC-05", datetime(2022, 9, 30, 4, tzinfo=UTC),
         SlaStage.RESOLVE, datetime(2022, 10, 5, 4, 0, tzinfo=UTC)),
        ("Plan by Wed 11/04 12:30 AM UTC+05:30", datetime(2026, 11, 3, tzinfo=UTC),
         SlaStage.PLAN, datetime(2026, 11, 3, 19, 0, tzinfo=UTC)),
        # late December, due in early January: the year that puts it nearest
        ("Respond by Fri 01/01 9:00 AM UTC-06", datetime(2026, 12, 31, 20, tzinfo=UTC),
         SlaStage.RESPOND, datetime(2027, 1, 1, 15, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_the_due_time_is_read_from_the_sla_status(text, near, stage, due):
    found = SlaDue.parse(text, near=near)
    assert found == SlaDue(stage, due)


@pytest.mark.parametrize(
    "text", ["Resolved", "Waiting", "", "Respond by someday", "Respond by Mon 13/45 1:00 PM UTC-04"]
)
def test_a_status_without_a_due_time_gives_none(text):
    assert SlaDue.parse(text, near=datetime(2026, 11, 3, tzinfo=UTC)) is None

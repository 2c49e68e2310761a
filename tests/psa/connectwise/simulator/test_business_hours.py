"""The business-hours arithmetic behind the simulator's SLA clocks (08:00-17:00, Mon-Fri)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from psa.connectwise.simulator.business_hours import BusinessHours

CHICAGO = ZoneInfo("America/Chicago")
HOURS = BusinessHours(timezone=CHICAGO, first=date(2026, 10, 1), last=date(2026, 11, 30))


def _at(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=CHICAGO).timestamp())


def test_friday_afternoon_plus_two_business_hours_is_monday_morning_across_dst():
    # Fri 30 Oct 16:00 CDT: one hour left that day; DST ends Sun 1 Nov; the second hour is
    # Mon 2 Nov 08:00-09:00 CST. So +120 business minutes lands on Monday 09:00 local.
    friday = _at(2026, 10, 30, 16, 0)
    monday = _at(2026, 11, 2, 9, 0)
    assert HOURS.add(friday, 120 * 60) == monday
    assert HOURS.between(friday, monday) == 120 * 60
    assert monday - friday == (65 + 1) * 3600  # 66 wall hours: the DST hour is in there


def test_outside_hours_counts_nothing_and_starts_at_the_next_opening():
    saturday_noon = _at(2026, 10, 31, 12, 0)
    sunday_noon = _at(2026, 11, 1, 12, 0)
    assert not HOURS.is_open(saturday_noon)
    assert HOURS.between(saturday_noon, sunday_noon) == 0
    assert HOURS.next_open(saturday_noon) == _at(2026, 11, 2, 8, 0)
    assert HOURS.add(saturday_noon, 30 * 60) == _at(2026, 11, 2, 8, 30)
    assert HOURS.is_open(_at(2026, 11, 2, 16, 59))
    assert not HOURS.is_open(_at(2026, 11, 2, 17, 0))

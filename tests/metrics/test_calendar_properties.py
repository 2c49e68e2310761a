"""Properties of the business calendar (metrics/calendar.py), over generated instants in
several time zones (DST north and south, half- and quarter-hour offsets, none at all) and
with public holidays: business time is additive over split intervals, never negative, never
more than the elapsed time, monotone, zero outside business hours, and a whole working day
holds exactly its opening hours, on DST days too."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.calendar import BusinessCalendar, BusinessHours

SETTINGS = settings(max_examples=150, deadline=None)
TOLERANCE = 1e-6  # minutes; the calendar works in float seconds

CALENDARS = [
    BusinessCalendar(BusinessHours(timezone="America/Chicago", country="US")),
    BusinessCalendar(BusinessHours(timezone="Europe/London", country="GB")),
    BusinessCalendar(BusinessHours(timezone="Australia/Sydney", country="AU", subdivision="NSW")),
    BusinessCalendar(BusinessHours(timezone="Asia/Kolkata", start=time(9, 30), end=time(18, 0))),
    BusinessCalendar(
        BusinessHours(timezone="Pacific/Chatham", days=frozenset(range(7)), country="NZ")
    ),
    BusinessCalendar(
        BusinessHours(
            timezone="America/St_Johns",
            days=frozenset({0, 2, 4, 6}),
            extra_holidays=frozenset({date(2026, 3, 8), date(2026, 11, 1)}),
        )
    ),
    # Opening hours that contain the night's DST change: those days are an hour short or long.
    BusinessCalendar(
        BusinessHours(
            timezone="America/Chicago", days=frozenset(range(7)), start=time(1), end=time(3)
        )
    ),
]
calendars = st.sampled_from(CALENDARS)


def _transitions(zone: str) -> list[datetime]:
    """The instants in 2025-2027 when the zone's UTC offset changes (hour by hour scan)."""
    tz = ZoneInfo(zone)
    found = []
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(tz).utcoffset()
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        moment += timedelta(hours=1)
        now = moment.astimezone(tz).utcoffset()
        if now != offset:
            found.append(moment)
            offset = now
    return found


DST_CHANGES = sorted({t for c in CALENDARS for t in _transitions(c.hours.timezone)})
anywhere = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
near_a_change = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(DST_CHANGES),
    st.integers(min_value=-3 * 86_400, max_value=3 * 86_400),
)
instants = anywhere | near_a_change


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


@SETTINGS
@given(calendars, st.lists(instants, min_size=3, max_size=3))
def test_business_time_is_additive_bounded_and_monotone(calendar, moments):
    a, b, c = sorted(moments)
    ab = calendar.working_minutes(a, b)
    bc = calendar.working_minutes(b, c)
    ac = calendar.working_minutes(a, c)
    assert math.isclose(ac, ab + bc, abs_tol=TOLERANCE)
    for part, (start, end) in ((ab, (a, b)), (bc, (b, c)), (ac, (a, c))):
        assert -TOLERANCE <= part <= minutes(end - start) + TOLERANCE
    assert ab <= ac + TOLERANCE
    assert bc <= ac + TOLERANCE
    assert calendar.working_minutes(c, a) == 0.0  # backwards: nothing
    # The same instants seen from another zone are the same instants.
    tz = ZoneInfo("Asia/Tokyo")
    assert math.isclose(
        calendar.working_minutes(a.astimezone(tz), c.astimezone(tz)), ac, abs_tol=TOLERANCE
    )


def _public_holiday(calendar: BusinessCalendar, day: date) -> bool:
    country = calendar.hours.country
    if country is None:
        return False
    found = holidays.country_holidays(country, subdiv=calendar.hours.subdivision, years=day.year)
    return day in found


@SETTINGS
@given(calendars, st.dates(min_value=date(2025, 1, 2), max_value=date(2027, 12, 30)))
def test_a_whole_day_holds_its_opening_hours_or_nothing(calendar, day):
    hours = calendar.hours
    tz = calendar.tz
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    whole = calendar.working_minutes(midnight, next_midnight)
    opening = datetime.combine(day, hours.start, tzinfo=tz)
    closing = datetime.combine(day, hours.end, tzinfo=tz)
    working = (
        day.weekday() in hours.days
        and not _public_holiday(calendar, day)
        and day not in hours.extra_holidays
    )
    if not working:
        assert whole == 0.0
        return
    # Real elapsed time between the local opening and closing (fold=0 on a gap or fold):
    # the wall-clock hours, except when the night's DST change falls inside them.
    expected = max(0.0, minutes(closing.astimezone(UTC) - opening.astimezone(UTC)))
    assert math.isclose(whole, expected, abs_tol=TOLERANCE)
    # Nothing before opening or after closing.
    assert calendar.working_minutes(midnight, opening) == 0.0
    assert calendar.working_minutes(closing, next_midnight) == 0.0


@SETTINGS
@given(calendars, instants, st.integers(min_value=0, max_value=86_400 * 3))
def test_business_time_is_the_overlap_with_opening_hours_and_nothing_outside(
    calendar, moment, seconds
):
    """Any interval (up to three days, often across a DST change) holds exactly its overlap
    with the working days' opening hours: none outside them."""
    end = moment + timedelta(seconds=seconds)
    got = calendar.working_minutes(moment, end)
    tz = calendar.tz
    first = moment.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    overlap = 0.0
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            opening = datetime.combine(day, calendar.hours.start, tzinfo=tz).astimezone(UTC)
            closing = datetime.combine(day, calendar.hours.end, tzinfo=tz).astimezone(UTC)
            lo, hi = max(opening, moment), min(closing, end)
            if hi > lo:
                overlap += minutes(hi - lo)
        day += timedelta(days=1)
    assert math.isclose(got, overlap, abs_tol=TOLERANCE)

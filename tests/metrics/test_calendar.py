"""The business calendar (docs/metrics.md, "Time bases"): exact working time, holidays, DST,
validation.

Expected values are hand-computed from a paper calendar of 2026: 1 Nov 2026 is a Sunday,
Thanksgiving is Thursday 26 Nov, US DST starts Sunday 8 Mar (02:00 CST -> 03:00 CDT, i.e.
08:00 UTC) and ends Sunday 1 Nov (02:00 CDT -> 01:00 CST, i.e. 07:00 UTC).
"""

from __future__ import annotations

import dataclasses
import math
import random
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics.calendar import BusinessCalendar, BusinessHours

CHICAGO = ZoneInfo("America/Chicago")
EVERY_DAY = frozenset(range(7))

# Mon-Fri 08:00-17:00 in Chicago, US public holidays, Christmas Eve off as an extra holiday.
US_HOURS = BusinessHours(
    timezone="America/Chicago",
    country="US",
    extra_holidays=frozenset({date(2026, 12, 24)}),
)
US = BusinessCalendar(US_HOURS)
# 08:00-17:00 every day in Chicago, so the DST Sundays are working days.
SEVEN_DAYS = BusinessCalendar(BusinessHours(timezone="America/Chicago", days=EVERY_DAY))


def chi(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("calendar", "start", "end", "minutes"),
    [
        # Tue 09:15-11:45 inside hours: 2 h 30
        pytest.param(US, chi(2026, 11, 17, 9, 15), chi(2026, 11, 17, 11, 45), 150, id="same-day"),
        # 06:00-10:00, hours start at 08:00: 08:00-10:00
        pytest.param(US, chi(2026, 11, 17, 6), chi(2026, 11, 17, 10), 120, id="start-early"),
        # 15:30-20:00, hours end at 17:00: 15:30-17:00
        pytest.param(US, chi(2026, 11, 17, 15, 30), chi(2026, 11, 17, 20), 90, id="end-late"),
        # 18:00 Tue to 07:00 Wed: all outside hours
        pytest.param(US, chi(2026, 11, 17, 18), chi(2026, 11, 18, 7), 0, id="night-only"),
        # Tue 16:00-17:00 + Wed 08:00-09:30
        pytest.param(US, chi(2026, 11, 17, 16), chi(2026, 11, 18, 9, 30), 150, id="one-night"),
        # docs/metrics.md, "Time bases": Fri 16:00-17:00 + Mon 08:00-09:00
        pytest.param(US, chi(2026, 11, 20, 16), chi(2026, 11, 23, 9), 120, id="weekend"),
        # Sat 10:00 to Sun 15:00: no working day
        pytest.param(US, chi(2026, 11, 21, 10), chi(2026, 11, 22, 15), 0, id="inside-weekend"),
        # Wed 16:00-17:00 + Thanksgiving 0 + Fri 08:00-09:00
        pytest.param(US, chi(2026, 11, 25, 16), chi(2026, 11, 27, 9), 120, id="thanksgiving"),
        # Wed 23 Dec 16:00-17:00, Thu 24 extra holiday, Fri 25 Christmas, weekend, Mon 08-09
        pytest.param(US, chi(2026, 12, 23, 16), chi(2026, 12, 28, 9), 120, id="extra-holiday"),
        # Mon 16 - Mon 23 Nov: five full days of 9 h
        pytest.param(US, chi(2026, 11, 16), chi(2026, 11, 23), 5 * 540, id="full-week"),
        # Thanksgiving week: four full days
        pytest.param(US, chi(2026, 11, 23), chi(2026, 11, 30), 4 * 540, id="holiday-week"),
        # 30 seconds
        pytest.param(US, chi(2026, 11, 17, 9), chi(2026, 11, 17, 9, 0, 30), 0.5, id="seconds"),
        # 2026 has 261 weekdays (52 weeks + Thu 31 Dec); 11 US holidays fall on weekdays
        # (Independence Day is Sat 4 Jul, observed Fri 3 Jul) plus the extra 24 Dec: 249 days
        pytest.param(US, chi(2026, 1, 1), chi(2027, 1, 1), 249 * 540, id="whole-year"),
        # Spring-forward Sunday is still 08:00-17:00 local: 9 h
        pytest.param(SEVEN_DAYS, chi(2026, 3, 8), chi(2026, 3, 9), 540, id="spring-forward-day"),
        # Sat 16:00-17:00 CST + Sun 08:00-09:00 CDT across the change night
        pytest.param(
            SEVEN_DAYS, chi(2026, 3, 7, 16), chi(2026, 3, 8, 9), 120, id="spring-forward-night"
        ),
        # Sunday 08:00 CDT is 13:00 UTC (not 14:00 as in winter): 13:00-14:00 UTC counts
        pytest.param(
            SEVEN_DAYS, utc(2026, 3, 8, 12), utc(2026, 3, 8, 14), 60, id="spring-forward-utc"
        ),
        pytest.param(SEVEN_DAYS, chi(2026, 11, 1), chi(2026, 11, 2), 540, id="fall-back-day"),
        # Sat 16:00-17:00 CDT + Sun 08:00-09:00 CST across the change night
        pytest.param(
            SEVEN_DAYS, chi(2026, 10, 31, 16), chi(2026, 11, 1, 9), 120, id="fall-back-night"
        ),
        # Sunday 08:00 CST is 14:00 UTC (not 13:00 as in summer): 14:00-15:00 UTC counts
        pytest.param(
            SEVEN_DAYS, utc(2026, 11, 1, 13), utc(2026, 11, 1, 15), 60, id="fall-back-utc"
        ),
        # Mon-Fri calendar: the DST weekend itself is not worked; Fri 16-17 + Mon 08-09
        pytest.param(US, chi(2026, 3, 6, 16), chi(2026, 3, 9, 9), 120, id="dst-weekend"),
        pytest.param(US, chi(2026, 11, 17, 12), chi(2026, 11, 17, 10), 0, id="end-before-start"),
        pytest.param(US, chi(2026, 11, 17, 12), chi(2026, 11, 17, 12), 0, id="empty"),
    ],
)
def test_working_minutes(
    calendar: BusinessCalendar, start: datetime, end: datetime, minutes: float
) -> None:
    assert calendar.working_minutes(start, end) == pytest.approx(minutes, abs=1e-9)


def test_result_is_a_float() -> None:
    result = US.working_minutes(chi(2026, 11, 17, 12), chi(2026, 11, 17, 10))
    assert isinstance(result, float)
    assert result == 0.0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Fri 20 Nov 16:00 CST = 22:00 UTC; Mon 23 Nov 09:00 CST = 15:00 UTC
        (utc(2026, 11, 20, 22), utc(2026, 11, 23, 15)),
        (
            datetime(2026, 11, 21, 3, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            datetime(2026, 11, 23, 20, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        (
            datetime(2026, 11, 20, 16, tzinfo=timezone(timedelta(hours=-6))),
            datetime(2026, 11, 23, 9, tzinfo=timezone(timedelta(hours=-6))),
        ),
        (
            datetime(2026, 11, 21, 7, tzinfo=ZoneInfo("Asia/Tokyo")),
            datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Tokyo")),
        ),
    ],
)
def test_input_offset_does_not_matter(start: datetime, end: datetime) -> None:
    # the same instants as the contract's Friday 16:00 -> Monday 09:00 Chicago case
    assert US.working_minutes(start, end) == pytest.approx(120)


@pytest.mark.parametrize(
    ("opening", "closing", "day", "minutes"),
    [
        # normal day: 02:30-05:00 is 2 h 30
        (time(2, 30), time(5), date(2026, 3, 9), 150),
        # 02:30 does not exist on 8 Mar; fold=0 reads it with the CST offset: 08:30 UTC,
        # i.e. 03:30 CDT. Closing 05:00 CDT = 10:00 UTC: 1 h 30
        (time(2, 30), time(5), date(2026, 3, 8), 90),
        # opening 02:30 -> 03:30 CDT is after closing 03:15 CDT: no working time that day
        (time(2, 30), time(3, 15), date(2026, 3, 8), 0),
        (time(2, 30), time(3, 15), date(2026, 3, 9), 45),
        # 01:30 exists twice on 1 Nov; fold=0 is the first (CDT, 06:30 UTC). Closing 03:00 CST
        # = 09:00 UTC: the night really lasts 2 h 30 of elapsed time
        (time(1, 30), time(3), date(2026, 11, 1), 150),
        (time(1, 30), time(3), date(2026, 11, 2), 90),
    ],
)
def test_opening_in_dst_gap_or_fold(opening: time, closing: time, day: date, minutes: int) -> None:
    hours = BusinessHours(timezone="America/Chicago", days=EVERY_DAY, start=opening, end=closing)
    calendar = BusinessCalendar(hours)
    start = datetime.combine(day, time(0), tzinfo=CHICAGO)
    assert calendar.working_minutes(start, start + timedelta(days=1)) == pytest.approx(minutes)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        US.working_minutes(datetime(2026, 11, 17, 9), chi(2026, 11, 17, 10))
    with pytest.raises(ValueError, match="aware"):
        US.working_days(chi(2026, 11, 17, 9), datetime(2026, 11, 18))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 25), True),  # Wednesday
        (date(2026, 11, 26), False),  # Thanksgiving
        (date(2026, 11, 27), True),  # Friday after: not a federal holiday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 12, 24), False),  # extra holiday
        (date(2026, 7, 3), False),  # Independence Day observed (4 Jul is a Saturday)
        (date(2027, 11, 25), False),  # Thanksgiving 2027: holidays of any year are loaded
        (date(2026, 3, 2), True),  # Texas Independence Day is not a US-wide holiday
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert US.is_working_day(day) is working


def test_subdivision_holidays() -> None:
    texas = BusinessCalendar(dataclasses.replace(US_HOURS, subdivision="TX"))
    assert not texas.is_working_day(date(2026, 3, 2))  # Texas Independence Day, a Monday
    assert not texas.is_working_day(date(2026, 11, 27))  # Friday after Thanksgiving in Texas


def test_without_country_only_weekdays_and_extras_count() -> None:
    plain = BusinessCalendar(BusinessHours(extra_holidays=frozenset({date(2026, 11, 27)})))
    assert plain.is_working_day(date(2026, 11, 26))
    assert not plain.is_working_day(date(2026, 11, 27))
    assert not plain.is_working_day(date(2026, 11, 28))


def test_country_code_case_is_ignored() -> None:
    lower = BusinessCalendar(dataclasses.replace(US_HOURS, country="us"))
    assert not lower.is_working_day(date(2026, 11, 26))
    assert lower.fingerprint == US.fingerprint


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # November 2026: 21 weekdays (2-6, 9-13, 16-20, 23-27, 30) less 11 and 26 Nov
        (chi(2026, 11, 1), chi(2026, 12, 1), 19),
        # the same window in UTC: 1 Nov 00:00 CDT = 05:00Z, 1 Dec 00:00 CST = 06:00Z
        (utc(2026, 11, 1, 5), utc(2026, 12, 1, 6), 19),
        # one second past Monday 2 Nov's midnight: 2 Nov no longer counts
        (chi(2026, 11, 2, 0, 0, 1), chi(2026, 12, 1), 18),
        # end exactly at Monday 30 Nov's midnight: 30 Nov is outside [start, end)
        (chi(2026, 11, 1), chi(2026, 11, 30), 18),
        # Tuesday 17 Nov 09:00 to 18:00: no midnight inside
        (chi(2026, 11, 17, 9), chi(2026, 11, 17, 18), 0),
        # 16 Nov 12:00 to 17 Nov 12:00: the midnight starting Tue 17 Nov
        (chi(2026, 11, 16, 12), chi(2026, 11, 17, 12), 1),
        (chi(2026, 1, 1), chi(2027, 1, 1), 249),
        (chi(2026, 12, 1), chi(2026, 11, 1), 0),
    ],
)
def test_working_days(start: datetime, end: datetime, days: int) -> None:
    assert US.working_days(start, end) == days


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (BusinessHours(timezone="Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
        (BusinessHours(timezone=""), "unknown timezone"),
        (BusinessHours(country="XX"), "unknown holidays country code 'XX'"),
        (BusinessHours(country="US", subdivision="ZZ"), "unknown holidays subdivision 'ZZ'"),
        (BusinessHours(subdivision="TX"), "without a country"),
        (BusinessHours(start=time(17), end=time(8)), "must be after opening"),
        (BusinessHours(start=time(9), end=time(9)), "must be after opening"),
        (BusinessHours(days=frozenset({0, 7})), "bad working day numbers 7"),
        (BusinessHours(days=frozenset({-1})), "bad working day numbers -1"),
        (BusinessHours(days=frozenset()), "no working days"),
    ],
)
def test_bad_hours_are_refused(hours: BusinessHours, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(hours)


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "America/New_York"},
        {"days": frozenset({0, 1, 2, 3, 4, 5})},
        {"start": time(9)},
        {"end": time(18)},
        {"country": "CA"},
        {"country": None},
        {"subdivision": "TX"},
        {"extra_holidays": frozenset({date(2026, 12, 31)})},
    ],
)
def test_fingerprint_changes_with_every_parameter(change: dict[str, Any]) -> None:
    changed = BusinessCalendar(dataclasses.replace(US_HOURS, **change))
    assert changed.fingerprint != US.fingerprint


def test_fingerprint_is_stable_across_processes() -> None:
    assert BusinessCalendar(US_HOURS).fingerprint == US.fingerprint
    code = (
        "from datetime import date\n"
        "from metrics.calendar import BusinessCalendar, BusinessHours\n"
        "hours = BusinessHours(timezone='America/Chicago', country='US',"
        " extra_holidays=frozenset({date(2026, 12, 24)}))\n"
        "print(BusinessCalendar(hours).fingerprint)\n"
    )
    # a fresh interpreter has a different hash seed: the fingerprint must not depend on it
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == US.fingerprint


def _sampled_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """An independent oracle: classify the middle of every 15-minute slot of [start, end).

    Start and end lie on UTC quarter-hours and Chicago offsets are whole hours, so every
    opening and closing (on the hour here) is a slot boundary and each slot is wholly in or out.
    """
    hours = calendar.hours
    total = 0
    moment = start
    while moment < end:
        local = (moment + timedelta(minutes=7.5)).astimezone(calendar.tz)
        if calendar.is_working_day(local.date()) and hours.start <= local.time() < hours.end:
            total += 15
        moment += timedelta(minutes=15)
    return total


@pytest.mark.parametrize("calendar", [US, SEVEN_DAYS], ids=["us", "seven-days"])
def test_random_intervals_are_additive_bounded_and_match_sampling(
    calendar: BusinessCalendar,
) -> None:
    rng = random.Random(20261122)
    # quarter-hours from 1 Mar to 10 Nov 2026 in UTC: both DST changes are inside
    origin = utc(2026, 3, 1)
    span = (utc(2026, 11, 10) - origin) // timedelta(minutes=15)
    offsets = [timezone(timedelta(hours=h)) for h in (-6, 0, 5, 9)]
    for _ in range(300):
        start = origin + timedelta(minutes=15 * rng.randrange(span))
        end = start + timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 4))  # up to 4 days
        split = start + (end - start) * rng.random()
        start_shown = start.astimezone(rng.choice(offsets))
        whole = calendar.working_minutes(start_shown, end)
        parts = calendar.working_minutes(start_shown, split) + calendar.working_minutes(
            split, end.astimezone(rng.choice(offsets))
        )
        elapsed = (end - start).total_seconds() / 60
        assert math.isclose(whole, parts, abs_tol=1e-6), (start, split, end)
        assert 0 <= whole <= elapsed + 1e-9, (start, end)
        assert whole == pytest.approx(_sampled_minutes(calendar, start, end)), (start, end)

"""Windows and contest periods (docs/metrics.md, "Windows"), hand-checked against a paper calendar.

2026 facts used: Sunday 22 Nov 2026 is the reference "now"; 1 Nov and 8 Mar 2026 are the
Chicago DST Sundays (CDT is UTC-5, CST is UTC-6).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from metrics.windows import (
    WEEKDAYS,
    Period,
    Window,
    named_window,
    period_window,
    window_for_dates,
)

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 22, 10, tzinfo=CHICAGO)  # a Sunday


def chi(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_month_across_fall_back_is_local_midnight_to_local_midnight() -> None:
    window = window_for_dates(date(2026, 11, 1), date(2026, 12, 1), CHICAGO)
    assert window.start.isoformat() == "2026-11-01T00:00:00-05:00"
    assert window.end.isoformat() == "2026-12-01T00:00:00-06:00"
    assert window.utc() == (utc(2026, 11, 1, 5), utc(2026, 12, 1, 6))
    # 30 days plus the hour repeated on 1 Nov
    start, end = window.utc()
    assert end - start == timedelta(days=30, hours=1)


def test_month_across_spring_forward_is_an_hour_short() -> None:
    window = window_for_dates(date(2026, 3, 1), date(2026, 4, 1), CHICAGO)
    start, end = window.utc()
    assert (start, end) == (utc(2026, 3, 1, 6), utc(2026, 4, 1, 5))
    assert end - start == timedelta(days=31, hours=-1)


def test_window_for_dates_refuses_end_not_after_start() -> None:
    with pytest.raises(ValueError, match="must be after"):
        window_for_dates(date(2026, 11, 2), date(2026, 11, 1), CHICAGO)
    with pytest.raises(ValueError, match="must be after"):
        window_for_dates(date(2026, 11, 2), date(2026, 11, 2), CHICAGO)


@pytest.mark.parametrize(
    ("period", "now", "week_start", "offset", "first", "after", "label"),
    [
        (Period.DAILY, NOW, 0, 0, date(2026, 11, 22), date(2026, 11, 23), "Sun 22 Nov 2026"),
        (Period.DAILY, NOW, 0, -1, date(2026, 11, 21), date(2026, 11, 22), "Sat 21 Nov 2026"),
        # Sunday 22 Nov belongs to the Monday-started week of Mon 16 Nov
        (Period.WEEKLY, NOW, 0, 0, date(2026, 11, 16), date(2026, 11, 23), "Week of 16 Nov 2026"),
        (Period.WEEKLY, NOW, 0, -1, date(2026, 11, 9), date(2026, 11, 16), "Week of 9 Nov 2026"),
        (Period.WEEKLY, NOW, 0, 1, date(2026, 11, 23), date(2026, 11, 30), "Week of 23 Nov 2026"),
        # with Sunday-started weeks it opens a new week
        (Period.WEEKLY, NOW, 6, 0, date(2026, 11, 22), date(2026, 11, 29), "Week of 22 Nov 2026"),
        # ...and Saturday 21 Nov is the end of the week of Sunday 15 Nov
        (
            Period.WEEKLY,
            chi(2026, 11, 21, 23, 59),
            6,
            0,
            date(2026, 11, 15),
            date(2026, 11, 22),
            "Week of 15 Nov 2026",
        ),
        # a week across the turn of the year
        (
            Period.WEEKLY,
            chi(2027, 1, 1, 12),
            0,
            0,
            date(2026, 12, 28),
            date(2027, 1, 4),
            "Week of 28 Dec 2026",
        ),
        (Period.MONTHLY, NOW, 0, 0, date(2026, 11, 1), date(2026, 12, 1), "November 2026"),
        (Period.MONTHLY, NOW, 0, -1, date(2026, 10, 1), date(2026, 11, 1), "October 2026"),
        (Period.MONTHLY, NOW, 0, 1, date(2026, 12, 1), date(2027, 1, 1), "December 2026"),
        (Period.MONTHLY, NOW, 0, 2, date(2027, 1, 1), date(2027, 2, 1), "January 2027"),
        (
            Period.MONTHLY,
            chi(2026, 1, 15),
            0,
            -1,
            date(2025, 12, 1),
            date(2026, 1, 1),
            "December 2025",
        ),
        (Period.QUARTERLY, NOW, 0, 0, date(2026, 10, 1), date(2027, 1, 1), "Q4 2026"),
        (Period.QUARTERLY, NOW, 0, -1, date(2026, 7, 1), date(2026, 10, 1), "Q3 2026"),
        (Period.QUARTERLY, NOW, 0, 1, date(2027, 1, 1), date(2027, 4, 1), "Q1 2027"),
        (
            Period.QUARTERLY,
            chi(2026, 2, 10),
            0,
            -1,
            date(2025, 10, 1),
            date(2026, 1, 1),
            "Q4 2025",
        ),
        # the last minute of Q1 and the first of Q2
        (
            Period.QUARTERLY,
            chi(2026, 3, 31, 23, 59),
            0,
            0,
            date(2026, 1, 1),
            date(2026, 4, 1),
            "Q1 2026",
        ),
        (Period.QUARTERLY, chi(2026, 4, 1), 0, 0, date(2026, 4, 1), date(2026, 7, 1), "Q2 2026"),
        (Period.YEARLY, NOW, 0, 0, date(2026, 1, 1), date(2027, 1, 1), "2026"),
        (Period.YEARLY, NOW, 0, -1, date(2025, 1, 1), date(2026, 1, 1), "2025"),
    ],
)
def test_period_window(
    period: Period,
    now: datetime,
    week_start: int,
    offset: int,
    first: date,
    after: date,
    label: str,
) -> None:
    window = period_window(period, now=now, tz=CHICAGO, week_start=week_start, offset=offset)
    assert window == window_for_dates(first, after, CHICAGO)
    assert window.contains(now) is (offset == 0)
    assert window.label() == label


def test_period_is_chosen_by_local_date_of_now() -> None:
    # 1 Apr 2026 03:00 UTC is 31 Mar 22:00 CDT: still Q1 and March in Chicago, Q2 in UTC
    now = utc(2026, 4, 1, 3)
    assert period_window(Period.QUARTERLY, now=now, tz=CHICAGO).label() == "Q1 2026"
    assert period_window(Period.MONTHLY, now=now, tz=CHICAGO).label() == "March 2026"
    assert period_window(Period.QUARTERLY, now=now, tz=ZoneInfo("UTC")).label() == "Q2 2026"


def test_daily_window_on_fall_back_day_lasts_25_hours() -> None:
    window = period_window(Period.DAILY, now=chi(2026, 11, 1, 12), tz=CHICAGO)
    assert window.utc() == (utc(2026, 11, 1, 5), utc(2026, 11, 2, 6))


def test_period_accepts_its_string_value() -> None:
    window = period_window("monthly", now=NOW, tz=CHICAGO)  # type: ignore[arg-type]
    assert window.label() == "November 2026"


def test_period_window_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="week_start"):
        period_window(Period.WEEKLY, now=NOW, tz=CHICAGO, week_start=7)
    with pytest.raises(ValueError, match="aware"):
        period_window(Period.DAILY, now=datetime(2026, 11, 22), tz=CHICAGO)


@pytest.mark.parametrize(
    ("name", "first", "after"),
    [
        ("today", date(2026, 11, 22), date(2026, 11, 23)),
        ("yesterday", date(2026, 11, 21), date(2026, 11, 22)),
        ("week", date(2026, 11, 16), date(2026, 11, 23)),
        ("last-week", date(2026, 11, 9), date(2026, 11, 16)),
        ("month", date(2026, 11, 1), date(2026, 12, 1)),
        ("last-month", date(2026, 10, 1), date(2026, 11, 1)),
        ("quarter", date(2026, 10, 1), date(2027, 1, 1)),
        ("last-quarter", date(2026, 7, 1), date(2026, 10, 1)),
        ("year", date(2026, 1, 1), date(2027, 1, 1)),
        ("last-year", date(2025, 1, 1), date(2026, 1, 1)),
        # chat spellings
        ("Last Month", date(2026, 10, 1), date(2026, 11, 1)),
        (" last_month ", date(2026, 10, 1), date(2026, 11, 1)),
        ("TODAY", date(2026, 11, 22), date(2026, 11, 23)),
    ],
)
def test_named_window(name: str, first: date, after: date) -> None:
    assert named_window(name, now=NOW, tz=CHICAGO) == window_for_dates(first, after, CHICAGO)


def test_named_week_follows_week_start() -> None:
    window = named_window("week", now=NOW, tz=CHICAGO, week_start=WEEKDAYS["sunday"])
    assert window == window_for_dates(date(2026, 11, 22), date(2026, 11, 29), CHICAGO)


@pytest.mark.parametrize("name", ["fortnight", "", "last", "month-last", "lastmonth"])
def test_unknown_named_window_lists_the_valid_words(name: str) -> None:
    with pytest.raises(ValueError, match="unknown window") as raised:
        named_window(name, now=NOW, tz=CHICAGO)
    for word in ("today", "yesterday", "week", "month", "last-month", "quarter", "last-year"):
        assert word in str(raised.value)


def test_contains_is_half_open_and_compares_instants() -> None:
    window = window_for_dates(date(2026, 11, 1), date(2026, 12, 1), CHICAGO)
    assert window.contains(chi(2026, 11, 1))
    assert window.contains(utc(2026, 11, 1, 5))  # the same instant as local midnight
    assert not window.contains(utc(2026, 11, 1, 4, 59, 59))
    assert window.contains(chi(2026, 11, 30, 23, 59, 59))
    assert not window.contains(chi(2026, 12, 1))
    assert not window.contains(utc(2026, 12, 1, 6))
    # 1 Dec 05:30 UTC is still 30 Nov 23:30 CST
    assert window.contains(utc(2026, 12, 1, 5, 30))
    # 1 Nov 01:30 CST (fold=1, the second 01:30) is 07:30 UTC: inside
    assert window.contains(datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO))
    with pytest.raises(ValueError, match="aware"):
        window.contains(datetime(2026, 11, 15))


def test_window_refuses_naive_or_reversed_ends() -> None:
    with pytest.raises(ValueError, match="aware"):
        Window(datetime(2026, 11, 1), chi(2026, 12, 1))
    with pytest.raises(ValueError, match="must be after"):
        Window(chi(2026, 12, 1), chi(2026, 11, 1))
    # the same instant in two zones is still an empty window
    with pytest.raises(ValueError, match="must be after"):
        Window(chi(2026, 11, 1), utc(2026, 11, 1, 5))


def test_utc_returns_aware_utc_datetimes() -> None:
    window = Window(
        datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 11, 2, tzinfo=timezone(timedelta(hours=2))),
    )
    assert window.utc() == (utc(2026, 10, 31, 22), utc(2026, 11, 1, 22))
    assert all(moment.utcoffset() == timedelta(0) for moment in window.utc())


@pytest.mark.parametrize(
    ("window", "label"),
    [
        (
            window_for_dates(date(2026, 11, 1), date(2026, 11, 15), CHICAGO),
            "1 Nov 2026 – 14 Nov 2026",
        ),
        (
            window_for_dates(date(2026, 11, 1), date(2026, 11, 3), CHICAGO),
            "1 Nov 2026 – 2 Nov 2026",
        ),
        # two whole months are not a month nor a quarter
        (
            window_for_dates(date(2026, 10, 1), date(2026, 12, 1), CHICAGO),
            "1 Oct 2026 – 30 Nov 2026",
        ),
        # three months not starting a quarter
        (window_for_dates(date(2026, 2, 1), date(2026, 5, 1), CHICAGO), "1 Feb 2026 – 30 Apr 2026"),
        (
            Window(chi(2026, 11, 17, 8), chi(2026, 11, 17, 17, 30)),
            "17 Nov 2026 08:00 – 17 Nov 2026 17:30",
        ),
        # a UTC window labelled in its own zone
        (Window(utc(2026, 11, 1), utc(2026, 12, 1)), "November 2026"),
    ],
)
def test_label_of_arbitrary_windows(window: Window, label: str) -> None:
    assert window.label() == label


def test_weekdays() -> None:
    assert WEEKDAYS["monday"] == WEEKDAYS["mon"] == 0
    assert WEEKDAYS["wednesday"] == WEEKDAYS["wed"] == 2
    assert WEEKDAYS["sunday"] == WEEKDAYS["sun"] == 6
    assert len(WEEKDAYS) == 14
    assert sorted(set(WEEKDAYS.values())) == list(range(7))
    # the numbers are datetime's: Sunday 22 Nov 2026
    assert date(2026, 11, 22).weekday() == WEEKDAYS["sun"]

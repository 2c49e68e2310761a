"""Windows and contest periods (docs/metrics.md, "Windows").

A window is a half-open interval ``[start, end)`` of aware instants. Windows for dates and
periods are built from *local dates* in the configured timezone and converted with zoneinfo,
so a month across a DST change runs from local midnight to local midnight and is an hour
longer or shorter than 30 × 24 hours. Where local midnight falls in a DST gap, ``fold=0``
makes it the instant the date begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WEEKDAYS: dict[str, int] = {
    name: number
    for number, (full, short) in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue"),
            ("wednesday", "wed"),
            ("thursday", "thu"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in (full, short)
}
"""Weekday names, full and three-letter, to numbers (Monday = 0), for configuration."""

# Labels use fixed English names so they do not depend on the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ONE_DAY = timedelta(days=1)


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


def _short_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


def _short_moment(moment: datetime) -> str:
    return f"{_short_date(moment.date())} {moment:%H:%M}"


def _month_start(index: int) -> date:
    """The first day of month number ``index`` counted as ``year * 12 + month - 1``."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


@dataclass(frozen=True, slots=True)
class Window:
    """``[start, end)`` between two aware instants; ``start``'s zone is the window's zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, moment in (("start", self.start), ("end", self.end)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"window {name} must be aware, got {moment.isoformat()}")
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError(
                f"window end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )

    def contains(self, moment: datetime) -> bool:
        """True when ``start <= moment < end``, compared as UTC instants."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"moment must be aware, got {moment.isoformat()}")
        start, end = self.utc()
        return start <= moment.astimezone(UTC) < end

    def utc(self) -> tuple[datetime, datetime]:
        """Both ends as aware UTC datetimes (what the database compares against)."""
        return self.start.astimezone(UTC), self.end.astimezone(UTC)

    def label(self) -> str:
        """A human name: the period it is, or its first and last day (times if not whole days)."""
        local_end = self.end.astimezone(self.start.tzinfo)
        midnight = time(0)
        if self.start.time() != midnight or local_end.time() != midnight:
            return f"{_short_moment(self.start)} – {_short_moment(local_end)}"
        first, after = self.start.date(), local_end.date()
        if after == first + _ONE_DAY:
            return f"{_DAY_NAMES[first.weekday()]} {_short_date(first)}"
        if after == first + 7 * _ONE_DAY:
            return f"Week of {_short_date(first)}"
        if first.day == 1:
            index = first.year * 12 + first.month - 1
            if after == _month_start(index + 1):
                return f"{_MONTHS[first.month - 1]} {first.year}"
            if first.month % 3 == 1 and after == _month_start(index + 3):
                return f"Q{first.month // 3 + 1} {first.year}"
            if first.month == 1 and after == date(first.year + 1, 1, 1):
                return str(first.year)
        return f"{_short_date(first)} – {_short_date(after - _ONE_DAY)}"


def window_for_dates(start: date, end: date, tz: ZoneInfo) -> Window:
    """Local midnight of ``start`` to local midnight of ``end`` in ``tz``."""
    if end <= start:
        raise ValueError(f"end date {end} must be after start date {start}")
    return Window(
        datetime.combine(start, time(0), tzinfo=tz), datetime.combine(end, time(0), tzinfo=tz)
    )


def _local_date(now: datetime, tz: ZoneInfo) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got {now.isoformat()}")
    return now.astimezone(tz).date()


def period_window(
    period: Period, *, now: datetime, tz: ZoneInfo, week_start: int = 0, offset: int = 0
) -> Window:
    """The period containing ``now`` in ``tz``; ``offset`` -1 is the one before, +1 after."""
    if type(week_start) is not int or not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), got {week_start!r}")
    today = _local_date(now, tz)
    period = Period(period)
    if period is Period.DAILY:
        first = today + offset * _ONE_DAY
        return window_for_dates(first, first + _ONE_DAY, tz)
    if period is Period.WEEKLY:
        first = today - ((today.weekday() - week_start) % 7) * _ONE_DAY + 7 * offset * _ONE_DAY
        return window_for_dates(first, first + 7 * _ONE_DAY, tz)
    if period is Period.YEARLY:
        year = today.year + offset
        return window_for_dates(date(year, 1, 1), date(year + 1, 1, 1), tz)
    months = 1 if period is Period.MONTHLY else 3
    this_month = today.year * 12 + today.month - 1
    first_index = this_month - this_month % months + offset * months
    return window_for_dates(_month_start(first_index), _month_start(first_index + months), tz)


_NAMED: dict[str, tuple[Period, int]] = {
    "today": (Period.DAILY, 0),
    "yesterday": (Period.DAILY, -1),
    "week": (Period.WEEKLY, 0),
    "last-week": (Period.WEEKLY, -1),
    "month": (Period.MONTHLY, 0),
    "last-month": (Period.MONTHLY, -1),
    "quarter": (Period.QUARTERLY, 0),
    "last-quarter": (Period.QUARTERLY, -1),
    "year": (Period.YEARLY, 0),
    "last-year": (Period.YEARLY, -1),
}


def named_window(name: str, *, now: datetime, tz: ZoneInfo, week_start: int = 0) -> Window:
    """The window a chat word names, e.g. ``month`` or ``last-month`` (also "last month")."""
    word = "-".join(name.strip().casefold().replace("_", " ").split())
    try:
        period, offset = _NAMED[word]
    except KeyError:
        raise ValueError(f"unknown window {name!r}: use one of {', '.join(_NAMED)}") from None
    return period_window(period, now=now, tz=tz, week_start=week_start, offset=offset)

"""The business calendar: working time between two instants (docs/metrics.md, "Time bases").

Working time is computed exactly, not sampled. Each working date has one opening interval,
``[start, end)`` in local wall-clock time of the configured timezone; the working time between
two instants is the total overlap of those intervals with ``[start, end)`` of the arguments.

Decisions worth knowing (the README repeats them):

- Every local date is resolved on its own, so a DST change moves no working time: a day with
  08:00-17:00 hours is 9 hours long on the day the clocks spring forward or fall back.
- An opening or closing time that does not exist (DST gap) or exists twice (DST fold) is
  resolved with zoneinfo's ``fold=0``: the offset in force *before* the change. A 02:30
  opening on a spring-forward night whose clocks jump 02:00 -> 03:00 therefore opens at
  03:30 new time; on a fall-back night a 01:30 opening is the first 01:30. If that puts the
  opening at or after the closing, the date has no working time. Opening hours that contain
  the change itself (say 01:00-03:00) count the real elapsed time: an hour less or more.
- A working date is a configured weekday that is neither a public holiday of ``country``
  (and ``subdivision``) in the ``holidays`` package, observed days included, as that package
  gives them by default, nor one of ``extra_holidays``. Holidays take the whole date off.
- Partial days count exactly: the argument instants may fall anywhere, inside or outside
  opening hours, and only the overlap counts.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

_SECONDS_PER_MINUTE = 60.0
_SECONDS_PER_DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TABLE_MARGIN = 400  # dates tabled beyond those asked for when the span table grows


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """The business calendar's parameters, as configured in ``[business_hours]``."""

    timezone: str = "UTC"  # IANA name
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start: time = time(8, 0)  # local opening time
    end: time = time(17, 0)  # local closing time, must be after start
    country: str | None = None  # `holidays` package country code, e.g. "US"
    subdivision: str | None = None  # optional holidays subdivision, e.g. "TX"
    extra_holidays: frozenset[date] = frozenset()


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown timezone {name!r}: use an IANA name such as 'UTC'") from error


def _check_days(days: frozenset[int]) -> None:
    bad = sorted(repr(d) for d in days if type(d) is not int or not 0 <= d <= 6)
    if bad:
        raise ValueError(f"bad working day numbers {', '.join(bad)}: use 0 (Monday) to 6 (Sunday)")
    if not days:
        raise ValueError("no working days: name at least one day")


def _check_hours(start: time, end: time) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("opening and closing times are local wall-clock times without tzinfo")
    if end <= start:
        raise ValueError(f"closing time {end.isoformat()} must be after opening time {start}")


def _check_holidays(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise ValueError(f"holiday subdivision {subdivision!r} given without a country")
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as error:
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise ValueError(
                f"unknown holidays country code {country!r}: use a code of the holidays "
                "package such as 'US', 'GB' or 'DE'"
            ) from error
        raise ValueError(
            f"unknown holidays subdivision {subdivision!r} for {country}: "
            f"use one of {', '.join(supported[country])}"
        ) from error


class _SpanTable:
    """The opening intervals of the local dates ``first`` to ``last`` in time order, with the
    working seconds before each, covering the instants ``[lo, hi)``.

    ``elapsed(t)``, the working seconds between ``lo`` and ``t``, is one binary search: the
    working time between two instants is the difference of their ``elapsed``, exactly the sum
    of the intervals' overlaps with them (intervals lie within their own date, so they do
    not overlap each other and their order is the dates' order).
    """

    __slots__ = ("before", "closes", "first", "hi", "last", "lo", "opens")

    def __init__(
        self, first: int, last: int, lo: float, hi: float, spans: list[tuple[float, float]]
    ) -> None:
        self.first, self.last, self.lo, self.hi = first, last, lo, hi
        self.opens = [opening for opening, _ in spans]
        self.closes = [closing for _, closing in spans]
        self.before: list[float] = []
        total = 0.0
        for opening, closing in spans:
            self.before.append(total)
            total += closing - opening

    def elapsed(self, moment: float) -> float:
        i = bisect_right(self.opens, moment) - 1
        if i < 0:
            return 0.0
        closing = self.closes[i]
        return self.before[i] + (closing if closing < moment else moment) - self.opens[i]


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is UTC:  # the common case, and the cheapest test
        return
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment.isoformat()}")


class BusinessCalendar:
    """Working days and working time on one ``BusinessHours`` configuration.

    Per-date opening intervals (as POSIX seconds) and per-year holiday sets are cached, so
    repeated calls over the same dates cost a dictionary lookup per date.
    """

    __slots__ = (
        "_country",
        "_holiday_years",
        "_midnights",
        "_spans",
        "_spans_table",
        "hours",
        "tz",
    )

    def __init__(self, hours: BusinessHours) -> None:
        self.tz = _load_zone(hours.timezone)
        _check_days(hours.days)
        _check_hours(hours.start, hours.end)
        country = hours.country.strip().upper() if hours.country else None
        _check_holidays(country, hours.subdivision)
        self.hours = hours
        self._country = country
        self._holiday_years: dict[int, frozenset[date]] = {}
        # ordinal of a local date -> (opening, closing) in POSIX seconds, or None: not working
        self._spans: dict[int, tuple[float, float] | None] = {}
        self._midnights: dict[int, float] = {}
        self._spans_table = _SpanTable(0, -1, 0.0, 0.0, [])

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.hours!r})"

    @property
    def fingerprint(self) -> str:
        """A short hash of every parameter, stable across processes.

        It includes the ``holidays`` package version, because a new version may change the
        holiday dates and so the business time of stored tickets.
        """
        hours = self.hours
        text = repr(
            (
                hours.timezone,
                sorted(hours.days),
                hours.start.isoformat(),
                hours.end.isoformat(),
                self._country,
                hours.subdivision,
                sorted(d.isoformat() for d in hours.extra_holidays),
                holidays.__version__ if self._country else None,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _holidays_of(self, year: int) -> frozenset[date]:
        cached = self._holiday_years.get(year)
        if cached is None:
            found: frozenset[date] = frozenset()
            if self._country is not None:
                found = frozenset(
                    holidays.country_holidays(
                        self._country, subdiv=self.hours.subdivision, years=year
                    ).keys()
                )
            cached = found | {d for d in self.hours.extra_holidays if d.year == year}
            self._holiday_years[year] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a configured weekday and not a public or extra holiday."""
        return day.weekday() in self.hours.days and day not in self._holidays_of(day.year)

    def _span(self, ordinal: int) -> tuple[float, float] | None:
        """The opening interval of the local date ``ordinal`` in POSIX seconds, cached."""
        try:
            return self._spans[ordinal]
        except KeyError:
            pass
        day = date.fromordinal(ordinal)
        span: tuple[float, float] | None = None
        if self.is_working_day(day):
            # fold=0 (the default) resolves a gap or fold with the offset before the change
            opening = datetime.combine(day, self.hours.start, tzinfo=self.tz).timestamp()
            closing = datetime.combine(day, self.hours.end, tzinfo=self.tz).timestamp()
            if closing > opening:
                span = (opening, closing)
        self._spans[ordinal] = span
        return span

    def _local_ordinal(self, moment: datetime) -> int:
        return moment.astimezone(self.tz).toordinal()

    def _table(self, lo: float, hi: float) -> _SpanTable:
        """The span table, extended (by ``_TABLE_MARGIN`` dates) when it does not cover
        both instants; dates are found from each instant's UTC date, one either side, since
        a local date is never more than a day away from the UTC one."""
        table = self._spans_table
        if table.lo <= lo and hi < table.hi:
            return table
        first = int(lo // _SECONDS_PER_DAY) + _EPOCH_ORDINAL - 1
        last = int(hi // _SECONDS_PER_DAY) + _EPOCH_ORDINAL + 1
        if table.opens:
            first, last = min(first, table.first), max(last, table.last)
        first, last = first - _TABLE_MARGIN, last + _TABLE_MARGIN
        spans = [span for span in map(self._span, range(first, last + 1)) if span is not None]
        table = _SpanTable(first, last, self._midnight(first), self._midnight(last + 1), spans)
        self._spans_table = table
        return table

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Working time in minutes between two aware instants; 0.0 when ``end <= start``.

        The difference of the working time elapsed before each instant (``_SpanTable``), so
        a ticket open for months costs what one open for an hour does.
        """
        if start.tzinfo is not UTC:  # the checks, skipped in the common case: derive calls
            _require_aware(start, "start")  # this twice for every ticket it stores
        if end.tzinfo is not UTC:
            _require_aware(end, "end")
        lo = start.timestamp()
        hi = end.timestamp()
        if hi <= lo:
            return 0.0
        table = self._spans_table
        if not (table.lo <= lo and hi < table.hi):
            table = self._table(lo, hi)
        return (table.elapsed(hi) - table.elapsed(lo)) / _SECONDS_PER_MINUTE

    def is_open(self, moment: datetime) -> bool:
        """True when ``moment`` lies in its local date's opening hours on a working date."""
        _require_aware(moment, "moment")
        span = self._span(self._local_ordinal(moment))
        return span is not None and span[0] <= moment.timestamp() < span[1]

    def _midnight(self, ordinal: int) -> float:
        """The POSIX instant of local midnight starting the date ``ordinal`` (fold=0)."""
        cached = self._midnights.get(ordinal)
        if cached is None:
            day = date.fromordinal(ordinal)
            cached = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
            self._midnights[ordinal] = cached
        return cached

    def working_days(self, start: datetime, end: datetime) -> int:
        """The number of working dates whose local midnight lies in ``[start, end)``."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        lo = start.timestamp()
        hi = end.timestamp()
        if hi <= lo:
            return 0
        count = 0
        first = self._local_ordinal(start)
        # a date's midnight can only lie in [start, end) if the date is start's local date
        # or later and end's local date or earlier; the neighbours guard odd zone rules
        for ordinal in range(first - 1, self._local_ordinal(end) + 2):
            if lo <= self._midnight(ordinal) < hi and self.is_working_day(
                date.fromordinal(ordinal)
            ):
                count += 1
        return count

"""Which period ``deskboard standings --period`` shows: ``current``, ``previous`` or the period
containing a date.

A recurring contest has a window for each of these. A fixed-date contest has one window: it
is the answer for ``current`` and for any date inside its dates, and there is none for
``previous`` or a date outside them (``NoSuchPeriod``), never the fixed window passed off as
another period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from metrics.contests import Contest
from metrics.windows import Window

PERIOD_FORMS = "current, previous or a date YYYY-MM-DD"
"""What ``--period`` accepts, for usage messages and help."""

LOCAL_NOON = time(12)
"""The moment of a date that stands for it: noon is inside the date whatever DST does."""


class NoSuchPeriod(ValueError):
    """A fixed-date contest has no window for the period asked."""


@dataclass(frozen=True, slots=True)
class StandingsPeriod:
    """``offset`` 0 (current) or -1 (previous) from now, or the period containing ``day``."""

    offset: int = 0
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> StandingsPeriod:
        """``current``, ``previous`` (any case) or ``YYYY-MM-DD``; anything else: ValueError."""
        word = text.strip().casefold()
        if word == "current":
            return cls()
        if word == "previous":
            return cls(offset=-1)
        try:
            return cls(day=date.fromisoformat(text.strip()))
        except ValueError:
            raise ValueError(f"{text!r} is not {PERIOD_FORMS}") from None

    def describe(self) -> str:
        """How the period reads above a table: ``Current period``, ``Period containing ...``."""
        if self.day is not None:
            return f"Period containing {self.day.isoformat()}"
        return "Previous period" if self.offset else "Current period"

    def window(self, contest: Contest, *, now: datetime, tz: ZoneInfo, week_start: int) -> Window:
        """The contest's window for this period; ``NoSuchPeriod`` when a fixed-date contest
        has none."""
        if self.day is not None:
            noon = datetime.combine(self.day, LOCAL_NOON, tzinfo=tz)
            if contest.period is None and not _inside_dates(contest, self.day):
                raise NoSuchPeriod(
                    f"contest {contest.name!r} runs {_dates(contest)}; "
                    f"{self.day.isoformat()} is outside it"
                )
            return contest.window(now=noon, tz=tz, week_start=week_start)
        if contest.period is None and self.offset != 0:
            raise NoSuchPeriod(
                f"contest {contest.name!r} runs {_dates(contest)}; it has no previous period"
            )
        return contest.window(now=now, tz=tz, week_start=week_start, offset=self.offset)


def _inside_dates(contest: Contest, day: date) -> bool:
    return (
        contest.start is not None and contest.end is not None and contest.start <= day < contest.end
    )


def _dates(contest: Contest) -> str:
    return f"from {contest.start} to {contest.end} (end exclusive)"

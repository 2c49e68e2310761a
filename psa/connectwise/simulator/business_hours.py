"""Business-hours arithmetic on epoch seconds, used to generate believable SLA clocks.

The generator thinks in business minutes ("answered after 20 working minutes") and stores
wall-clock instants. Working days are Monday to Friday, 08:00-17:00 in the MSP's timezone;
the day boundaries are converted to UTC once, so DST changes are handled by ``zoneinfo``
and every later computation is a binary search over plain integers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class BusinessHours:
    """Open intervals ``[open, close)`` of each working day between ``first`` and ``last``."""

    def __init__(
        self,
        *,
        timezone: ZoneInfo,
        first: date,
        last: date,
        opens: time = time(8),
        closes: time = time(17),
    ) -> None:
        self.timezone = timezone
        self._opens: list[int] = []
        self._closes: list[int] = []
        self._before: list[int] = []  # business seconds before interval i
        self._through: list[int] = []  # business seconds up to the end of interval i
        total = 0
        day = first
        while day <= last:
            if day.weekday() < 5:
                start = int(datetime.combine(day, opens, tzinfo=timezone).timestamp())
                end = int(datetime.combine(day, closes, tzinfo=timezone).timestamp())
                self._opens.append(start)
                self._closes.append(end)
                self._before.append(total)
                total += end - start
                self._through.append(total)
            day += timedelta(days=1)
        if not self._opens:
            raise ValueError("the business-hours horizon holds no working day")

    def is_open(self, at: int) -> bool:
        i = bisect_right(self._opens, at) - 1
        return i >= 0 and at < self._closes[i]

    def elapsed(self, at: int) -> int:
        """Business seconds from the start of the horizon up to ``at``."""
        i = bisect_right(self._opens, at) - 1
        if i < 0:
            return 0
        return self._before[i] + min(at, self._closes[i]) - self._opens[i]

    def between(self, start: int, end: int) -> int:
        """Business seconds in ``[start, end)``; 0 when ``end`` is not after ``start``."""
        if end <= start:
            return 0
        return self.elapsed(end) - self.elapsed(start)

    def add(self, at: int, seconds: float) -> int:
        """The instant ``seconds`` business seconds after ``at`` (past the horizon: wall time)."""
        target = self.elapsed(at) + max(0, int(seconds))
        j = bisect_left(self._through, target)
        if j >= len(self._through):
            return self._closes[-1] + (target - self._through[-1]) * 3
        result = self._opens[j] + target - self._before[j]
        return max(result, at)

    def next_open(self, at: int) -> int:
        """``at`` itself during business hours, else the next opening time."""
        i = bisect_right(self._opens, at) - 1
        if i >= 0 and at < self._closes[i]:
            return at
        if i + 1 < len(self._opens):
            return self._opens[i + 1]
        return at

"""Contests (docs/metrics.md, "Contests"): who competes on what, over which window, and what wins.

A contest ranks members on one metric (``MetricRef``, possibly ``METRIC@CATEGORY``) or one
``Score`` over a window: a recurring ``period`` or fixed ``start``/``end`` dates. The fixed
``end`` is exclusive, like ``--to`` on the command line: ``start = 2026-11-01``, ``end =
2026-12-01`` is November, local midnight to local midnight.

Qualification decisions written down here:

- ``min_resolved`` defaults to 5 for rates and averages (``MetricDef.is_rate``) and to 1 for
  counts. A score counts as a count (default 1): it is a sum of weighted values and never null.
- The resolved count a member must reach is |R(m)| restricted to the contest metric's
  category when it has one (``avg_response_minutes@emergency`` needs 5 resolved emergency
  tickets), and the overall |R(m)| for a plain metric or a score.
- A contest on a ratings metric (``csat_pct``, ``net_csat``, ``csat_responses``,
  ``csat_negative``) counts |S(m)|, the ratings credited to the member, instead: CSAT% over
  two ratings is not a fair number whatever the member resolved. ``min_resolved`` then reads
  as "minimum ratings".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from metrics.definitions import Direction, MetricRef
from metrics.scores import Score
from metrics.windows import Period, Window, period_window, window_for_dates

SCORE_UNIT = "pts"
RATE_MIN_RESOLVED = 5
COUNT_MIN_RESOLVED = 1


class ContestKind(StrEnum):
    PLACES = "places"
    WINNER_TAKES_ALL = "winner_takes_all"
    ONE_GOAL = "one_goal"
    MULTI_GOAL = "multi_goal"


@dataclass(frozen=True, slots=True)
class Contest:
    name: str
    target: MetricRef | Score
    kind: ContestKind = ContestKind.PLACES
    places: int = 3
    goal: float | None = None
    goals: tuple[float, ...] = ()  # multi_goal tiers
    min_resolved: int | None = None  # None: 5 for rates and averages, 1 for counts and scores
    period: Period | None = None  # recurring, or fixed start/end dates
    start: date | None = None
    end: date | None = None  # exclusive

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError(f"contest {self.name!r}: " + "; ".join(problems))

    @property
    def direction(self) -> Direction:
        return (
            self.target.direction
            if isinstance(self.target, Score)
            else self.target.metric.direction
        )

    @property
    def unit(self) -> str:
        return SCORE_UNIT if isinstance(self.target, Score) else self.target.metric.unit

    @property
    def label(self) -> str:
        """What the contest ranks on, for people: ``Avg response (emergency)``, a score's name."""
        if isinstance(self.target, Score):
            return self.target.name
        label = self.target.metric.label
        return label if self.target.category is None else f"{label} ({self.target.category})"

    @property
    def effective_min_resolved(self) -> int:
        if self.min_resolved is not None:
            return self.min_resolved
        if isinstance(self.target, MetricRef) and self.target.metric.is_rate:
            return RATE_MIN_RESOLVED
        return COUNT_MIN_RESOLVED

    @property
    def qualifies_by_ratings(self) -> bool:
        """Whether members qualify by their ratings |S(m)| rather than by |R(m)|."""
        return isinstance(self.target, MetricRef) and self.target.metric.qualifies_by_ratings

    @property
    def qualifying_noun(self) -> str:
        """What the qualifying count counts, for "3 of 5 resolved" and "3 of 5 ratings"."""
        return "ratings" if self.qualifies_by_ratings else "resolved"

    @property
    def refs(self) -> tuple[MetricRef, ...]:
        """The metric values standings need for this contest."""
        return self.target.refs if isinstance(self.target, Score) else (self.target,)

    @property
    def category(self) -> str | None:
        """The category whose resolved count qualifies a member; None means all of R(m)."""
        return None if isinstance(self.target, Score) else self.target.category

    def window(
        self, *, now: datetime, tz: ZoneInfo, week_start: int = 0, offset: int = 0
    ) -> Window:
        """The contest's window: the period containing ``now`` shifted by ``offset`` periods
        (-1 is the previous one), or the fixed dates. A fixed contest has a single window, so
        any ``offset`` but 0 is refused rather than silently answered with the same window.
        """
        if self.period is not None:
            return period_window(self.period, now=now, tz=tz, week_start=week_start, offset=offset)
        if offset != 0:
            raise ValueError(f"contest {self.name!r} has fixed dates; it has no other period")
        if self.start is None or self.end is None:  # refused by __post_init__
            raise ValueError(f"contest {self.name!r} has neither a period nor dates")
        return window_for_dates(self.start, self.end, tz)


def _problems(contest: Contest) -> list[str]:
    problems: list[str] = []
    if not contest.name.strip():
        problems.append("a contest needs a name")
    if contest.places < 1:
        problems.append("places must be at least 1")
    if contest.min_resolved is not None and contest.min_resolved < 0:
        problems.append("min_resolved must not be negative")
    problems.extend(_goal_problems(contest))
    has_dates = contest.start is not None or contest.end is not None
    if contest.period is not None and has_dates:
        problems.append("give either a period or start/end dates, not both")
    elif contest.period is None and (contest.start is None or contest.end is None):
        problems.append("give a period or both start and end dates")
    elif contest.start is not None and contest.end is not None and contest.start >= contest.end:
        problems.append("start must be before end (end is exclusive)")
    return problems


def _goal_problems(contest: Contest) -> list[str]:
    if contest.kind is ContestKind.MULTI_GOAL:
        problems = []
        if not contest.goals:
            problems.append("multi_goal needs goals")
        if len(set(contest.goals)) != len(contest.goals):
            problems.append("goals must be distinct")
        if contest.goal is not None:
            problems.append("multi_goal takes goals, not goal")
        return problems
    problems = []
    if contest.goals:
        problems.append(f"goals are for multi_goal contests, not {contest.kind.value}")
    if contest.kind is ContestKind.ONE_GOAL and contest.goal is None:
        problems.append("one_goal needs a goal")
    return problems

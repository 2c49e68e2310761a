"""Ranking, qualification and contest outcomes (docs/metrics.md, "Contests").

- **Qualifying**: |R(m)| (in the contest's category, see ``metrics.contests``; |S(m)|, the
  ratings, for a contest on a ratings metric) reaches the contest's
  ``effective_min_resolved`` and the value is not null. Everyone else is listed
  apart in ``Standings.not_qualified``, never ranked.
- **Ranking**: standard competition ranking (1, 1, 3) by value in the contest's direction.
  Equal values share a rank; ties are never broken by name or id. Members with equal values
  are *listed* in member-key order, but their rank is the same.
- **Equality**: two values are equal when they agree to 9 significant digits. The SQL and
  the Python evaluators may sum the same numbers in a different order and differ in the last
  bit; 9 digits is far finer than any number a person sees and far coarser than that noise.
  The same rounding decides whether a goal is met, so a value shown as 90 meets a goal of 90.
- **Kinds**: ``places`` (rank ≤ places wins, and meets the goal if one is set; a tie for the
  last place makes every tied member a winner), ``winner_takes_all`` (rank 1 wins, and meets
  the goal if one is set; members tied at rank 1 all win), ``one_goal`` (everyone who meets
  the goal), ``multi_goal`` (a member's tier is the most demanding goal reached: the largest
  for higher-is-better, the smallest for lower-is-better; reaching any tier wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction
from metrics.scores import Score
from metrics.values import MemberValues
from metrics.windows import Window

SIGNIFICANT_DIGITS = 9


@dataclass(frozen=True, slots=True)
class Standing:
    member: str
    value: float | None
    resolved: int  # |R(m)| (in the contest's category)
    rank: int | None  # None when not qualified
    qualified: bool
    goal_met: bool | None  # None when the contest has no goal or the member does not qualify
    tier: float | None  # multi_goal: the most demanding goal reached
    wins: bool
    rated: int | None = None  # |S(m)|, for a contest on a ratings metric; None otherwise

    @property
    def qualifying(self) -> int:
        """The count qualification reads: the ratings for a ratings metric, else resolved."""
        return self.resolved if self.rated is None else self.rated


@dataclass(frozen=True, slots=True)
class Standings:
    contest: Contest
    window: Window
    ranked: tuple[Standing, ...]  # qualified members, by rank, then member key
    not_qualified: tuple[Standing, ...]  # by member key
    data_as_of: datetime | None  # when the data was last synced

    @property
    def winners(self) -> tuple[Standing, ...]:
        return tuple(s for s in self.ranked if s.wins)


def comparable(value: float) -> float:
    """``value`` rounded to 9 significant digits: the form ties and goals are judged on."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def rank_values(
    values: Sequence[tuple[str, float]], direction: Direction
) -> list[tuple[str, float, int]]:
    """``(member, value, rank)`` best first; equal values share a rank and the next one skips.

    Members with equal values are listed by member key, which orders the list, not the ranks.
    """
    descending = direction is Direction.HIGHER

    def order(item: tuple[str, float]) -> tuple[float, str]:
        value = comparable(item[1])
        return (-value if descending else value, item[0])

    ranked: list[tuple[str, float, int]] = []
    previous: float | None = None
    rank = 0
    for position, (member, value) in enumerate(sorted(values, key=order), start=1):
        key = comparable(value)
        if key != previous:
            rank, previous = position, key
        ranked.append((member, value, rank))
    return ranked


def goal_met(value: float, goal: float, direction: Direction) -> bool:
    """Value ≥ goal for higher-is-better, ≤ goal for lower-is-better (on 9 digits)."""
    if direction is Direction.HIGHER:
        return comparable(value) >= comparable(goal)
    return comparable(value) <= comparable(goal)


def reached_tier(value: float, goals: Sequence[float], direction: Direction) -> float | None:
    """The most demanding goal ``value`` meets, or None when it meets none."""
    reached = [g for g in goals if goal_met(value, g, direction)]
    if not reached:
        return None
    return max(reached) if direction is Direction.HIGHER else min(reached)


def contest_value(contest: Contest, member: MemberValues) -> float | None:
    """The number a member competes with: the metric value, or the score over its values."""
    if isinstance(contest.target, Score):
        return contest.target.value(member.values)
    return member.values[contest.target.key]


def compute_standings(
    contest: Contest,
    members: Mapping[str, MemberValues],
    *,
    window: Window,
    data_as_of: datetime | None,
) -> Standings:
    direction = contest.direction
    minimum = contest.effective_min_resolved
    counts: dict[str, tuple[int, int | None]] = {}
    qualified: list[tuple[str, float]] = []
    not_qualified: list[Standing] = []
    for member in sorted(members.values(), key=lambda m: m.member):
        value = contest_value(contest, member)
        resolved = member.resolved[contest.category]
        rated = member.rated.get(contest.category, 0) if contest.qualifies_by_ratings else None
        counts[member.member] = (resolved, rated)
        if value is None or (resolved if rated is None else rated) < minimum:
            not_qualified.append(
                Standing(member.member, value, resolved, None, False, None, None, False, rated)
            )
        else:
            qualified.append((member.member, value))
    ranked = tuple(
        _standing(contest, member, value, counts[member], rank)
        for member, value, rank in rank_values(qualified, direction)
    )
    return Standings(contest, window, ranked, tuple(not_qualified), data_as_of)


def _standing(
    contest: Contest, member: str, value: float, counts: tuple[int, int | None], rank: int
) -> Standing:
    direction = contest.direction
    tier: float | None = None
    met: bool | None = None
    if contest.kind is ContestKind.MULTI_GOAL:
        tier = reached_tier(value, contest.goals, direction)
        met = tier is not None
    elif contest.goal is not None:
        met = goal_met(value, contest.goal, direction)
    goal_ok = met is not False
    match contest.kind:
        case ContestKind.PLACES:
            wins = rank <= contest.places and goal_ok
        case ContestKind.WINNER_TAKES_ALL:
            wins = rank == 1 and goal_ok
        case ContestKind.ONE_GOAL | ContestKind.MULTI_GOAL:
            wins = met is True
    return Standing(member, value, counts[0], rank, True, met, tier, wins, counts[1])

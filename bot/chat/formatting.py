"""How numbers, times and contest rules read for people: shared by the terminal, the chat
templates and the chart, so a value shows the same everywhere.

Month and day names are fixed English names, never the process locale.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction
from metrics.scores import Score

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_value(value: float | None, unit: str) -> str:
    """A metric value as a table cell: ``92.5%``, ``14 min``, ``3.2 h``, ``12``; null is ``—``."""
    if value is None:
        return "—"
    if unit == "pts":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if unit == "#":  # a count, or a mean of counts (responses per ticket)
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "min":
        return f"{value:.0f} min"
    if unit == "h":
        return f"{value:.1f} h"
    return f"{value:.2f}"


def format_measure(value: float | None, unit: str) -> str:
    """A value with its unit even where a table column would omit it: ``12 pts``, ``2.50/day``."""
    text = format_value(value, unit)
    if value is None:
        return text
    if unit == "pts":
        return f"{text} pts"
    if unit == "#/day":
        return f"{text}/day"
    return text


def format_date(day: date) -> str:
    """``Wed 18 Nov 2026``."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_moment(moment: datetime, tz: tzinfo) -> str:
    """``Wed 18 Nov 2026 10:30 CET``: an aware instant in the configured zone."""
    local = moment.astimezone(tz)
    return f"{format_date(local.date())} {local:%H:%M} {local.tzname() or ''}".rstrip()


def as_of_text(as_of: datetime | None, tz: tzinfo) -> str:
    if as_of is None:
        return "data as of: never synced (from a file)"
    return f"data as of {as_of.astimezone(tz):%a %d %b %Y %H:%M %Z}"


def data_as_of(as_of: datetime | None, tz: tzinfo) -> str:
    """The freshness line of chat messages, locale-independent."""
    if as_of is None:
        return "No data synced yet"
    return f"Data as of {format_moment(as_of, tz)}"


def direction_text(direction: Direction) -> str:
    return "higher is better" if direction is Direction.HIGHER else "lower is better"


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd``."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def prize_text(contest: Contest) -> str:
    """Who wins, in words: ``Top 3 win``, ``Winner takes all``, ``Everyone who reaches 90%``."""
    unit = contest.unit
    match contest.kind:
        case ContestKind.PLACES:
            who = "1st place wins" if contest.places == 1 else f"Top {contest.places} win"
            if contest.goal is not None:
                who += f" if they reach {format_measure(contest.goal, unit)}"
            return who
        case ContestKind.WINNER_TAKES_ALL:
            if contest.goal is not None:
                return f"Winner takes all, if they reach {format_measure(contest.goal, unit)}"
            return "Winner takes all"
        case ContestKind.ONE_GOAL:
            return f"Everyone who reaches {format_measure(contest.goal, unit)} wins"
        case ContestKind.MULTI_GOAL:
            tiers = " / ".join(format_measure(g, unit) for g in contest.goals)
            return f"Goal tiers {tiers}: reaching any tier wins"


def qualifying_text(contest: Contest) -> str:
    minimum = contest.effective_min_resolved
    where = f" {contest.category}" if contest.category else ""
    if contest.qualifies_by_ratings:
        ratings = "rating" if minimum == 1 else "ratings"
        return f"qualifies with at least {minimum}{where} customer {ratings}"
    tickets = "ticket" if minimum == 1 else "tickets"
    return f"qualifies with at least {minimum} resolved{where} {tickets}"


def rule_text(contest: Contest) -> str:
    """The one-line rules of a contest: who wins, who qualifies, which way is better."""
    return (
        f"{prize_text(contest)} · {qualifying_text(contest)} · "
        f"{contest.label}, {direction_text(contest.direction)}"
    )


def score_formula(score: Score) -> str:
    """``2 × Resolved without escalation − 3 × Catchall``."""
    parts = [
        f"{'+' if weight >= 0 else '−'} {abs(weight):g} × {ref.metric.label}"
        + (f" ({ref.category})" if ref.category else "")
        for ref, weight in score.weights
    ]
    return " ".join(parts).removeprefix("+ ")

"""Contests: what they rank on, who qualifies by default, their windows and their validation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction, parse_metric_ref
from metrics.scores import Score
from metrics.windows import Period

CHICAGO = ZoneInfo("America/Chicago")


def ref(text: str):
    return parse_metric_ref(text, frozenset({"emergency"}))


STAR = Score("Service Star", ((ref("resolved_without_escalation"), 2.0), (ref("reopened"), -3.0)))


@pytest.mark.parametrize(
    ("target", "direction", "unit", "label", "min_resolved", "category"),
    [
        (ref("resolved"), Direction.HIGHER, "#", "Resolved", 1, None),
        (ref("catchall_resolved"), Direction.LOWER, "#", "Catchall", 1, None),
        (ref("backlog"), Direction.LOWER, "#", "Backlog", 1, None),
        (ref("categorized_pct"), Direction.HIGHER, "%", "Categorized", 5, None),
        (ref("avg_resolution_hours"), Direction.LOWER, "h", "Avg resolution", 5, None),
        (ref("tickets_per_day"), Direction.HIGHER, "#/day", "Tickets per day", 5, None),
        (
            ref("avg_response_minutes@emergency"),
            Direction.LOWER,
            "min",
            "Avg response (emergency)",
            5,
            "emergency",
        ),
        (ref("resolved@emergency"), Direction.HIGHER, "#", "Resolved (emergency)", 1, "emergency"),
        # a score is higher-is-better, counts as a count, and qualifies on all of R(m)
        (STAR, Direction.HIGHER, "pts", "Service Star", 1, None),
    ],
)
def test_what_a_contest_ranks_on(target, direction, unit, label, min_resolved, category):
    contest = Contest("c", target, period=Period.MONTHLY)
    assert contest.direction is direction
    assert contest.unit == unit
    assert contest.label == label
    assert contest.effective_min_resolved == min_resolved
    assert contest.category == category


def test_an_explicit_min_resolved_wins_over_the_default():
    assert (
        Contest(
            "c", ref("categorized_pct"), min_resolved=2, period=Period.DAILY
        ).effective_min_resolved
        == 2
    )
    assert (
        Contest("c", ref("resolved"), min_resolved=0, period=Period.DAILY).effective_min_resolved
        == 0
    )


def test_refs_are_the_metric_or_the_scores_metrics():
    assert Contest("c", ref("backlog@emergency"), period=Period.DAILY).refs == (
        ref("backlog@emergency"),
    )
    assert [r.key for r in Contest("c", STAR, period=Period.DAILY).refs] == [
        "resolved_without_escalation",
        "reopened",
    ]


def test_a_fixed_window_runs_local_midnight_to_local_midnight_end_exclusive():
    contest = Contest("Nov", ref("resolved"), start=date(2026, 11, 1), end=date(2026, 12, 1))
    window = contest.window(now=datetime(2030, 1, 1, tzinfo=UTC), tz=CHICAGO)
    # CDT (-5) at the start, CST (-6) at the end: DST ends on 1 Nov 2026 at 02:00
    assert window.utc() == (
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 12, 1, 6, tzinfo=UTC),
    )


def test_a_fixed_window_has_no_previous_period():
    contest = Contest("Nov", ref("resolved"), start=date(2026, 11, 1), end=date(2026, 12, 1))
    with pytest.raises(ValueError, match="fixed dates"):
        contest.window(now=datetime(2026, 11, 5, tzinfo=UTC), tz=CHICAGO, offset=-1)


@pytest.mark.parametrize(
    ("period", "week_start", "offset", "start", "end"),
    [
        # now = Wednesday 18 Nov 2026, 03:00 UTC = Tuesday 17 Nov, 21:00 in Chicago (CST)
        (Period.DAILY, 0, 0, datetime(2026, 11, 17, 6), datetime(2026, 11, 18, 6)),
        (Period.DAILY, 0, -1, datetime(2026, 11, 16, 6), datetime(2026, 11, 17, 6)),
        (Period.WEEKLY, 0, 0, datetime(2026, 11, 16, 6), datetime(2026, 11, 23, 6)),  # Mon
        (Period.WEEKLY, 6, 0, datetime(2026, 11, 15, 6), datetime(2026, 11, 22, 6)),  # Sun
        (Period.MONTHLY, 0, 0, datetime(2026, 11, 1, 5), datetime(2026, 12, 1, 6)),
        (Period.MONTHLY, 0, -1, datetime(2026, 10, 1, 5), datetime(2026, 11, 1, 5)),
        (Period.QUARTERLY, 0, 0, datetime(2026, 10, 1, 5), datetime(2027, 1, 1, 6)),
        (Period.YEARLY, 0, 0, datetime(2026, 1, 1, 6), datetime(2027, 1, 1, 6)),
    ],
)
def test_a_recurring_window_is_the_period_containing_now(period, week_start, offset, start, end):
    contest = Contest("c", ref("resolved"), period=period)
    now = datetime(2026, 11, 18, 3, tzinfo=UTC)
    window = contest.window(now=now, tz=CHICAGO, week_start=week_start, offset=offset)
    assert window.utc() == (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give a period or both start and end"),
        ({"start": date(2026, 11, 1)}, "give a period or both start and end"),
        (
            {"period": Period.MONTHLY, "start": date(2026, 11, 1), "end": date(2026, 12, 1)},
            "not both",
        ),
        ({"start": date(2026, 12, 1), "end": date(2026, 12, 1)}, "start must be before end"),
        ({"period": Period.DAILY, "places": 0}, "places must be at least 1"),
        ({"period": Period.DAILY, "min_resolved": -1}, "min_resolved must not be negative"),
        ({"period": Period.DAILY, "kind": ContestKind.ONE_GOAL}, "one_goal needs a goal"),
        ({"period": Period.DAILY, "kind": ContestKind.MULTI_GOAL}, "multi_goal needs goals"),
        (
            {"period": Period.DAILY, "kind": ContestKind.MULTI_GOAL, "goals": (80, 80)},
            "goals must be distinct",
        ),
        (
            {"period": Period.DAILY, "kind": ContestKind.MULTI_GOAL, "goals": (80,), "goal": 90},
            "takes goals, not goal",
        ),
        ({"period": Period.DAILY, "goals": (80, 90)}, "goals are for multi_goal"),
    ],
)
def test_invalid_contests_are_refused_with_the_reason(arguments: dict, message: str):
    with pytest.raises(ValueError, match=f"contest 'Clean'.*{message}"):
        Contest("Clean", ref("categorized_pct"), **arguments)


def test_a_valid_contest_keeps_its_settings():
    contest = Contest(
        "Clean tickets",
        ref("categorized_pct"),
        kind=ContestKind.PLACES,
        places=3,
        goal=90,
        min_resolved=5,
        period=Period.MONTHLY,
    )
    assert (contest.goal, contest.min_resolved, contest.period) == (90, 5, Period.MONTHLY)
    # where and when it is posted is chat delivery, not the domain's: bot.config.ContestDelivery
    assert not hasattr(contest, "channel")
    assert not hasattr(contest, "post")

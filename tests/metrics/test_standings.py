"""Ranking with ties, qualification and the four contest kinds (docs/metrics.md, "Contests")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction, parse_metric_ref
from metrics.scores import Score
from metrics.standings import Standings, compute_standings, rank_values
from metrics.values import MemberValues
from metrics.windows import Period, Window

WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
SYNCED = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def ref(text: str):
    return parse_metric_ref(text, frozenset({"emergency"}))


def contest(metric: str, **settings) -> Contest:
    return Contest("c", ref(metric), period=Period.MONTHLY, **settings)


def members(key: str, table: dict[str, float | None], resolved: int = 10) -> dict:
    """Every member with ``resolved`` tickets and the value ``table`` gives for ``key``."""
    return {
        name: MemberValues(name, {None: resolved}, {key: value}) for name, value in table.items()
    }


def standings(c: Contest, table: dict) -> Standings:
    return compute_standings(c, table, window=WINDOW, data_as_of=SYNCED)


def ranks(result: Standings) -> list[tuple[str, int | None]]:
    return [(s.member, s.rank) for s in result.ranked]


def winners(result: Standings) -> list[str]:
    return [s.member for s in result.winners]


# --- rank_values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "direction", "expected"),
    [
        # standard competition ranking: equal values share, the next rank skips
        (
            [("c", 3.0), ("a", 5.0), ("d", 1.0), ("b", 5.0)],
            Direction.HIGHER,
            [("a", 5.0, 1), ("b", 5.0, 1), ("c", 3.0, 3), ("d", 1.0, 4)],
        ),
        # lower is better: the smallest value ranks first
        (
            [("a", 2.0), ("b", 1.0), ("c", 1.0), ("d", 7.5)],
            Direction.LOWER,
            [("b", 1.0, 1), ("c", 1.0, 1), ("a", 2.0, 3), ("d", 7.5, 4)],
        ),
        # a three-way tie below the top: 1, 2, 2, 2, 5
        (
            [("e", 1.0), ("d", 4.0), ("c", 4.0), ("b", 4.0), ("a", 9.0)],
            Direction.HIGHER,
            [("a", 9.0, 1), ("b", 4.0, 2), ("c", 4.0, 2), ("d", 4.0, 2), ("e", 1.0, 5)],
        ),
        # negative values and zero order as numbers
        (
            [("a", -2.0), ("b", 0.0), ("c", -10.0)],
            Direction.HIGHER,
            [("b", 0.0, 1), ("a", -2.0, 2), ("c", -10.0, 3)],
        ),
        ([], Direction.HIGHER, []),
    ],
)
def test_rank_values(values, direction, expected):
    assert rank_values(values, direction) == expected


def test_ties_are_not_broken_by_name():
    # "zed" lists after "amy" but shares rank 1 with her, in both directions
    for direction in Direction:
        ranked = rank_values([("zed", 5.0), ("amy", 5.0)], direction)
        assert [(m, r) for m, _, r in ranked] == [("amy", 1), ("zed", 1)]


def test_float_noise_is_a_tie_but_a_real_difference_is_not():
    noisy = 0.1 + 0.2  # 0.30000000000000004
    assert [r for *_, r in rank_values([("a", noisy), ("b", 0.3)], Direction.HIGHER)] == [1, 1]
    # 2/3 of 100 computed two ways, equal to 9 significant digits
    assert [
        r for *_, r in rank_values([("a", 200 / 3), ("b", 66.66666666666666)], Direction.HIGHER)
    ] == [1, 1]
    # a difference in the 9th significant digit still separates
    close = [("a", 66.6666667), ("b", 66.6666666)]
    assert rank_values(close, Direction.HIGHER) == [("a", 66.6666667, 1), ("b", 66.6666666, 2)]


# --- qualification ----------------------------------------------------------------------


def test_under_min_resolved_and_null_values_are_listed_apart_never_ranked():
    table = {
        "ann": MemberValues("ann", {None: 6}, {"categorized_pct": 50.0}),
        "bo": MemberValues("bo", {None: 4}, {"categorized_pct": 100.0}),  # 4 < 5 for a rate
        "cy": MemberValues("cy", {None: 0}, {"categorized_pct": None}),  # nothing resolved
        "di": MemberValues("di", {None: 5}, {"categorized_pct": 80.0}),  # exactly 5 qualifies
    }
    result = standings(contest("categorized_pct"), table)
    assert ranks(result) == [("di", 1), ("ann", 2)]
    apart = [(s.member, s.value, s.resolved) for s in result.not_qualified]
    assert apart == [("bo", 100.0, 4), ("cy", None, 0)]
    assert all(
        s.rank is None and not s.qualified and not s.wins and s.goal_met is None
        for s in result.not_qualified
    )
    assert all(s.qualified for s in result.ranked)


def test_a_count_qualifies_at_one_resolved_ticket():
    # a backlog of 0 is a fine value, but someone who resolved nothing is not yet in the race
    table = {
        "ann": MemberValues("ann", {None: 1}, {"backlog": 3}),
        "bo": MemberValues("bo", {None: 0}, {"backlog": 0}),
    }
    result = standings(contest("backlog"), table)
    assert ranks(result) == [("ann", 1)]
    assert [s.member for s in result.not_qualified] == ["bo"]


def test_a_null_value_never_qualifies_even_with_min_resolved_zero():
    table = {
        "ann": MemberValues("ann", {None: 0}, {"avg_response_minutes": 12.0}),
        "bo": MemberValues("bo", {None: 9}, {"avg_response_minutes": None}),
    }
    result = standings(contest("avg_response_minutes", min_resolved=0), table)
    assert ranks(result) == [("ann", 1)]
    assert [s.member for s in result.not_qualified] == ["bo"]


def test_a_category_metric_qualifies_on_resolved_tickets_in_that_category():
    key = "avg_response_minutes@emergency"
    table = {
        "ann": MemberValues("ann", {None: 20, "emergency": 4}, {key: 5.0}),  # 4 emergencies
        "bo": MemberValues("bo", {None: 5, "emergency": 5}, {key: 30.0}),
    }
    result = standings(contest(key), table)
    assert ranks(result) == [("bo", 1)]
    assert [(s.member, s.resolved) for s in result.not_qualified] == [("ann", 4)]
    assert result.ranked[0].resolved == 5


def test_a_ratings_metric_qualifies_on_ratings_not_on_resolved_tickets():
    # net_csat is a rate: 5 ratings by default, whatever the member resolved
    table = {
        "ann": MemberValues("ann", {None: 40}, {"net_csat": 100.0}, {None: 4}),
        "bo": MemberValues("bo", {None: 0}, {"net_csat": 60.0}, {None: 5}),  # rated only
        "cy": MemberValues("cy", {None: 9}, {"net_csat": -20.0}, {None: 6}),
    }
    result = standings(contest("net_csat", kind=ContestKind.PLACES, places=1), table)
    assert ranks(result) == [("bo", 1), ("cy", 2)]
    assert winners(result) == ["bo"]
    assert [(s.member, s.qualifying, s.resolved) for s in result.not_qualified] == [("ann", 4, 40)]
    assert result.contest.qualifying_noun == "ratings"
    assert (
        standings(contest("resolved"), members("resolved", {"x": 3.0})).contest.qualifying_noun
        == "resolved"
    )


def test_a_negative_ratings_contest_ranks_the_fewest_first_among_the_rated():
    table = {
        "ann": MemberValues("ann", {None: 3}, {"csat_negative": 2.0}, {None: 9}),
        "bo": MemberValues("bo", {None: 3}, {"csat_negative": 0.0}, {None: 0}),  # never rated
        "cy": MemberValues("cy", {None: 3}, {"csat_negative": 0.0}, {None: 2}),
    }
    result = standings(contest("csat_negative"), table)
    assert ranks(result) == [("cy", 1), ("ann", 2)]
    assert [s.member for s in result.not_qualified] == ["bo"]


# --- places -----------------------------------------------------------------------------


def test_places_rank_within_places_wins_and_a_tie_for_last_place_wins_too():
    table = members("resolved", {"a": 10, "b": 9, "c": 8, "d": 8, "e": 7})
    result = standings(contest("resolved", places=3), table)
    assert ranks(result) == [("a", 1), ("b", 2), ("c", 3), ("d", 3), ("e", 5)]
    assert winners(result) == ["a", "b", "c", "d"]
    assert [s.goal_met for s in result.ranked] == [None] * 5  # no goal set


def test_places_with_a_tie_at_rank_one():
    table = members("resolved", {"a": 10, "b": 10, "c": 9, "d": 8})
    result = standings(contest("resolved", places=3), table)
    assert ranks(result) == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]
    assert winners(result) == ["a", "b", "c"]


def test_places_lower_is_better():
    table = members("avg_resolution_hours", {"a": 4.0, "b": 1.5, "c": 2.0, "d": 1.5})
    result = standings(contest("avg_resolution_hours", places=2), table)
    assert ranks(result) == [("b", 1), ("d", 1), ("c", 3), ("a", 4)]
    assert winners(result) == ["b", "d"]


def test_places_with_a_goal_must_also_meet_it():
    table = members("categorized_pct", {"a": 99.0, "b": 90.0, "c": 85.0, "d": 70.0})
    result = standings(contest("categorized_pct", places=3, goal=90), table)
    assert winners(result) == ["a", "b"]  # c is 3rd but under 90
    assert [s.goal_met for s in result.ranked] == [True, True, False, False]


# --- winner takes all -------------------------------------------------------------------


def test_winner_takes_all_tied_rank_one_all_win():
    table = members("resolved", {"a": 12, "b": 12, "c": 11})
    result = standings(contest("resolved", kind=ContestKind.WINNER_TAKES_ALL), table)
    assert winners(result) == ["a", "b"]


def test_winner_takes_all_only_if_the_goal_is_met():
    table = members("resolved", {"a": 12, "b": 11})
    kind = ContestKind.WINNER_TAKES_ALL
    assert winners(standings(contest("resolved", kind=kind, goal=12), table)) == ["a"]
    assert winners(standings(contest("resolved", kind=kind, goal=13), table)) == []


@pytest.mark.parametrize(("best", "won"), [(25.0, True), (30.0, True), (30.5, False)])
def test_winner_takes_all_with_a_lower_is_better_goal(best: float, won: bool):
    table = members("avg_response_minutes", {"a": best, "b": 45.0})
    c = contest("avg_response_minutes", kind=ContestKind.WINNER_TAKES_ALL, goal=30)
    result = standings(c, table)
    assert result.ranked[0].member == "a"
    assert winners(result) == (["a"] if won else [])


# --- one goal ---------------------------------------------------------------------------


def test_one_goal_everyone_who_meets_it_wins_higher_is_better():
    # d's 89.99999999999999 is 90 plus float noise (what a sum in another order may give)
    table = members("categorized_pct", {"a": 95.0, "b": 90.0, "c": 89.9, "d": 89.99999999999999})
    result = standings(contest("categorized_pct", kind=ContestKind.ONE_GOAL, goal=90), table)
    assert ranks(result) == [("a", 1), ("b", 2), ("d", 2), ("c", 4)]
    assert winners(result) == ["a", "b", "d"]
    assert [s.goal_met for s in result.ranked] == [True, True, True, False]


def test_one_goal_lower_is_better():
    table = members("avg_resolution_hours", {"a": 3.5, "b": 4.0, "c": 4.5})
    result = standings(contest("avg_resolution_hours", kind=ContestKind.ONE_GOAL, goal=4), table)
    assert winners(result) == ["a", "b"]


def test_a_goal_is_judged_on_nine_significant_digits():
    # 0.1 × 3 is 0.30000000000000004: above 0.3 in the last bit, yet it is 0.3 hours
    table = members("avg_handle_hours", {"a": 0.1 * 3, "b": 0.3000001})
    c = contest("avg_handle_hours", kind=ContestKind.ONE_GOAL, goal=0.3)
    assert winners(standings(c, table)) == ["a"]


# --- multi goal -------------------------------------------------------------------------


def test_multi_goal_tier_is_the_highest_goal_reached():
    table = members("categorized_pct", {"a": 96.0, "b": 91.0, "c": 85.0, "d": 80.0, "e": 70.0})
    # goals given in any order
    c = contest("categorized_pct", kind=ContestKind.MULTI_GOAL, goals=(95, 80, 90))
    result = standings(c, table)
    assert [(s.member, s.tier, s.wins) for s in result.ranked] == [
        ("a", 95, True),
        ("b", 90, True),
        ("c", 80, True),
        ("d", 80, True),  # exactly on the lowest tier
        ("e", None, False),
    ]
    assert [s.goal_met for s in result.ranked] == [True, True, True, True, False]


def test_multi_goal_lower_is_better_tier_is_the_smallest_goal_reached():
    table = members("avg_response_minutes", {"a": 10.0, "b": 20.0, "c": 45.0, "d": 90.0})
    c = contest("avg_response_minutes", kind=ContestKind.MULTI_GOAL, goals=(60, 30, 15))
    result = standings(c, table)
    assert [(s.member, s.tier) for s in result.ranked] == [
        ("a", 15),
        ("b", 30),
        ("c", 60),
        ("d", None),
    ]
    assert winners(result) == ["a", "b", "c"]


# --- scores, and what Standings carries -------------------------------------------------


def test_a_score_contest_ranks_on_the_weighted_sum():
    score = Score(
        "Star", ((ref("resolved_without_escalation"), 2.0), (ref("avg_handle_hours"), -1.0))
    )

    def values(name: str, clean: int, handle: float | None, resolved: int = 3) -> MemberValues:
        return MemberValues(
            name,
            {None: resolved},
            {"resolved_without_escalation": clean, "avg_handle_hours": handle},
        )

    table = {
        "ann": values("ann", 5, 4.0),  # 2 × 5 - 4 = 6
        "bo": values("bo", 3, None),  # 2 × 3 + 0 = 6: the null adds 0, tie with ann
        "cy": values("cy", 4, 0.5),  # 8 - 0.5 = 7.5
        "di": values("di", 0, 2.0),  # -2
        "ed": values("ed", 9, 1.0, resolved=0),  # 17, but resolved nothing
    }
    c = Contest("Star", score, period=Period.WEEKLY, places=2)
    result = standings(c, table)
    assert [(s.member, s.value, s.rank) for s in result.ranked] == [
        ("cy", 7.5, 1),
        ("ann", 6.0, 2),
        ("bo", 6.0, 2),
        ("di", -2.0, 4),
    ]
    assert winners(result) == ["cy", "ann", "bo"]
    assert [(s.member, s.value) for s in result.not_qualified] == [("ed", 17.0)]


def test_standings_carry_the_contest_window_and_data_as_of():
    c = contest("resolved")
    result = standings(c, members("resolved", {"a": 1}, resolved=1))
    assert (result.contest, result.window, result.data_as_of) == (c, WINDOW, SYNCED)
    only = result.ranked[0]
    assert (only.member, only.value, only.resolved, only.rank, only.wins) == ("a", 1, 1, 1, True)


def test_no_members_no_standings():
    result = standings(contest("resolved"), {})
    assert (result.ranked, result.not_qualified, result.winners) == ((), (), ())

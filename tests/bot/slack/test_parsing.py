"""Command parsing (``bot.core.commands``), chat-neutral: what each argument text asks for."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from bot.core.commands import (
    DeskboardRequest,
    LeaderboardRequest,
    MystatsRequest,
    UsageError,
    parse_deskboard,
    parse_leaderboard,
    parse_mystats,
)
from bot.slack.listeners.commands import slack_user_of
from metrics.contests import ContestKind
from metrics.definitions import MetricRef
from metrics.windows import Period

CONFIG = parse_config(
    {
        "categories": {"emergency": {"priority": ["P1*"]}},
        "scores": [{"name": "Service Star", "weights": {"resolved": 1}}],
        "contests": [
            {"name": "Clean tickets", "metric": "categorized_pct", "period": "weekly"},
            {"name": "Best of the week", "metric": "resolved", "period": "weekly"},
        ],
    }
)


def board(args: str) -> LeaderboardRequest:
    parsed = parse_leaderboard(args, CONFIG)
    assert isinstance(parsed, LeaderboardRequest), parsed
    return parsed


def test_no_argument_is_the_first_contest_in_its_own_window():
    parsed = board("")
    assert (parsed.contest.name, parsed.period, parsed.query) == ("Clean tickets", None, "")


def test_contest_names_are_case_insensitive_and_may_have_several_words():
    parsed = board("  CLEAN   tickets ")
    assert (parsed.contest.name, parsed.period) == ("Clean tickets", None)
    parsed = board('"Clean tickets" last month')  # quoted, and a two-word period
    assert (parsed.contest.name, parsed.period) == ("Clean tickets", "last-month")
    # A name that ends in a period word is the contest, not "Best of the" over a week.
    assert (board("best of the week").contest.name, board("best of the week").period) == (
        "Best of the week",
        None,
    )
    assert board("best of the week today").period == "today"


def test_a_period_alone_is_the_default_contest_over_that_window():
    parsed = board("quarter")
    assert (parsed.contest.name, parsed.period) == ("Clean tickets", "quarter")


def test_a_metric_a_category_or_a_score_gives_an_ad_hoc_places_contest():
    parsed = board("avg_response_minutes@Emergency week")
    contest = parsed.contest
    assert contest.target == MetricRef(contest.target.metric, "emergency")  # type: ignore[union-attr]
    assert (contest.name, contest.kind, contest.period) == (
        "Avg response (emergency)",
        ContestKind.PLACES,
        Period.MONTHLY,
    )
    assert parsed.period == "week"
    assert board("Avg resolution").contest.name == "Avg resolution"  # a label works too
    assert board("service star").contest.name == "Service Star"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("fastest gun", "There is no contest or metric called “fastest gun”"),
        ("resolved@nowhere", "There is no contest or metric called “resolved@nowhere”"),
        (
            "clean tickets fortnight",
            "There is no contest or metric called “clean tickets fortnight”",
        ),
    ],
)
def test_unknown_arguments_are_usage_errors(args, problem):
    parsed = parse_leaderboard(args, CONFIG)
    assert isinstance(parsed, UsageError)
    assert parsed.command == "leaderboard"
    assert parsed.problem is not None
    assert parsed.problem.startswith(problem)


def test_a_metric_the_configuration_cannot_compute_is_explained():
    no_notes = parse_config({"connectwise": {"sync_notes": False}})
    parsed = parse_leaderboard("first_contact_pct", no_notes)
    assert isinstance(parsed, UsageError)
    assert parsed.problem == (
        "first_contact_pct needs ticket notes: set [connectwise] sync_notes = true"
    )


def test_mystats_takes_an_optional_period():
    assert parse_mystats("", CONFIG) == MystatsRequest(None)
    assert parse_mystats("Last Month", CONFIG) == MystatsRequest("last-month")
    assert parse_mystats("yesterday", CONFIG) == MystatsRequest("yesterday")
    assert isinstance(parse_mystats("week please", CONFIG), UsageError)


def test_deskboard_subcommands():
    assert parse_deskboard("", CONFIG) == DeskboardRequest("help")
    assert parse_deskboard("STATUS", CONFIG) == DeskboardRequest("status")
    # Slack sends an escaped mention; the command text arrives HTML-escaped.
    assert parse_deskboard("link &lt;@U0ABC|jane smith&gt; JSmith", CONFIG) == DeskboardRequest(
        "link", user="<@U0ABC|jane smith>", identifier="JSmith"
    )
    assert isinstance(parse_deskboard("status now", CONFIG), UsageError)
    assert isinstance(parse_deskboard("link", CONFIG), UsageError)
    assert isinstance(parse_deskboard("reboot", CONFIG), UsageError)


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("<@U0ABC|jane>", "U0ABC"),
        ("<@W0ENTERPRISE>", "W0ENTERPRISE"),
        ("U0ABC", "U0ABC"),
        ("@jane", None),  # an unescaped name cannot be resolved reliably
        ("<!channel>", None),
    ],
)
def test_slack_users_are_read_from_mentions_or_ids(text, user):
    assert slack_user_of(text) == user

"""The command and freshness benchmarks at their small size: they run end to end, measure
something, and what Deskboard shows equals what the data says (no timing is asserted: a
test must not fail on a slow machine)."""

from __future__ import annotations

from bench.cases import command, freshness
from tests.databases import sqlite_only

pytestmark = sqlite_only("the benchmarks measure Deskboard on SQLite files against plain sqlite3")


def test_leaderboard_command_shows_the_stored_numbers_and_is_timed() -> None:
    result = command.run("small")
    # numbers_agree: every ranked line's value and rank equals member_values over the same
    # month, which itself equals a plain SQL GROUP BY of resolved tickets per technician.
    assert result.numbers_agree, result.details["problem"]
    assert [f.label for f in result.figures] == [
        "month: median",
        "month: p99",
        "year: median",
        "year: p99",
    ]
    year = result.details["year"]
    assert year["problem"] is None
    assert year["window"] != result.details["window"]
    # the year's leader has resolved more than the month's (the year holds the month)
    assert year["shown"][0][2] > result.details["shown"][0][2]
    assert all(f.deskboard > 0 and f.baseline is None for f in result.figures)
    assert result.details["requests"] == command.REQUESTS["small"]
    assert result.details["tickets"] > 0


def test_kudos_reaches_slack_after_a_resolution_and_is_timed() -> None:
    result = freshness.run("small")
    # numbers_agree: exactly one kudos for the resolved ticket, in the kudos channel, naming
    # the ticket and the technician who responded to and resolved it.
    assert result.numbers_agree, result.details
    interval = freshness.PLANS["small"].interval.total_seconds()
    assert [f.label for f in result.figures] == ["worst delay", "mean delay"]
    assert all(f.deskboard > 0 and f.baseline == interval for f in result.figures)
    assert len(result.details["delays_s"]) == freshness.PLANS["small"].repeats

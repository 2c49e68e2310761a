"""Properties of the chat command parsers (bot/core/commands.py): any text a user can type gives a
request or the parser's own ``UsageError``, never an exception; and what a valid command
says (a contest, a metric, a period, a subcommand, a link's user and member) comes back out,
however it is cased, spaced or entity-encoded by the chat platform."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

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
from metrics.definitions import METRICS, MetricRef
from metrics.windows import named_window

SETTINGS = settings(max_examples=100, deadline=None)
CONFIG = parse_config(
    {
        "timezone": "America/Chicago",
        "contests": [
            {"name": "Most resolved", "metric": "resolved", "period": "monthly"},
            {"name": "Clean tickets", "metric": "categorized_pct", "period": "weekly"},
            {"name": "O'Brien's \"Cup\" & <b>co</b>", "metric": "resolved", "period": "weekly"},
            {"name": "Ünïcødé 速度", "metric": "resolved", "period": "monthly"},
        ],
    }
)
CONTESTS = [c.name for c in CONFIG.contest_list()]
PERIODS = ["today", "yesterday", "week", "last-week", "month", "last-month", "quarter",
           "last quarter", "year", "LAST_YEAR"]  # fmt: skip
ACTIONS = ["status", "sync", "contests", "optout", "optin", "help"]
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TZ = ZoneInfo("America/Chicago")

typed = st.lists(
    st.one_of(
        st.sampled_from(["&lt;", "&gt;", "&amp;", "<@U1|x>", "@", '"', "“", "'", " ", "\n", "\t"]),
        st.sampled_from([*CONTESTS, *PERIODS, *ACTIONS, "link", "last", "@"]),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    ),
    max_size=8,
).map("".join)


def entity_encoded(text: str) -> str:
    """As Slack sends command text: &, < and > as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def messy(draw: st.DrawFn, words: str) -> str:
    """``words`` as a user might type them: any case, any spacing."""
    cased = "".join(
        c.upper() if draw(st.booleans()) else c.lower() if draw(st.booleans()) else c for c in words
    )
    gap = draw(st.sampled_from([" ", "  ", "\t", " \n "]))
    return (
        draw(st.sampled_from(["", " ", "  "]))
        + gap.join(cased.split())
        + draw(st.sampled_from(["", " ", "\n"]))
    )


@SETTINGS
@given(typed)
def test_any_text_gives_a_request_or_a_usage_error(text):
    for parse, request_type, command in (
        (parse_leaderboard, LeaderboardRequest, "leaderboard"),
        (parse_mystats, MystatsRequest, "mystats"),
        (parse_deskboard, DeskboardRequest, "deskboard"),
    ):
        result = parse(text, CONFIG)
        assert isinstance(result, request_type | UsageError)
        if isinstance(result, UsageError):
            assert result.command == command


def same_window(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return named_window(a, now=NOW, tz=TZ) == named_window(b, now=NOW, tz=TZ)


@SETTINGS
@given(st.data(), st.sampled_from(CONTESTS), st.none() | st.sampled_from(PERIODS))
def test_a_contest_and_a_period_round_trip(data, contest, period):
    text = messy(data.draw, contest) + (" " + messy(data.draw, period) if period else "")
    result = parse_leaderboard(entity_encoded(text), CONFIG)
    assert isinstance(result, LeaderboardRequest), result
    assert result.contest.name == contest
    assert same_window(result.period, period)


@SETTINGS
@given(st.data(), st.sampled_from(METRICS), st.none() | st.sampled_from(PERIODS))
def test_a_metric_key_or_label_round_trips_or_says_what_it_needs(data, metric, period):
    words = data.draw(st.sampled_from([metric.key, metric.label]))
    text = messy(data.draw, words) + (" " + period if period else "")
    result = parse_leaderboard(text, CONFIG)
    if isinstance(result, UsageError):  # a metric that needs ticket notes (not synced here)
        assert "sync_notes" in (result.problem or "")
        return
    target = result.contest.target
    assert isinstance(target, MetricRef)
    assert target.metric == metric
    assert same_window(result.period, period)


@SETTINGS
@given(st.data(), st.none() | st.sampled_from(PERIODS))
def test_mystats_periods_round_trip(data, period):
    result = parse_mystats(messy(data.draw, period) if period else "", CONFIG)
    assert isinstance(result, MystatsRequest)
    assert same_window(result.period, period)


@SETTINGS
@given(st.data(), st.sampled_from(ACTIONS))
def test_deskboard_subcommands_round_trip_and_refuse_extra_words(data, action):
    assert parse_deskboard(messy(data.draw, action), CONFIG) == DeskboardRequest(action)
    extra = parse_deskboard(f"{action} {data.draw(typed.filter(str.strip))}", CONFIG)
    assert isinstance(extra, UsageError)


@SETTINGS
@given(
    st.from_regex(r"U[A-Z0-9]{4,11}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9._-]{0,15}", fullmatch=True),
    st.from_regex(r"[A-Za-z][A-Za-z0-9._']{0,15}", fullmatch=True),
)
def test_link_keeps_the_mention_and_the_member(user_id, name, identifier):
    mention = f"<@{user_id}|{name}>"
    result = parse_deskboard(entity_encoded(f"LINK  {mention}\t{identifier} "), CONFIG)
    assert result == DeskboardRequest("link", user=mention, identifier=identifier)
    assert isinstance(parse_deskboard(f"link {mention}", CONFIG), UsageError)

"""Properties of the conditions builder (psa/connectwise/conditions.py), checked against the
simulator's
parser (psa/connectwise/simulator/conditions.py), which reads conditions as ConnectWise does:
whatever a
value holds (quotes, backslashes, brackets, keywords, newlines), it stays inside its literal,
and a condition built for a value selects exactly the records whose field equals it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from psa.connectwise.conditions import all_of, compare, equals, format_datetime, in_list, quote
from psa.connectwise.simulator.conditions import (
    AllOf,
    Comparison,
    Timestamp,
    matches,
    parse_conditions,
)

SETTINGS = settings(max_examples=200, deadline=None)

# Texts rich in what could break out of a literal.
hostile = st.text(
    st.one_of(
        st.sampled_from(list("\"'\\[]()=<>!,% and or null ")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=30,
)
numbers = st.integers(min_value=-(10**12), max_value=10**12)
fields = st.sampled_from(["summary", "company/name", "board/name", "contact/name"])


@SETTINGS
@given(fields, hostile, numbers)
def test_a_text_value_parses_back_unchanged_and_stays_one_comparison(field, value, board):
    condition = all_of(equals(field, value), compare("board/id", "=", board))
    assert condition is not None
    parsed = parse_conditions(condition)
    assert parsed == AllOf(
        (
            Comparison(field, tuple(field.split("/")), "=", value),
            Comparison("board/id", ("board", "id"), "=", board),
        )
    )


@SETTINGS
@given(hostile, st.lists(hostile, min_size=1, max_size=6), st.lists(hostile, max_size=6))
def test_equals_selects_exactly_the_records_with_that_value(value, others, noise):
    """ConnectWise compares text case-insensitively (SQL Server), so "equal" is casefolded."""
    records = [{"id": i, "summary": text} for i, text in enumerate([value, *others, *noise])]
    condition = parse_conditions(equals("summary", value))
    selected = [r["id"] for r in records if matches(condition, r)]
    assert selected == [r["id"] for r in records if r["summary"].casefold() == value.casefold()]
    assert 0 in selected


@SETTINGS
@given(st.lists(hostile | numbers, min_size=1, max_size=8))
def test_a_list_keeps_every_value_and_no_more(values):
    parsed = parse_conditions(in_list("summary", values))
    assert isinstance(parsed, Comparison)
    assert parsed.op == "in"
    assert parsed.value == tuple(values)


offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@SETTINGS
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=offsets)
)
def test_an_instant_becomes_utc_whole_seconds_and_compares_as_such(moment):
    parsed = parse_conditions(compare("lastUpdated", ">", moment))
    assert isinstance(parsed, Comparison)
    expected = moment.astimezone(UTC).replace(microsecond=0)
    assert parsed.value == Timestamp(expected.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert format_datetime(moment) == parsed.value.text
    later = {"_info": {"lastUpdated": format_datetime(expected + timedelta(seconds=1))}}
    same = {"_info": {"lastUpdated": format_datetime(expected)}}
    assert matches(parsed, later)
    assert not matches(parsed, same)


@SETTINGS
@given(st.one_of(st.none(), st.booleans(), numbers, hostile))
def test_every_scalar_quotes_to_a_single_value(value):
    parsed = parse_conditions(f"summary = {quote(value)}")
    assert isinstance(parsed, Comparison)
    assert parsed.value == value
    assert type(parsed.value) is type(value)

from datetime import UTC, datetime, timedelta, timezone

import pytest

from psa.connectwise.conditions import (
    all_of,
    board_in,
    compare,
    equals,
    format_datetime,
    in_list,
    quote,
    updated_after,
)


def test_strings_are_double_quoted_with_quotes_and_backslashes_escaped():
    # O"Brien \ Sons: the quote becomes \" and the backslash \\ (backslash first).
    assert quote('O"Brien \\ Sons') == '"O\\"Brien \\\\ Sons"'
    assert quote("") == '""'


def test_bare_values_for_bools_null_and_numbers():
    assert quote(True) == "true"  # a bool is not printed as the int 1
    assert quote(False) == "false"
    assert quote(None) == "null"
    assert quote(42) == "42"
    assert quote(-3) == "-3"
    assert quote(1.5) == "1.5"


def test_non_finite_float_and_unknown_type_are_refused():
    with pytest.raises(ValueError, match="finite"):
        quote(float("nan"))
    with pytest.raises(TypeError, match="list"):
        quote([1])  # type: ignore[arg-type]


def test_datetimes_are_bracketed_in_utc_whole_seconds():
    # 02:00:00.75 at +02:00 is 00:00:00 UTC; the fraction is dropped.
    moment = datetime(2026, 11, 1, 2, 0, 0, 750000, tzinfo=timezone(timedelta(hours=2)))
    assert quote(moment) == "[2026-11-01T00:00:00Z]"
    assert format_datetime(datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC)) == (
        "2026-11-01T23:59:59Z"
    )


def test_naive_datetime_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="no time zone"):
        quote(datetime(2026, 11, 1))


def test_the_api_md_example_is_built_exactly():
    built = all_of(updated_after(datetime(2026, 11, 1, tzinfo=UTC)), board_in([1, 2]))
    assert built == "lastUpdated > [2026-11-01T00:00:00Z] and board/id in (1,2)"


def test_in_list_quotes_each_value_and_refuses_an_empty_list():
    assert in_list("company/identifier", ["Catchall", 'A"B']) == (
        'company/identifier in ("Catchall","A\\"B")'
    )
    with pytest.raises(ValueError, match="at least one"):
        in_list("board/id", [])


def test_board_in_wants_integers():
    with pytest.raises(TypeError):
        board_in(["1"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        board_in([True])


def test_all_of_skips_missing_parts_and_gives_none_when_nothing_is_left():
    assert all_of(None, "closedFlag = false", "", None) == "closedFlag = false"
    assert all_of(None, "  ") is None
    assert all_of() is None


def test_compare_and_equals():
    assert compare("closedFlag", "=", False) == "closedFlag = false"
    assert equals("company/id", 250) == "company/id = 250"
    assert compare("summary", "contains", "VPN") == 'summary contains "VPN"'
    assert compare("_info/lastUpdated", ">=", datetime(2026, 1, 2, tzinfo=UTC)) == (
        "_info/lastUpdated >= [2026-01-02T00:00:00Z]"
    )


def test_field_names_and_operators_cannot_smuggle_in_conditions():
    with pytest.raises(ValueError, match="field name"):
        equals("board/id = 1 or id", 2)
    with pytest.raises(ValueError, match="operator"):
        compare("id", "= 1 or id =", 2)

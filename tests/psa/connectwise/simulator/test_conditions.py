"""The simulator's parser and evaluator of ConnectWise ``conditions`` strings."""

from __future__ import annotations

import pytest

from psa.connectwise.simulator.conditions import (
    AllOf,
    AnyOf,
    Comparison,
    ConditionError,
    Timestamp,
    matches,
    parse_conditions,
    split_lower_bound,
)
from psa.connectwise.simulator.ticket_fields import is_ticket_field

TICKET = {
    "id": 41007,
    "summary": "Tom & Jerry's <b>PC</b>",
    "board": {"id": 1, "name": "Service Desk"},
    "status": {"id": 103, "name": "In Progress"},
    "company": {"id": 250, "identifier": "AcmeDental", "name": "Acme Dental Group"},
    "closedFlag": False,
    "actualHours": 1.5,
    "resolvedBy": "jsmith",
    "_info": {"lastUpdated": "2026-11-01T10:00:00Z", "dateEntered": "2026-10-30T14:00:00Z"},
}


def _match(text: str) -> bool:
    return matches(parse_conditions(text, known=is_ticket_field), TICKET)


def test_and_binds_tighter_than_or_and_parentheses_regroup():
    parsed = parse_conditions("id = 1 or id = 2 and closedFlag = false")
    assert isinstance(parsed, AnyOf)
    assert isinstance(parsed.parts[1], AllOf)
    regrouped = parse_conditions("(id = 1 or id = 2) AND closedFlag = false")
    assert isinstance(regrouped, AllOf)
    assert isinstance(regrouped.parts[0], AnyOf)
    # id 41007: "id = 1 or (id = 41007 and closedFlag = true)" is false; regrouped it is too.
    assert not _match("id = 1 or id = 41007 and closedFlag = true")
    assert _match("id = 1 or id = 41007 and closedFlag = false")


def test_values_of_every_kind_parse():
    parsed = parse_conditions(
        "summary = \"say \\\"hi\\\"\" and x = 'it''s' and n = -2.5 and b = true and z = null"
        " and d = [2026-11-01T05:00:00-05:00] and board/id in (1, 2)"
    )
    assert isinstance(parsed, AllOf)
    values = [part.value for part in parsed.parts if isinstance(part, Comparison)]
    # -05:00 → 10:00 UTC: the timestamp is normalized so it compares with CW's text.
    assert values == [
        'say "hi"',
        "it's",
        -2.5,
        True,
        None,
        Timestamp("2026-11-01T10:00:00Z"),
        (1, 2),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("board/id = 1", True),
        ("board/id in (2, 3)", False),
        ("board/id not in (2, 3)", True),
        ('status/name = "in progress"', True),  # text compares case-insensitively
        ('company/identifier != "acmedental"', False),
        ('summary contains "<b>"', True),
        ('summary like "Tom*PC*"', True),
        ('summary like "Jerry%"', False),
        ('summary not contains "printer"', True),
        ("closedFlag = false", True),
        ("actualHours >= 1.5 and actualHours < 2", True),
        ('resolvedBy = "JSmith"', True),
        ("lastUpdated > [2026-11-01T09:59:59Z]", True),
        ("lastUpdated > [2026-11-01T10:00:00Z]", False),
        ("lastUpdated >= [2026-11-01T10:00:00Z]", True),
        ("dateEntered < [2026-10-31]", True),
        ("item/name = null", True),  # a missing key is null
        ('item/name != "Repair"', False),  # ... and, as in SQL, never unequal to a value
        ("agreement = null", True),
        ("company != null", True),
    ],
)
def test_evaluation_follows_connectwise(text, expected):
    assert _match(text) is expected


def test_an_unknown_field_is_refused_with_connectwise_words():
    with pytest.raises(ConditionError) as raised:
        parse_conditions("ticket = 5", known=is_ticket_field)
    assert raised.value.message == "ticket is not a recognized name."


@pytest.mark.parametrize(
    "text",
    [
        "id =",
        "id 5",
        "(id = 5",
        "id = 5 and",
        "id in 5",
        "id = (1, 2)",
        "lastUpdated > [yesterday]",
        'summary = "unterminated',
        "= 5",
    ],
)
def test_malformed_conditions_are_refused(text):
    with pytest.raises(ConditionError):
        parse_conditions(text)


def test_split_lower_bound_finds_the_lastupdated_floor_of_a_conjunction():
    both = parse_conditions(
        "lastUpdated > [2026-11-01T00:00:00Z] and board/id in (1) and lastUpdated >= [2026-11-02]"
    )
    bound, rest = split_lower_bound(both, "lastUpdated")
    assert bound == ("2026-11-02T00:00:00Z", True)
    assert rest == Comparison("board/id", ("board", "id"), "in", (1,))
    same_instant = parse_conditions("lastUpdated >= [2026-11-01] and lastUpdated > [2026-11-01]")
    assert split_lower_bound(same_instant, "lastUpdated") == (("2026-11-01T00:00:00Z", False), None)
    either = parse_conditions("lastUpdated > [2026-11-01T00:00:00Z] or board/id = 1")
    assert split_lower_bound(either, "lastUpdated") == (None, either)

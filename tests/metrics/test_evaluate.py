"""The reference evaluator against hand-computed numbers for every metric of
docs/metrics.md, "The metrics".

The ticket set (window: November 2026 in UTC, 20 working days; categories: emergency = bit 1,
vip = bit 2):

| id | resolver | responder | resolved | responded | notes |
|----|----------|-----------|----------|-----------|-------|
| 1  | alice | alice | Nov 3  | Nov 2 | categorized, judgeable, emergency |
| 2  | alice | bob   | Nov 10 | Nov 9 | type only, no agreement, catchall, escalated |
| 3  | alice | -     | Nov 20 | -     | categorized, no agreement, emergency+vip, SLA time only |
| 4  | alice | alice | Oct 31 23:59 | Oct 31 | before the window |
| 5  | alice | -     | Dec 1 00:00 | - | the window's end is exclusive |
| 6  | alice | -     | Nov 5  | -     | board out of scope |
| 7  | bob   | bob   | Nov 15 | Nov 1 00:00 | categorized, judgeable, emergency, 0 min response |
| 8  | -     | carol | -      | Nov 12 | open, owned by carol |
| 9  | dave  | dave  | Nov 8  | Nov 8 | dave is excluded in most tests |
| 10 | -     | -     | -      | -     | open, owned by alice, emergency |
| 11 | -     | -     | -      | -     | open, owned by erin (who resolved and responded nothing) |
| 12 | -     | -     | -      | -     | open, owned by alice, board out of scope |
| 13 | bob   | -     | (none) | -     | resolver known but no resolved date: not in R |
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from metrics.definitions import TimeBasis, parse_metric_ref
from metrics.derive import DerivedTicket
from metrics.evaluate import member_values
from metrics.values import MemberValues, ReopenEvent
from metrics.windows import Window

NOVEMBER = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
BITS = {"emergency": 1, "vip": 2}
WORKING_DAYS = 20


def nov(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


BLANK = DerivedTicket(
    id=0,
    in_scope=True,
    is_open=False,
    resolver_key=None,
    responder_key=None,
    owner_key=None,
    resolved_at=None,
    responded_at=None,
    categorized=False,
    has_type=False,
    has_subtype=False,
    has_item=False,
    no_agreement=False,
    catchall=False,
    judgeable=False,
    escalated=False,
    without_escalation=False,
    actual_hours=0.0,
    response_min_business=None,
    response_min_sla=None,
    response_min_calendar=None,
    resolution_min_business=None,
    resolution_min_sla=None,
    resolution_min_calendar=None,
    category_mask=0,
)
CATEGORIZED = {"categorized": True, "has_type": True, "has_subtype": True, "has_item": True}

TICKETS = (
    replace(
        BLANK,
        id=1,
        resolver_key="alice",
        responder_key="alice",
        owner_key="alice",
        resolved_at=nov(3),
        responded_at=nov(2),
        **CATEGORIZED,
        judgeable=True,
        without_escalation=True,
        actual_hours=2.0,
        response_min_business=30.0,
        response_min_sla=10.0,
        response_min_calendar=45.0,
        resolution_min_business=120.0,
        resolution_min_sla=100.0,
        resolution_min_calendar=1440.0,
        category_mask=1,
        first_contact=True,
    ),
    replace(
        BLANK,
        id=2,
        resolver_key="alice",
        responder_key="bob",
        resolved_at=nov(10),
        responded_at=nov(9),
        has_type=True,
        no_agreement=True,
        catchall=True,
        judgeable=True,
        escalated=True,
        actual_hours=1.0,
        response_min_business=60.0,
        response_min_calendar=90.0,
        resolution_min_business=240.0,
        resolution_min_calendar=2880.0,
        first_contact=False,
    ),
    replace(
        BLANK,
        id=3,
        resolver_key="alice",
        resolved_at=nov(20),
        **CATEGORIZED,
        no_agreement=True,
        resolution_min_sla=30.0,
        category_mask=3,
    ),
    replace(
        BLANK,
        id=4,
        resolver_key="alice",
        responder_key="alice",
        resolved_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC),
        responded_at=datetime(2026, 10, 31, 9, 0, tzinfo=UTC),
        **CATEGORIZED,
        response_min_business=999.0,
        resolution_min_business=999.0,
    ),
    replace(
        BLANK,
        id=5,
        resolver_key="alice",
        resolved_at=datetime(2026, 12, 1, tzinfo=UTC),
        resolution_min_business=999.0,
    ),
    replace(
        BLANK,
        id=6,
        in_scope=False,
        resolver_key="alice",
        resolved_at=nov(5),
        resolution_min_business=999.0,
    ),
    replace(
        BLANK,
        id=7,
        resolver_key="bob",
        responder_key="bob",
        resolved_at=nov(15),
        responded_at=nov(1, 0, 0),
        **CATEGORIZED,
        judgeable=True,
        without_escalation=True,
        actual_hours=3.0,
        response_min_business=0.0,
        resolution_min_business=90.0,
        category_mask=1,
    ),
    replace(
        BLANK,
        id=8,
        is_open=True,
        responder_key="carol",
        owner_key="carol",
        responded_at=nov(12),
        response_min_business=15.0,
        response_min_sla=5.0,
        response_min_calendar=20.0,
    ),
    replace(
        BLANK,
        id=9,
        resolver_key="dave",
        responder_key="dave",
        resolved_at=nov(8),
        responded_at=nov(8),
        judgeable=True,
        without_escalation=True,
    ),
    replace(BLANK, id=10, is_open=True, owner_key="alice", category_mask=1),
    replace(BLANK, id=11, is_open=True, owner_key="erin"),
    replace(BLANK, id=12, is_open=True, in_scope=False, owner_key="alice"),
    replace(BLANK, id=13, resolver_key="bob"),
)

REOPENS = (
    ReopenEvent(ticket_id=1, at=nov(15), resolver_key="alice", category_mask=1),
    ReopenEvent(ticket_id=1, at=nov(25), resolver_key="alice", category_mask=1),  # same ticket
    ReopenEvent(ticket_id=2, at=datetime(2026, 12, 2, tzinfo=UTC), resolver_key="alice"),  # late
    ReopenEvent(ticket_id=99, at=nov(4), resolver_key="Bob"),  # case-insensitive member
    ReopenEvent(ticket_id=98, at=nov(4), resolver_key="alice", in_scope=False),
)

REF_TEXTS = (
    "resolved",
    "categorized_pct",
    "type_categorized",
    "subtype_categorized",
    "item_categorized",
    "no_agreement_resolved",
    "catchall_resolved",
    "avg_resolution_hours",
    "avg_response_minutes",
    "escalated_resolved",
    "resolved_without_escalation",
    "pct_without_escalation",
    "reopened",
    "avg_handle_hours",
    "tickets_per_day",
    "backlog",
    "first_contact_pct",
    "resolved@emergency",
    "categorized_pct@emergency",
    "avg_resolution_hours@emergency",
    "avg_response_minutes@emergency",
    "tickets_per_day@emergency",
    "backlog@emergency",
    "reopened@emergency",
    "catchall_resolved@vip",
)
REFS = tuple(parse_metric_ref(text, frozenset(BITS)) for text in REF_TEXTS)


def evaluate(
    basis: TimeBasis = TimeBasis.BUSINESS,
    *,
    working_days: int = WORKING_DAYS,
    excluded: frozenset[str] = frozenset({"dave"}),
    tickets: tuple[DerivedTicket, ...] = TICKETS,
    window: Window = NOVEMBER,
) -> dict[str, MemberValues]:
    return member_values(
        tickets,
        window=window,
        refs=REFS,
        basis=basis,
        working_days=working_days,
        category_bits=BITS,
        reopen_events=REOPENS,
        excluded=excluded,
    )


def assert_value(actual: float | None, expected: float | None) -> None:
    if expected is None:
        assert actual is None
    else:
        assert actual is not None
        assert actual == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("member", "key", "expected"),
    [
        # alice: R = {1, 2, 3} (4 is before, 5 at the exclusive end, 6 out of scope); P = {1}
        ("alice", "resolved", 3),
        ("alice", "categorized_pct", 100.0 * 2 / 3),  # 1 and 3 of 3
        ("alice", "type_categorized", 3),
        ("alice", "subtype_categorized", 2),  # 2 has a type only
        ("alice", "item_categorized", 2),
        ("alice", "no_agreement_resolved", 2),  # 2 and 3
        ("alice", "catchall_resolved", 1),  # 2
        ("alice", "avg_resolution_hours", 3.0),  # (120 + 240) / 2 min, 3 has none; / 60
        ("alice", "avg_response_minutes", 30.0),  # P = {1}; 4 was answered in October
        ("alice", "escalated_resolved", 1),  # 2: bob responded, alice resolved
        ("alice", "resolved_without_escalation", 1),  # 1
        ("alice", "pct_without_escalation", 50.0),  # 1 of the judgeable {1, 2}; 3 unjudgeable
        ("alice", "reopened", 1),  # ticket 1 twice; ticket 2 in December; 98 out of scope
        ("alice", "avg_handle_hours", 1.0),  # (2 + 1 + 0) / 3: no time logged counts as 0
        ("alice", "tickets_per_day", 0.15),  # 3 / 20
        ("alice", "backlog", 1),  # 10 (12 is out of scope; 1 is closed)
        ("alice", "first_contact_pct", 100.0 / 3),  # 1 of 3 (3 has no note data)
        ("alice", "resolved@emergency", 2),  # 1 and 3
        ("alice", "categorized_pct@emergency", 100.0),  # 1 and 3, both categorized
        ("alice", "avg_resolution_hours@emergency", 2.0),  # 120 min (1); 3 has none
        ("alice", "avg_response_minutes@emergency", 30.0),  # 1
        ("alice", "tickets_per_day@emergency", 0.1),  # 2 / 20
        ("alice", "backlog@emergency", 1),  # 10
        ("alice", "reopened@emergency", 1),  # ticket 1
        ("alice", "catchall_resolved@vip", 0),  # 3 is vip but not catchall
        # bob: R = {7} (13 has no resolved date); P = {2, 7} (7 answered at the window start)
        ("bob", "resolved", 1),
        ("bob", "categorized_pct", 100.0),
        ("bob", "avg_resolution_hours", 1.5),  # 90 min
        ("bob", "avg_response_minutes", 30.0),  # (60 + 0) / 2: a zero is a value, not null
        ("bob", "escalated_resolved", 0),
        ("bob", "pct_without_escalation", 100.0),
        ("bob", "reopened", 1),  # ticket 99, charged to "Bob"
        ("bob", "avg_handle_hours", 3.0),
        ("bob", "tickets_per_day", 0.05),  # 1 / 20
        ("bob", "backlog", 0),
        ("bob", "first_contact_pct", 0.0),  # 7 has no note data: 0 of 1
        ("bob", "avg_response_minutes@emergency", 0.0),  # 7 only; 2 is not an emergency
        ("bob", "reopened@emergency", 0),  # 99 is in no category
        # carol only responded (8): counts are 0, rates and averages over R are null
        ("carol", "resolved", 0),
        ("carol", "categorized_pct", None),
        ("carol", "type_categorized", 0),
        ("carol", "catchall_resolved", 0),
        ("carol", "avg_resolution_hours", None),
        ("carol", "avg_response_minutes", 15.0),
        ("carol", "pct_without_escalation", None),
        ("carol", "reopened", 0),
        ("carol", "avg_handle_hours", None),
        ("carol", "tickets_per_day", 0.0),  # 0 / 20: a count per day, not an average
        ("carol", "backlog", 1),  # 8
        ("carol", "first_contact_pct", None),
        ("carol", "avg_response_minutes@emergency", None),  # 8 is no emergency
        ("carol", "resolved@emergency", 0),
    ],
)
def test_every_metric_on_the_business_basis(member: str, key: str, expected: float | None):
    assert_value(evaluate()[member].values[key], expected)


@pytest.mark.parametrize(
    ("basis", "member", "key", "expected"),
    [
        # resolution minutes of alice's 1, 2, 3: sla 100, None, 30; calendar 1440, 2880, None
        (TimeBasis.SLA, "alice", "avg_resolution_hours", 130 / 2 / 60),
        (TimeBasis.CALENDAR, "alice", "avg_resolution_hours", 36.0),  # (1440 + 2880) / 2 / 60
        (TimeBasis.SLA, "alice", "avg_response_minutes", 10.0),
        (TimeBasis.CALENDAR, "alice", "avg_response_minutes", 45.0),
        (TimeBasis.SLA, "carol", "avg_response_minutes", 5.0),
        (TimeBasis.CALENDAR, "bob", "avg_response_minutes", 90.0),  # 2: 90; 7: none
        (TimeBasis.SLA, "bob", "avg_response_minutes", None),  # neither 2 nor 7 has SLA data
        (TimeBasis.SLA, "bob", "avg_resolution_hours", None),
        (TimeBasis.SLA, "alice", "resolved", 3),  # counts do not depend on the basis
    ],
)
def test_time_metrics_follow_the_basis(
    basis: TimeBasis, member: str, key: str, expected: float | None
):
    assert_value(evaluate(basis)[member].values[key], expected)


def test_members_are_everyone_who_resolved_or_responded_minus_the_excluded():
    # erin only owns an open ticket; dave is excluded (matched case-insensitively)
    assert list(evaluate(excluded=frozenset({"Dave"}))) == ["alice", "bob", "carol"]
    assert list(evaluate(excluded=frozenset())) == ["alice", "bob", "carol", "dave"]


def test_resolved_counts_overall_and_per_category_of_the_refs():
    result = evaluate()
    assert result["alice"].resolved == {None: 3, "emergency": 2, "vip": 1}
    assert result["bob"].resolved == {None: 1, "emergency": 1, "vip": 0}
    assert result["carol"].resolved == {None: 0, "emergency": 0, "vip": 0}
    assert result["alice"].member == "alice"


def test_no_working_days_makes_tickets_per_day_null():
    result = evaluate(working_days=0)
    assert result["alice"].values["tickets_per_day"] is None
    assert result["alice"].values["resolved"] == 3


def test_every_requested_ref_has_a_value_for_every_member():
    for values in evaluate().values():
        assert set(values.values) == set(REF_TEXTS)


def test_window_bounds_are_instants_in_the_configured_zone():
    chicago = ZoneInfo("America/Chicago")
    window = Window(
        datetime(2026, 11, 1, tzinfo=chicago), datetime(2026, 12, 1, tzinfo=chicago)
    )  # 05:00 UTC to 06:00 UTC
    inside = replace(TICKETS[6], id=20, resolved_at=datetime(2026, 11, 1, 5, 30, tzinfo=UTC))
    before = replace(TICKETS[6], id=21, resolved_at=datetime(2026, 11, 1, 4, 30, tzinfo=UTC))
    last = replace(TICKETS[6], id=22, resolved_at=datetime(2026, 12, 1, 5, 59, tzinfo=UTC))
    result = evaluate(tickets=(inside, before, last), window=window)
    assert result["bob"].resolved[None] == 2  # 20 and 22


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown category 'vip'"):
        member_values(
            TICKETS,
            window=NOVEMBER,
            refs=[parse_metric_ref("resolved@vip", frozenset({"vip"}))],
            basis=TimeBasis.BUSINESS,
            working_days=WORKING_DAYS,
            category_bits={"emergency": 1},
        )


def test_no_tickets_means_no_members():
    assert evaluate(tickets=()) == {}

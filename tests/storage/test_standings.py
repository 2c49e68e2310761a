"""The SQL aggregates of ``storage.standings`` against hand-computed numbers.

The ticket set (window: November 2026 in UTC; 20 working days passed in; time basis calendar
unless a test says otherwise; category emergency = priority ``P1*``):

| id | resolver | responder | entered → responded → resolved, UTC | notes |
|----|-------|-------|-----------------------------------|------------------------------------|
| 1  | alice | alice | Nov 2 10:00 → 10:30 → 14:00       | categorized, Acme/Gold, 1.5 h, P1, |
|    |       |       |                                   | SLA 10 + 20 + 30                   |
| 2  | alice | Bob   | Nov 3 09:00 → 10:00 → Nov 4 09:00 | type only, "catchall", no agreement, |
|    |       |       |                                   | 0.5 h, P3, SLA 5                   |
| 3  | ALICE | -     | Nov 5 08:00 → - → 10:00           | categorized, no company, no        |
|    |       |       |                                   | agreement, 2 h, P1                 |
| 4  | alice | -     | resolved Oct 31 23:59             | before the window                  |
| 5  | alice | -     | resolved Dec 1 00:00              | the window's end is exclusive      |
| 6  | alice | -     | resolved Nov 6                    | board Projects: out of scope       |
| 7  | BOB   | bob   | Nov 10 09:00 → 09:00 → 12:00      | categorized, Acme/Gold, 1 h, P1    |
| 8  | -     | carol | Nov 12 09:00 → 09:20              | open, owned by carol               |
| 9  | dave  | dave  | Nov 8 09:00 → 09:06 → 10:00       | dave is excluded in some tests     |
| 10 | -     | -     | -                                 | open, owned by alice, P1           |
| 11 | -     | -     | -                                 | open, owned by erin, who resolved  |
|    |       |       |                                   | and responded to nothing           |
| 12 | -     | -     | -                                 | open, owned by alice, on Projects  |
| 13 | bob   | -     | resolved Nov 14, reopened Nov 16  | a reopen charged to bob; now open, |
|    |       |       |                                   | no owner                           |
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from metrics import evaluate
from metrics.calendar import BusinessCalendar
from metrics.categories import Category, category_bits
from metrics.conversation import conversation
from metrics.definitions import METRICS, METRICS_BY_KEY, MetricRef, Population, TimeBasis
from metrics.derive import DerivedTicket, DeriveParams, derive
from metrics.notes import TicketNote, is_first_contact
from metrics.records import TicketRecord, member_key
from metrics.values import MemberValues, ReopenEvent, ReplyFact
from metrics.windows import Window, window_for_dates
from storage import repo, standings
from storage.db import create_engine_for, session_scope
from tests.databases import Databases
from tests.storage.conftest import CHICAGO_HOURS, EMERGENCY
from tests.storage.helpers import NO_WAITING, nov, upsert

NOVEMBER = Window(nov(1, 0), nov(30, 0) + timedelta(days=1))
BITS = {"emergency": 1}
SD = "Service Desk"
CATEGORIZED: dict[str, Any] = {"type": "Hardware", "subtype": "Printer", "item": "Toner"}
PARAMS = DeriveParams(
    calendar=BusinessCalendar(CHICAGO_HOURS),
    catchall_company="Catchall",
    boards=(SD,),
    categories=(EMERGENCY,),
)


def resolved(
    id: int, resolver: str, at: datetime, *, entered: datetime | None = None, **fields: Any
) -> TicketRecord:
    """A closed ticket, resolved by ``resolver`` at ``at`` and last updated then."""
    base = TicketRecord(
        id=id,
        board=SD,
        status="Closed",
        closed=True,
        company="Acme",
        agreement="Gold",
        entered_at=entered or at - timedelta(hours=1),
        updated_at=at,
        resolver=resolver,
        resolved_at=at,
    )
    return replace(base, **fields)


def open_ticket(id: int, *, owner: str | None, **fields: Any) -> TicketRecord:
    base = TicketRecord(
        id=id,
        board=SD,
        status="In Progress",
        owner=owner,
        entered_at=nov(1, 9),
        updated_at=nov(1, 9),
    )
    return replace(base, **fields)


RESOLVED_BY_BOB_13 = resolved(13, "bob", nov(14))
TICKETS = (
    resolved(1, "alice", nov(2, 14), entered=nov(2, 10), responder="alice",
             responded_at=nov(2, 10, 30), **CATEGORIZED, actual_hours=1.5,
             priority="P1 - Emergency", sla_respond_min=10.0, sla_resplan_min=20.0,
             sla_resolve_min=30.0),
    resolved(2, "alice", nov(4, 9), entered=nov(3, 9), responder="Bob", responded_at=nov(3, 10),
             type="Hardware", company="catchall", agreement=None, actual_hours=0.5,
             priority="P3", sla_respond_min=5.0),
    resolved(3, "ALICE", nov(5, 10), entered=nov(5, 8), **CATEGORIZED, company=None,
             agreement=None, actual_hours=2.0, priority="P1"),
    resolved(4, "alice", datetime(2026, 10, 31, 23, 59, tzinfo=UTC), **CATEGORIZED),
    resolved(5, "alice", datetime(2026, 12, 1, tzinfo=UTC), **CATEGORIZED),
    resolved(6, "alice", nov(6), board="Projects", **CATEGORIZED),
    resolved(7, "BOB", nov(10, 12), entered=nov(10, 9), responder="bob",
             responded_at=nov(10, 9), **CATEGORIZED, actual_hours=1.0, priority="P1"),
    open_ticket(8, owner="carol", entered_at=nov(12, 9), responder="carol",
                responded_at=nov(12, 9, 20)),
    resolved(9, "dave", nov(8, 10), entered=nov(8, 9), responder="dave",
             responded_at=nov(8, 9, 6)),
    open_ticket(10, owner="alice", priority="P1"),
    open_ticket(11, owner="erin"),
    open_ticket(12, owner="alice", board="Projects"),
    RESOLVED_BY_BOB_13,
)  # fmt: skip
REOPENED_13 = open_ticket(13, owner=None, status="Reopened", updated_at=nov(16))

ALL_REFS = [MetricRef(m) for m in METRICS]
CATEGORY_REFS = [
    MetricRef(METRICS_BY_KEY[key], "emergency")
    for key in ("resolved", "categorized_pct", "avg_resolution_hours", "avg_response_minutes",
                "backlog", "tickets_per_day", "reopened")
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded(databases: Databases) -> Iterator[Engine]:
    url = databases.fresh_url()
    engine = create_engine_for(url)
    upsert(engine, TICKETS, params=PARAMS)
    upsert(engine, [REOPENED_13], params=PARAMS)
    yield engine
    engine.dispose()
    databases.drop(url)


def values_of(
    engine: Engine,
    *,
    refs: list[MetricRef],
    basis: TimeBasis = TimeBasis.CALENDAR,
    window: Window = NOVEMBER,
    working_days: int = 20,
    excluded: frozenset[str] = frozenset(),
) -> dict[str, MemberValues]:
    with session_scope(engine) as session:
        return standings.member_values(
            session,
            window=window,
            refs=refs,
            basis=basis,
            working_days=working_days,
            category_bits=BITS,
            excluded=excluded,
        )


def check(actual: float | None, expected: float | None) -> None:
    """Nulls are nulls and counts are exact integers; other numbers equal to 1e-12."""
    if expected is None:
        assert actual is None
    elif isinstance(expected, int):
        assert type(actual) is int
        assert actual == expected
    else:
        assert type(actual) is float
        assert actual == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("member", "key", "expected"),
    [
        # alice: R = {1, 2, 3} (4, 5 outside the window, 6 out of scope), P = {1}
        ("alice", "categorized_pct", 100.0 * 2 / 3),  # 1 and 3
        ("alice", "type_categorized", 3),
        ("alice", "subtype_categorized", 2),
        ("alice", "item_categorized", 2),
        ("alice", "no_agreement_resolved", 2),  # 2 and 3
        ("alice", "catchall_resolved", 2),  # 2 ("catchall" in any case), 3 (no company)
        ("alice", "resolved", 3),
        ("alice", "avg_resolution_hours", (4 + 24 + 2) / 3),
        ("alice", "avg_response_minutes", 30.0),
        ("alice", "escalated_resolved", 1),  # 2: Bob responded
        ("alice", "resolved_without_escalation", 1),  # 1
        ("alice", "pct_without_escalation", 50.0),  # 1 of the judgeable 1 and 2
        ("alice", "reopened", 0),
        ("alice", "avg_handle_hours", (1.5 + 0.5 + 2.0) / 3),
        ("alice", "tickets_per_day", 3 / 20),
        ("alice", "backlog", 1),  # 10 (12 is out of scope)
        ("alice", "first_contact_pct", 0.0),  # no note data: 0 of 3, as metrics.evaluate
        # bob: R = {7} ("BOB"), P = {2 ("Bob"), 7}; 13 was reopened in the window
        ("bob", "categorized_pct", 100.0),
        ("bob", "type_categorized", 1),
        ("bob", "no_agreement_resolved", 0),
        ("bob", "catchall_resolved", 0),
        ("bob", "resolved", 1),
        ("bob", "avg_resolution_hours", 3.0),
        ("bob", "avg_response_minutes", (60 + 0) / 2),
        ("bob", "escalated_resolved", 0),
        ("bob", "resolved_without_escalation", 1),
        ("bob", "pct_without_escalation", 100.0),
        ("bob", "reopened", 1),
        ("bob", "avg_handle_hours", 1.0),
        ("bob", "tickets_per_day", 1 / 20),
        ("bob", "backlog", 0),
        # carol only responded (8): counts are 0, rates and means over nothing are null
        ("carol", "categorized_pct", None),
        ("carol", "type_categorized", 0),
        ("carol", "catchall_resolved", 0),
        ("carol", "resolved", 0),
        ("carol", "avg_resolution_hours", None),
        ("carol", "avg_response_minutes", 20.0),
        ("carol", "escalated_resolved", 0),
        ("carol", "pct_without_escalation", None),
        ("carol", "reopened", 0),
        ("carol", "avg_handle_hours", None),
        ("carol", "tickets_per_day", 0.0),
        ("carol", "backlog", 1),
        ("carol", "first_contact_pct", None),
        # dave, when not excluded
        ("dave", "resolved", 1),
        ("dave", "avg_response_minutes", 6.0),
    ],
)
def test_each_metric_on_the_calendar_basis(loaded: Engine, member, key, expected):
    result = values_of(loaded, refs=ALL_REFS)
    check(result[member].values[key], expected)


def test_members_are_who_resolved_or_responded_less_the_excluded(loaded: Engine):
    # erin owns a backlog only; nobody is there for a reopen alone
    assert list(values_of(loaded, refs=ALL_REFS)) == ["alice", "bob", "carol", "dave"]
    excluded = values_of(loaded, refs=ALL_REFS, excluded=frozenset({"DAVE"}))
    assert list(excluded) == ["alice", "bob", "carol"]
    # an excluded member is dropped; everyone else's numbers do not move
    assert excluded["alice"] == values_of(loaded, refs=ALL_REFS)["alice"]


def test_resolved_counts_overall_and_per_requested_category(loaded: Engine):
    result = values_of(loaded, refs=CATEGORY_REFS)
    assert {m: v.resolved for m, v in result.items()} == {
        "alice": {None: 3, "emergency": 2},  # 1 and 3 are P1
        "bob": {None: 1, "emergency": 1},
        "carol": {None: 0, "emergency": 0},
        "dave": {None: 1, "emergency": 0},
    }
    assert values_of(loaded, refs=ALL_REFS)["alice"].resolved == {None: 3}


@pytest.mark.parametrize(
    ("member", "key", "expected"),
    [
        ("alice", "resolved@emergency", 2),
        ("alice", "categorized_pct@emergency", 100.0),  # 1 and 3 both categorized
        ("alice", "avg_resolution_hours@emergency", (4 + 2) / 2),
        ("alice", "avg_response_minutes@emergency", 30.0),  # 1
        ("alice", "backlog@emergency", 1),  # 10
        ("alice", "tickets_per_day@emergency", 2 / 20),
        ("bob", "avg_response_minutes@emergency", 0.0),  # 7 only (2 is P3)
        ("bob", "reopened@emergency", 0),  # 13 has no priority
        ("carol", "avg_response_minutes@emergency", None),  # 8 has no priority
        ("dave", "categorized_pct@emergency", None),  # none of dave's tickets is P1
        ("dave", "resolved@emergency", 0),
    ],
)
def test_category_refs_keep_the_tickets_of_the_category(loaded: Engine, member, key, expected):
    check(values_of(loaded, refs=CATEGORY_REFS)[member].values[key], expected)


def test_sla_basis_uses_the_connectwise_clocks(loaded: Engine):
    result = values_of(loaded, refs=ALL_REFS, basis=TimeBasis.SLA)
    # resolution: 1 has 10 + 20 + 30 = 60 min, 2 has 5 (the missing parts count 0), 3 has no
    # SLA data and counts for nothing
    check(result["alice"].values["avg_resolution_hours"], (60 + 5) / 2 / 60)
    check(result["alice"].values["avg_response_minutes"], 10.0)
    check(result["bob"].values["avg_response_minutes"], 5.0)  # 2 has 5, 7 has none
    check(result["carol"].values["avg_resolution_hours"], None)


def test_no_working_days_make_the_daily_rate_null(loaded: Engine):
    result = values_of(loaded, refs=ALL_REFS, working_days=0)
    assert {m: v.values["tickets_per_day"] for m, v in result.items()} == dict.fromkeys(
        result, None
    )
    check(result["alice"].values["resolved"], 3)


def test_unknown_categories_are_refused(loaded: Engine):
    with pytest.raises(ValueError, match="unknown category 'vip'"):
        values_of(loaded, refs=[MetricRef(METRICS_BY_KEY["resolved"], "vip")])


def test_business_basis_counts_working_time_less_waiting(engine: Engine, params, rule):
    # Entered Fri 6 Nov 16:00 CST (22:00 UTC); answered Mon 9 Nov 09:00 CST: 60 + 60 = 120
    # business minutes. Waiting Mon 10:00-12:00 CST, resolved Mon 13:00 CST:
    # 60 + 300 - 120 = 240 minutes = 4 h.
    entered = datetime(2026, 11, 6, 22, 0, tzinfo=UTC)
    new = TicketRecord(id=1, board=SD, status="New", entered_at=entered, updated_at=entered)
    answered = replace(new, status="In Progress", responder="amy", responded_at=nov(9, 15),
                       updated_at=nov(9, 15))  # fmt: skip
    for version in (
        new,
        answered,
        replace(answered, status="Waiting on client", updated_at=nov(9, 16)),
        replace(answered, status="In Progress", updated_at=nov(9, 18)),
        replace(answered, status="Closed", closed=True, resolver="amy", resolved_at=nov(9, 19),
                updated_at=nov(9, 19)),
    ):  # fmt: skip
        upsert(engine, [version], params=params, rule=rule)

    business = values_of(engine, refs=ALL_REFS, basis=TimeBasis.BUSINESS)["amy"].values
    check(business["avg_response_minutes"], 120.0)
    check(business["avg_resolution_hours"], 4.0)
    calendar = values_of(engine, refs=ALL_REFS, basis=TimeBasis.CALENDAR)["amy"].values
    check(calendar["avg_response_minutes"], (2 * 24 + 17) * 60.0)  # Fri 22:00 -> Mon 15:00


def test_window_bounds_are_local_midnights(engine: Engine, params):
    # November in Chicago: Nov 1 05:00 UTC (CDT) to Dec 1 06:00 UTC (CST).
    window = window_for_dates(date(2026, 11, 1), date(2026, 12, 1), ZoneInfo("America/Chicago"))
    upsert(
        engine,
        [
            resolved(1, "amy", nov(1, 4, 59)),  # Oct 31 23:59 in Chicago: outside
            resolved(2, "amy", nov(1, 5, 0)),  # the first instant of November: inside
            resolved(3, "amy", datetime(2026, 12, 1, 5, 59, tzinfo=UTC)),  # Nov 30 23:59 CST
            resolved(4, "amy", datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),  # Dec 1 00:00 CST
        ],
        params=params,
    )
    assert values_of(engine, refs=ALL_REFS, window=window)["amy"].resolved == {None: 2}


def test_reopens_count_distinct_tickets_in_the_window_and_in_scope(engine: Engine, params):
    def reopen(ticket: TicketRecord, at: datetime) -> TicketRecord:
        return replace(ticket, status="Reopened", closed=False, resolver=None,
                       resolved_at=None, updated_at=at)  # fmt: skip

    t1 = resolved(1, "bob", nov(3))
    t3 = resolved(3, "alice", datetime(2026, 10, 20, tzinfo=UTC))
    t5 = resolved(5, "bob", nov(3), board="Projects")
    t6 = resolved(6, "bob", nov(3), priority="P1")
    t7 = resolved(7, "carol", datetime(2026, 10, 1, tzinfo=UTC))
    pages = [
        [t1, resolved(2, "bob", nov(7)), t3, resolved(4, "alice", nov(7)), t5, t6, t7],
        [reopen(t1, nov(4)), reopen(t5, nov(4)), reopen(t3, datetime(2026, 10, 25, tzinfo=UTC))],
        [replace(t1, resolved_at=nov(5), updated_at=nov(5))],  # bob resolves 1 again...
        [reopen(t1, nov(6)), reopen(t6, nov(8)), reopen(t7, nov(9))],  # ...and it reopens again
    ]
    for page in pages:
        upsert(engine, page, params=params)

    with session_scope(engine) as session:
        events = standings.reopen_events(session, window=NOVEMBER)
    assert events == [
        ReopenEvent(1, nov(4), "bob", True, 0),
        ReopenEvent(5, nov(4), "bob", False, 0),
        ReopenEvent(1, nov(6), "bob", True, 0),
        ReopenEvent(6, nov(8), "bob", True, 1),
        ReopenEvent(7, nov(9), "carol", True, 0),
    ]
    refs = [
        MetricRef(METRICS_BY_KEY["reopened"]),
        MetricRef(METRICS_BY_KEY["reopened"], "emergency"),
    ]
    result = values_of(engine, refs=refs)
    assert list(result) == ["alice", "bob"]  # carol has a reopen but no resolution in November
    assert result["bob"].values == {"reopened": 2, "reopened@emergency": 1}  # 1 (twice) and 6
    assert result["alice"].values == {"reopened": 0, "reopened@emergency": 0}  # 3: in October


# --- the SQL against the plain-Python reference on generated tickets --------------------

T = TypeVar("T")
PEOPLE = ("alice", "Bob", "BOB", "carol", "dave", "erin")
CATEGORIES = (EMERGENCY, Category("phone", source=("Phone",)))


def _maybe(rng: random.Random, value: T, chance: float = 0.7) -> T | None:
    return value if rng.random() < chance else None


def generated_tickets(rng: random.Random, count: int) -> list[TicketRecord]:
    start = datetime(2026, 10, 20, tzinfo=UTC)
    tickets = []
    for i in range(1, count + 1):
        entered = start + timedelta(minutes=rng.randrange(50 * 24 * 60))
        responded = entered + timedelta(minutes=rng.randrange(24 * 60))
        resolved_at = responded + timedelta(minutes=rng.randrange(5 * 24 * 60))
        has_resolver = rng.random() < 0.7
        closed = has_resolver and rng.random() < 0.8
        tickets.append(
            TicketRecord(
                id=i,
                board=rng.choice((SD, SD, SD, "Projects")),
                status=rng.choice(("New", "In Progress", "Closed")),
                closed=closed,
                closed_at=resolved_at + timedelta(hours=20) if closed else None,
                company=_maybe(rng, rng.choice(("Acme", "Catchall", "Globex"))),
                agreement=_maybe(rng, "Gold"),
                type=_maybe(rng, "Hardware"),
                subtype=_maybe(rng, "Printer"),
                item=_maybe(rng, "Toner"),
                priority=rng.choice(("P1 - Emergency", "P2", "P3", None)),
                source=rng.choice(("Phone", "Email", None)),
                owner=_maybe(rng, rng.choice(PEOPLE)),
                entered_at=entered,
                updated_at=resolved_at,
                responded_at=_maybe(rng, responded, 0.8),
                responder=_maybe(rng, rng.choice(PEOPLE), 0.8),
                resolved_at=_maybe(rng, resolved_at, 0.9),
                resolver=rng.choice(PEOPLE) if has_resolver else None,
                sla_respond_min=_maybe(rng, float(rng.randrange(120))),
                sla_resplan_min=_maybe(rng, float(rng.randrange(120)), 0.3),
                sla_resolve_min=_maybe(rng, rng.random() * 900),
                actual_hours=round(rng.random() * 6, 2),
            )
        )
    return tickets


def reopened_versions(rng: random.Random, tickets: list[TicketRecord]) -> list[TicketRecord]:
    """Earlier versions of some open tickets, resolved by someone, so the final one reopens."""
    earlier = []
    for ticket in tickets:
        if ticket.closed or ticket.resolver is not None or rng.random() < 0.5:
            continue
        assert ticket.updated_at is not None
        at = ticket.updated_at - timedelta(hours=rng.randrange(1, 72))
        earlier.append(replace(ticket, status="Closed", closed=True, resolver=rng.choice(PEOPLE),
                               resolved_at=at, updated_at=at))  # fmt: skip
    return earlier


def generated_notes(rng: random.Random, ticket: TicketRecord) -> list[TicketNote]:
    """Up to six notes around the ticket's life: technicians' (visible or internal),
    customers', some before the entry or after the resolution, some at the same instant."""
    assert ticket.entered_at is not None
    end = (ticket.resolved_at or ticket.entered_at) + timedelta(days=2)
    span = int((end - ticket.entered_at).total_seconds() // 60) + 60
    notes = []
    for n in range(rng.randrange(7)):
        at = ticket.entered_at + timedelta(minutes=rng.randrange(span) - 60)
        if rng.random() < 0.15 and notes:
            at = notes[-1].created_at  # a tie
        customer = rng.random() < 0.35
        notes.append(
            TicketNote(
                ticket_id=ticket.id,
                created_at=at,
                member_key=None if customer else member_key(rng.choice(PEOPLE)),
                by_technician=not customer,
                id=ticket.id * 10 + n,
                by_customer=customer,
                customer_visible=rng.random() < 0.75,
            )
        )
    return notes


def with_conversation(
    derived: DerivedTicket, ticket: TicketRecord, notes: list[TicketNote], params: DeriveParams
) -> tuple[DerivedTicket, list[ReplyFact]]:
    """The reference's view of a ticket whose notes were read: metrics.conversation's values
    on the derived ticket, and its replies."""
    talk = conversation(
        notes,
        entered_at=ticket.entered_at,
        resolved_at=ticket.resolved_at,
        closed=ticket.closed,
        closed_at=ticket.closed_at,
        calendar=params.calendar,
    )
    first = None
    if derived.resolver_key is not None and ticket.resolved_at is not None:
        first = is_first_contact(notes, resolved_at=ticket.resolved_at)
    ticket_values = replace(
        derived,
        first_contact=first,
        responses=talk.responses,
        responses_to_close=talk.responses_to_close,
        followed_up=talk.followed_up,
        closed_with_notes=talk.closed_with_notes,
    )
    replies = [
        ReplyFact(
            reply.note.member_key,
            reply.note.created_at,
            reply.minutes_business,
            reply.minutes_calendar,
            derived.in_scope,
            derived.category_mask,
        )
        for reply in talk.replies
        if reply.note.member_key is not None
    ]
    return ticket_values, replies


def test_sql_and_python_reference_agree_on_every_metric(engine: Engine):
    rng = random.Random(20261101)
    params = replace(PARAMS, categories=CATEGORIES)
    bits = category_bits(CATEGORIES)
    tickets = generated_tickets(rng, 400)
    upsert(engine, reopened_versions(rng, tickets), params=params)
    upsert(engine, tickets, params=params)
    # the notes of four tickets in five were read; the rest count as notes not read
    notes = {t.id: generated_notes(rng, t) for t in tickets if rng.random() < 0.8}
    with session_scope(engine) as session:
        owed = repo.tickets_needing_notes(session, limit=1000)
        read = [repo.NotesRead(o, notes[o.ticket_id]) for o in owed if o.ticket_id in notes]
        repo.store_notes(session, read=read, calendar=params.calendar, waiting_rule=NO_WAITING)

    window = window_for_dates(date(2026, 11, 1), date(2026, 12, 1), ZoneInfo("America/Chicago"))
    working_days = PARAMS.calendar.working_days(window.start, window.end)
    everything = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    with session_scope(engine) as session:
        events = standings.reopen_events(session, window=everything)
    assert len(events) > 20
    derived: list[DerivedTicket] = []
    replies: list[ReplyFact] = []
    for ticket in tickets:
        plain = derive(ticket, params=params)
        if ticket.id not in notes:
            derived.append(plain)
            continue
        ticket_values, ticket_replies = with_conversation(plain, ticket, notes[ticket.id], params)
        derived.append(ticket_values)
        replies.extend(ticket_replies)
    assert len(replies) > 100
    assert sum(1 for d in derived if d.followed_up) > 5
    every = ALL_REFS + [MetricRef(m, c.name) for m in METRICS for c in CATEGORIES]
    # without a response metric the responders are only looked for (one seek per member)
    unanswered = [r for r in every if r.metric.population is not Population.RESPONDED]
    excluded = frozenset({"Dave"})
    # a year too: on PostgreSQL a window longer than a quarter is read by one scan
    year = window_for_dates(date(2026, 1, 1), date(2027, 1, 1), ZoneInfo("America/Chicago"))
    year_days = PARAMS.calendar.working_days(year.start, year.end)
    windows = ((window, working_days), (year, year_days))
    for basis, refs, (window, working_days) in itertools.product(
        TimeBasis, (every, unanswered), windows
    ):
        with session_scope(engine) as session:
            from_sql = standings.member_values(
                session,
                window=window,
                refs=refs,
                basis=basis,
                working_days=working_days,
                category_bits=bits,
                excluded=excluded,
            )
        reference = evaluate.member_values(
            derived,
            window=window,
            refs=refs,
            basis=basis,
            working_days=working_days,
            category_bits=bits,
            reopen_events=events,
            replies=replies,
            excluded=excluded,
        )

        assert list(from_sql) == list(reference) == ["alice", "bob", "carol", "erin"], window
        for member, expected in reference.items():
            assert from_sql[member].resolved == expected.resolved
            for key, value in expected.values.items():
                got = from_sql[member].values[key]
                assert (got is None) == (value is None), (basis, member, key)
                if value is not None:
                    assert got is not None
                    assert math.isclose(got, value, rel_tol=1e-12), (basis, member, key)


def test_responders_name_members_only_in_scope_and_in_the_window(engine: Engine):
    # Frank answered a ticket on another board; Gina answered in October; Hank answered in
    # November on the desk's board; none of them resolved anything. Asked with or without a
    # response metric, only Hank is a member beside the resolver.
    def answered(ticket_id: int, who: str, at: datetime, board: str = SD) -> TicketRecord:
        return open_ticket(ticket_id, owner=who, board=board, responder=who, responded_at=at)

    upsert(
        engine,
        [
            resolved(1, "alice", nov(5)),
            answered(2, "frank", nov(6), board="Projects"),
            answered(3, "gina", nov(1) - timedelta(days=3)),
            answered(4, "hank", nov(7)),
        ],
        params=PARAMS,
    )
    resolved_only = [MetricRef(METRICS_BY_KEY["resolved"])]
    with_responses = [*resolved_only, MetricRef(METRICS_BY_KEY["avg_response_minutes"])]
    for refs in (resolved_only, with_responses):
        members = values_of(engine, refs=refs)
        assert list(members) == ["alice", "hank"], refs
        assert members["hank"].values["resolved"] == 0

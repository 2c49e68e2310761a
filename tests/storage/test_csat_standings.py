"""The customer-satisfaction metrics (docs/metrics.md, "Customer satisfaction") as SQL
aggregates, against hand-computed numbers and against the plain-Python reference.

Hand-computed set (window: November 2026, UTC; category emergency = priority ``P1*``):

| ticket | resolver | owner | workers      | ratings (respondent: value, rated)          |
|--------|----------|-------|--------------|---------------------------------------------|
| 1      | alice    | bob   | alice, carol | a@x: negative Nov 3, positive Nov 4 (latest) |
|        |          |       |              | b@x: neutral Nov 5                          |
| 2      | alice    | bob   | alice        | c@x: negative Nov 6 (P1: emergency)         |
| 3      | bob      | bob   | -            | d@x: positive Nov 7                         |
| 4      | alice    | -     | -            | e@x: positive Oct 31 23:59 (before the      |
|        |          |       |              | window); resolved Oct 30                    |
| 5      | alice    | -     | -            | none: resolved Nov 8, unrated               |
| 6      | alice    | -     | -            | f@x: positive Nov 9; board Projects: out of |
|        |          |       |              | scope                                       |
| 99     | not stored                      | g@x: positive Nov 9: a ticket never seen    |
| 7      | carol    | -     | -            | h@x: positive Nov 10; resolved Oct 20       |

Credit resolver, November: alice S = {1/a pos, 1/b neu, 2/c neg} → CSAT 33.3%, net 0%,
3 responses, 1 negative; R(alice) = {1, 2, 5} (4 was resolved Oct 30, 6 is out of
scope), of which 1 and 2 are rated → response rate 66.7%. bob S = {3 pos} → 100%, net
100. carol S = {7 pos}: a member by her rating alone (she resolved nothing in November),
response rate null.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from metrics import evaluate
from metrics.categories import category_bits
from metrics.definitions import METRICS, MetricRef, TimeBasis
from metrics.derive import derive
from metrics.ratings import (
    Credit,
    RatedTicket,
    Rating,
    RatingSource,
    RatingValue,
    credit_ratings,
)
from metrics.windows import Window, window_for_dates
from storage import ratings as rating_store
from storage import standings
from storage.db import session_scope
from tests.storage.helpers import nov, upsert
from tests.storage.test_standings import (
    CATEGORIES,
    PARAMS,
    generated_tickets,
    resolved,
)

NOVEMBER = Window(nov(1, 0), nov(30, 0) + timedelta(days=1))
CSAT = [MetricRef(m) for m in METRICS if m.key.startswith(("csat", "net_csat"))]
BITS = {"emergency": 1}
POS, NEU, NEG = RatingValue.POSITIVE, RatingValue.NEUTRAL, RatingValue.NEGATIVE


def rating(ticket: int, who: str, value: RatingValue, at: datetime) -> Rating:
    return Rating(ticket, who, value, at, RatingSource.IMPORT)


def store(engine: Engine, items: list[Rating]) -> None:
    with session_scope(engine) as session:
        rating_store.upsert_ratings(session, ratings=items, now=nov(30))


@pytest.fixture
def hand_set(engine: Engine) -> Engine:
    tickets = [
        resolved(1, "alice", nov(2), owner="bob"),
        resolved(2, "alice", nov(3), owner="bob", priority="P1 - Emergency"),
        resolved(3, "bob", nov(4), owner="bob"),
        resolved(4, "alice", datetime(2026, 10, 30, 12, tzinfo=UTC)),
        resolved(5, "alice", nov(8)),
        resolved(6, "alice", nov(6), board="Projects"),
        resolved(7, "carol", datetime(2026, 10, 20, 12, tzinfo=UTC)),
    ]
    upsert(engine, tickets, params=PARAMS)
    store(
        engine,
        [
            rating(1, "a@x", NEG, nov(3)),
            rating(1, "b@x", NEU, nov(5)),
            rating(2, "c@x", NEG, nov(6)),
            rating(3, "d@x", POS, nov(7)),
            rating(4, "e@x", POS, datetime(2026, 10, 31, 23, 59, tzinfo=UTC)),
            rating(6, "f@x", POS, nov(9)),
            rating(99, "g@x", POS, nov(9)),
            rating(7, "h@x", POS, nov(10)),
        ],
    )
    store(engine, [rating(1, "a@x", POS, nov(4))])  # a changed mind: latest wins
    with session_scope(engine) as session:
        rating_store.set_ticket_workers(session, ticket_id=1, member_keys=["alice", "carol"])
        rating_store.set_ticket_workers(session, ticket_id=2, member_keys=["alice"])
    return engine


def values(engine: Engine, credit: Credit, refs: list[MetricRef] = CSAT):
    with session_scope(engine) as session:
        return standings.member_values(
            session,
            window=NOVEMBER,
            refs=refs,
            basis=TimeBasis.CALENDAR,
            working_days=20,
            category_bits=BITS,
            credit=credit,
        )


def test_csat_by_resolver_hand_computed(hand_set: Engine):
    got = values(hand_set, Credit.RESOLVER)
    assert list(got) == ["alice", "bob", "carol"]
    alice = got["alice"].values
    assert alice["csat_pct"] == pytest.approx(100 / 3)
    assert alice["net_csat"] == 0.0
    assert alice["csat_responses"] == 3
    assert alice["csat_negative"] == 1
    assert alice["csat_response_rate"] == pytest.approx(200 / 3)  # 1 and 2 of {1, 2, 5}
    assert got["alice"].rated == {None: 3}
    assert got["bob"].values["csat_pct"] == 100.0
    assert got["bob"].values["net_csat"] == 100.0
    assert got["bob"].values["csat_response_rate"] == 100.0
    carol = got["carol"]
    assert carol.values["csat_responses"] == 1
    assert carol.resolved == {None: 0}
    assert carol.values["csat_response_rate"] is None


def test_csat_by_owner_and_by_who_worked(hand_set: Engine):
    by_owner = values(hand_set, Credit.OWNER)
    # bob owns 1, 2, 3: pos(1/a), neu(1/b), neg(2/c), pos(3/d)
    assert by_owner["bob"].values["csat_responses"] == 4
    assert by_owner["bob"].values["net_csat"] == pytest.approx(25.0)
    assert by_owner["alice"].values["csat_responses"] == 0
    assert by_owner["alice"].values["csat_pct"] is None  # no ratings: null, never 0
    worked = values(hand_set, Credit.WORKED)
    # alice worked 1 and 2 (3 ratings), carol worked 1 (2 ratings); nobody logged time on 3
    assert worked["alice"].values["csat_responses"] == 3
    assert worked["carol"].values["csat_responses"] == 2
    assert worked["carol"].values["csat_pct"] == 50.0
    assert worked["bob"].values["csat_responses"] == 0


def test_csat_in_a_category(hand_set: Engine):
    refs = [MetricRef(m, "emergency") for m in METRICS if m.key.startswith("csat")]
    got = values(hand_set, Credit.RESOLVER, refs)
    assert got["alice"].values["csat_responses@emergency"] == 1
    assert got["alice"].values["csat_negative@emergency"] == 1
    assert got["alice"].values["csat_pct@emergency"] == 0.0
    assert got["alice"].rated == {None: 3, "emergency": 1}


def test_ratings_make_members_only_when_a_ratings_metric_is_asked(hand_set: Engine):
    refs = [MetricRef(m) for m in METRICS if m.key == "resolved"]
    assert list(values(hand_set, Credit.RESOLVER, refs)) == ["alice", "bob"]


@pytest.mark.parametrize("credit", list(Credit))
def test_sql_and_python_reference_agree_on_the_csat_metrics(engine: Engine, credit: Credit):
    rng = random.Random(20261203)
    params = replace(PARAMS, categories=CATEGORIES)
    bits = category_bits(CATEGORIES)
    tickets = generated_tickets(rng, 300)
    upsert(engine, tickets, params=params)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    answers = [
        rating(
            rng.randrange(1, 320),  # some tickets Deskboard never stored
            rng.choice(("a@x", "b@x", "contact:7", "link")),
            rng.choice(list(RatingValue)),
            start + timedelta(minutes=rng.randrange(60 * 24 * 60)),
        )
        for _ in range(700)
    ]
    for chunk in range(0, len(answers), 100):  # in pages, out of order: latest still wins
        store(engine, answers[chunk : chunk + 100])
    workers = {
        t.id: sorted(rng.sample(("alice", "bob", "carol"), rng.randrange(3))) for t in tickets
    }
    with session_scope(engine) as session:
        for ticket_id, keys in workers.items():
            rating_store.set_ticket_workers(session, ticket_id=ticket_id, member_keys=keys)
    derived = [derive(t, params=params) for t in tickets]
    rated_tickets = {
        t.id: RatedTicket(t.resolver_key, t.owner_key, t.in_scope, t.category_mask) for t in derived
    }
    credited = credit_ratings(answers, tickets=rated_tickets, credit=credit, workers=workers)
    window = window_for_dates(date(2026, 11, 1), date(2026, 12, 1), ZoneInfo("America/Chicago"))
    refs = CSAT + [MetricRef(m, c.name) for m in (r.metric for r in CSAT) for c in CATEGORIES]
    with session_scope(engine) as session:
        from_sql = standings.member_values(
            session,
            window=window,
            refs=refs,
            basis=TimeBasis.BUSINESS,
            working_days=21,
            category_bits=bits,
            credit=credit,
        )
    reference = evaluate.member_values(
        derived,
        window=window,
        refs=refs,
        basis=TimeBasis.BUSINESS,
        working_days=21,
        category_bits=bits,
        ratings=credited,
        rated_tickets=frozenset(a.ticket_id for a in answers),
    )
    assert list(from_sql) == list(reference)
    assert sum(m.rated.get(None, 0) for m in reference.values()) > 50
    for member, expected in reference.items():
        assert from_sql[member].rated == expected.rated, member
        assert from_sql[member].resolved == expected.resolved, member
        for key, value in expected.values.items():
            got = from_sql[member].values[key]
            assert (got is None) == (value is None), (member, key)
            if value is not None:
                assert got is not None
                assert math.isclose(got, value, rel_tol=1e-12), (member, key)


def test_the_hand_set_table_holds_the_latest_answer_only(hand_set: Engine):
    with session_scope(hand_set) as session:
        held = rating_store.get_rating(session, ticket_id=1, respondent="a@x")
        assert held is not None
        assert held.rating.value is POS
        assert held.previous is NEG
        assert rating_store.count_ratings(session) == 8

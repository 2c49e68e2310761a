"""The day totals (``storage.rollups``): what every write marks, and standings read from the
totals equal to the plain-Python reference after reopens, late changes and configuration
changes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlmodel import Session

from metrics import evaluate
from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.categories import Category, category_bits
from metrics.definitions import METRICS, MetricRef, Population, TimeBasis
from metrics.derive import DerivedTicket, DeriveParams, derive
from metrics.notes import TicketNote
from metrics.ratings import Rating, RatingSource, RatingValue
from metrics.records import TicketRecord
from metrics.values import MemberValues, ReplyFact
from metrics.windows import Window, window_for_dates
from storage import repo, rollups, standings
from storage.db import session_scope
from storage.ratings import upsert_ratings
from storage.tables import MEMBER_DAYS, ROLLUP_DIRTY
from tests.storage.helpers import NO_WAITING, nov, upsert
from tests.storage.test_standings import (
    CATEGORIES,
    PARAMS,
    SD,
    generated_notes,
    generated_tickets,
    reopened_versions,
    resolved,
    with_conversation,
)

CHICAGO = ZoneInfo("America/Chicago")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: local midnights on the half hour


def _windows(tz: ZoneInfo) -> list[Window]:
    return [
        window_for_dates(date(2026, 11, 1), date(2026, 12, 1), tz),  # across the DST change
        window_for_dates(date(2026, 1, 1), date(2027, 1, 1), tz),
        window_for_dates(date(2026, 11, 2), date(2026, 11, 3), tz),  # one day
        window_for_dates(date(2026, 10, 26), date(2026, 11, 9), tz),
    ]


class Desk:
    """Generated tickets and notes stored as the sync stores them, and the reference's view."""

    def __init__(self, engine: Engine, seed: int, params: DeriveParams) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.params = params
        tickets = generated_tickets(self.rng, 300)
        upsert(engine, reopened_versions(self.rng, tickets), params=params)
        self.tickets = {t.id: t for t in tickets}
        self.rated: set[int] = set()
        self.notes = {
            t.id: generated_notes(self.rng, t) for t in tickets if self.rng.random() < 0.8
        }
        self.store(tickets)

    def store(self, records: list[TicketRecord]) -> None:
        upsert(self.engine, records, params=self.params)
        self.tickets.update((t.id, t) for t in records)
        self.read_notes()

    def read_notes(self) -> None:
        with session_scope(self.engine) as session:
            owed = repo.tickets_needing_notes(session, limit=10_000)
            notes = self.notes
            read = [repo.NotesRead(o, notes[o.ticket_id]) for o in owed if o.ticket_id in notes]
            repo.store_notes(
                session, read=read, calendar=self.params.calendar, waiting_rule=NO_WAITING
            )

    def rate(self, ticket_ids: list[int]) -> None:
        """A customer's rating of each ticket, arriving now."""
        ratings = [
            Rating(i, f"customer{i}@example.com", RatingValue.POSITIVE, nov(25), RatingSource.LINK)
            for i in ticket_ids
        ]
        with session_scope(self.engine) as session:
            upsert_ratings(session, ratings=ratings, now=nov(25))
        self.rated.update(ticket_ids)

    def configure(self, params: DeriveParams) -> None:
        """New categories or business hours: every ticket derived again, as a reader does."""
        self.params = params
        with session_scope(self.engine) as session:
            repo.rederive_all(session, params=params, waiting_rule=NO_WAITING)

    def reference(self, window: Window, refs: list[MetricRef], basis: TimeBasis) -> dict:
        derived: list[DerivedTicket] = []
        replies: list[ReplyFact] = []
        for ticket in self.tickets.values():
            plain = derive(ticket, params=self.params)
            notes: list[TicketNote] | None = self.notes.get(ticket.id)
            if notes is None:
                derived.append(plain)
                continue
            values, ticket_replies = with_conversation(plain, ticket, notes, self.params)
            derived.append(values)
            replies.extend(ticket_replies)
        everything = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        with session_scope(self.engine) as session:
            events = standings.reopen_events(session, window=everything)
        return evaluate.member_values(
            derived,
            window=window,
            refs=refs,
            basis=basis,
            working_days=self.params.calendar.working_days(window.start, window.end),
            category_bits=category_bits(self.params.categories),
            reopen_events=events,
            rated_tickets=frozenset(self.rated),
            replies=replies,
        )

    def from_sql(
        self, window: Window, refs: list[MetricRef], basis: TimeBasis, *, day_totals: bool
    ) -> tuple[dict[str, MemberValues], bool]:
        """The standings from the database, and whether the day totals answered them."""
        with session_scope(self.engine) as session:
            used = day_totals and rollups.usable_days(session, window) is not None
            values = standings.member_values(
                session,
                window=window,
                refs=refs,
                basis=basis,
                working_days=self.params.calendar.working_days(window.start, window.end),
                category_bits=category_bits(self.params.categories),
                day_totals=day_totals,
            )
        return values, used

    def check(self, tz: ZoneInfo, *, expect_totals: bool = True) -> None:
        # the ratings' own metrics read the ratings, never the totals (tests/storage/
        # test_csat_standings.py); whether a resolved ticket was rated is counted by day
        counted = [m for m in METRICS if m.population is not Population.RATED]
        refs = [MetricRef(m) for m in counted] + [
            MetricRef(m, c.name) for m in counted for c in self.params.categories
        ]
        for window in _windows(tz):
            for basis in TimeBasis:
                reference = self.reference(window, refs, basis)
                for day_totals in (True, False):
                    got, used = self.from_sql(window, refs, basis, day_totals=day_totals)
                    assert used == (day_totals and expect_totals), (window, basis)
                    _assert_same(got, reference, (window.label(), basis, day_totals))


def _assert_same(got: dict[str, MemberValues], reference: dict, where: object) -> None:
    assert list(got) == list(reference), where
    for member, expected in reference.items():
        assert got[member].resolved == expected.resolved, (where, member)
        assert got[member].rated == expected.rated, (where, member)
        for key, value in expected.values.items():
            mine = got[member].values[key]
            assert (mine is None) == (value is None), (where, member, key, mine, value)
            if value is not None:
                assert mine is not None
                assert math.isclose(mine, value, rel_tol=1e-12), (where, member, key)


def test_day_totals_equal_the_reference_through_reopens_late_changes_and_new_settings(
    engine: Engine,
):
    desk = Desk(engine, 20261204, replace(PARAMS, categories=CATEGORIES))
    desk.rate([t.id for t in list(desk.tickets.values())[::4]])
    desk.check(CHICAGO, expect_totals=False)  # never built: the tickets answer
    rollups.refresh(engine, tz=CHICAGO)
    with session_scope(engine) as session:
        assert session.execute(select(MEMBER_DAYS)).first() is not None
    desk.check(CHICAGO)

    # Reopens: a third of the resolved tickets open again, unresolved.
    rng = desk.rng
    done = [t for t in desk.tickets.values() if t.resolved_at is not None and t.resolver]
    reopened = [
        replace(t, status="In Progress", closed=False, closed_at=None, resolver=None,
                resolved_at=None, updated_at=(t.updated_at or nov(1)) + timedelta(hours=1))
        for t in rng.sample(done, len(done) // 3)
    ]  # fmt: skip
    desk.store(reopened)
    desk.check(CHICAGO, expect_totals=False)  # dates wait for a refresh: the tickets answer
    rollups.refresh(engine, tz=CHICAGO)
    desk.check(CHICAGO)

    # Late changes: resolutions moved days back or forward, resolved by someone else,
    # categorized after the fact, moved to another board (out of scope) and back.
    changed = []
    for ticket in rng.sample(list(desk.tickets.values()), 90):
        moved = (ticket.resolved_at or nov(10)) + timedelta(days=rng.choice((-40, -3, 2, 9)))
        changed.append(
            replace(
                ticket,
                resolved_at=moved if ticket.resolver else ticket.resolved_at,
                resolver=rng.choice(("alice", "carol", "erin", ticket.resolver)),
                type=rng.choice(("Network", None, ticket.type)),
                board=rng.choice((SD, SD, "Projects")),
                updated_at=(ticket.updated_at or nov(1)) + timedelta(hours=2),
            )
        )
    desk.store(changed)
    rollups.refresh(engine, tz=CHICAGO)
    desk.check(CHICAGO)
    desk.rate([t.id for t in list(desk.tickets.values())[1::5]])  # ratings arriving late
    desk.check(CHICAGO, expect_totals=False)
    rollups.refresh(engine, tz=CHICAGO)
    desk.check(CHICAGO)

    # New categories, then new business hours: every ticket derived again.
    desk.configure(
        replace(desk.params, categories=(*CATEGORIES, Category("email", source=("Email",))))
    )
    rollups.refresh(engine, tz=CHICAGO)
    desk.check(CHICAGO)
    hours = BusinessHours(timezone="America/New_York", start=time(7), end=time(19))
    desk.configure(replace(desk.params, calendar=BusinessCalendar(hours)))
    rollups.refresh(engine, tz=CHICAGO)
    desk.check(CHICAGO)

    # Another time zone: built again for its local days; Chicago's windows read the tickets.
    rollups.refresh(engine, tz=KOLKATA)
    desk.check(KOLKATA)
    desk.check(CHICAGO, expect_totals=False)


def _marked(engine: Engine) -> set[date]:
    with Session(engine) as session:
        return set(session.execute(select(ROLLUP_DIRTY.c.day)).scalars())


def test_every_write_marks_the_dates_it_touches_and_nothing_else(engine: Engine):
    rollups.refresh(engine, tz=CHICAGO)  # an empty database: built, nothing marked
    assert _marked(engine) == set()
    ticket = resolved(1, "alice", nov(5, 23, 30), responder="alice", responded_at=nov(4, 1))
    upsert(engine, [ticket], params=PARAMS)
    assert _marked(engine) == {date(2026, 11, 5), date(2026, 11, 4)}
    rollups.refresh(engine, tz=CHICAGO)
    assert _marked(engine) == set()

    upsert(engine, [replace(ticket, summary="Printer on fire", updated_at=nov(6))], params=PARAMS)
    assert _marked(engine) == set()  # nothing the totals read changed

    ticket = replace(ticket, resolved_at=nov(9), updated_at=nov(9))
    upsert(engine, [ticket], params=PARAMS)
    # old and new resolution dates; the response's totals read nothing that changed
    assert _marked(engine) == {date(2026, 11, 5), date(2026, 11, 9)}
    rollups.refresh(engine, tz=CHICAGO)
    upsert(engine, [replace(ticket, responded_at=nov(2, 7), updated_at=nov(10))], params=PARAMS)
    # old and new response dates, and the resolution's (its ticket's response time changed)
    assert _marked(engine) == {date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 9)}
    rollups.refresh(engine, tz=CHICAGO)

    upsert(engine, [resolved(2, "bob", nov(12), board="Projects")], params=PARAMS)
    assert _marked(engine) == set()  # out of scope

    note = TicketNote(
        ticket_id=1, created_at=nov(3, 15), member_key="alice", by_technician=True, id=11,
        customer_visible=True,
    )  # fmt: skip
    question = TicketNote(
        ticket_id=1, created_at=nov(3, 14), member_key=None, by_technician=False, id=10,
        by_customer=True, customer_visible=True,
    )  # fmt: skip
    with session_scope(engine) as session:
        owed = [o for o in repo.tickets_needing_notes(session, limit=10) if o.ticket_id == 1]
        repo.store_notes(
            session,
            read=[repo.NotesRead(owed[0], [question, note])],
            calendar=PARAMS.calendar,
            waiting_rule=NO_WAITING,
        )
    # the reply's date, and the resolution's: its ticket's responses were counted
    assert _marked(engine) == {date(2026, 11, 3), date(2026, 11, 9)}
    rollups.refresh(engine, tz=CHICAGO)

    ticket = replace(ticket, board="Projects", updated_at=nov(11))
    upsert(engine, [ticket], params=PARAMS)  # out of scope: every date it counted on
    assert _marked(engine) == {date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 9)}
    rollups.refresh(engine, tz=CHICAGO)
    upsert(engine, [replace(ticket, summary="Moved", updated_at=nov(12))], params=PARAMS)
    assert _marked(engine) == set()  # out of scope before and after

    with session_scope(engine) as session:  # new settings: built again at the next refresh
        repo.rederive_all(session, params=PARAMS, waiting_rule=NO_WAITING)
    with session_scope(engine) as session:
        assert rollups.usable_days(session, _windows(CHICAGO)[0]) is None


def test_a_window_of_whole_local_days_is_read_from_the_totals_and_no_other():
    assert rollups.whole_days(window_for_dates(date(2026, 11, 1), date(2026, 12, 1), CHICAGO)) == (
        CHICAGO,
        date(2026, 11, 1).toordinal(),
        date(2026, 12, 1).toordinal(),
    )
    noon = datetime(2026, 11, 2, 12, tzinfo=CHICAGO)
    assert rollups.whole_days(Window(noon, noon + timedelta(days=1))) is None
    assert rollups.whole_days(Window(nov(1, 0), nov(2, 0))) is None  # UTC is no named zone

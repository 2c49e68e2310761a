"""The note sync's store: which tickets' notes are owed, the note rows (never the text) and
the values decided from them, kept across re-derivations, owed again after any change, and
never stored over a ticket that changed while its notes were being read."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from sqlalchemy import Engine, select

from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.derive import DeriveParams
from metrics.notes import TicketNote
from metrics.records import TicketRecord
from storage import repo
from storage.db import session_scope
from storage.tables import TICKET_NOTES
from tests.storage.helpers import NO_WAITING, derived_row, nov, upsert

OPEN = TicketRecord(
    id=101,
    board="Service Desk",
    status="In Progress",
    company="Acme",
    entered_at=nov(2, 15),
    updated_at=nov(2, 16),
    responder="JSmith",
    responded_at=nov(2, 16),
)
RESOLVED = replace(
    OPEN, status=">Resolved", resolver="JSmith", resolved_at=nov(3, 16), updated_at=nov(3, 16)
)


def note(at, *, by="jsmith", visible=True, customer=False, note_id=None) -> TicketNote:
    return TicketNote(
        ticket_id=101,
        created_at=at,
        member_key=None if customer else by,
        by_technician=not customer,
        id=note_id,
        by_customer=customer,
        customer_visible=visible,
    )


# Entered Monday 2 Nov 15:00 UTC (09:00 Chicago); answered at 16:00, the customer writes
# back at 17:00 and is answered at 19:00; an internal note; resolved on the 3rd at 16:00.
CONVERSATION = [
    note(nov(2, 16), note_id=1),
    note(nov(2, 17), customer=True, note_id=2),
    note(nov(2, 18), visible=False, note_id=3),
    note(nov(2, 19), note_id=4),
    note(nov(3, 16), note_id=5),
]


def owed(engine: Engine, limit: int = 100) -> list[tuple[int, object]]:
    with session_scope(engine) as session:
        found = repo.tickets_needing_notes(session, limit=limit)
    return [(o.ticket_id, o.updated_at) for o in found]


def store(engine: Engine, params: DeriveParams, read: dict[int, list[TicketNote] | None]) -> int:
    with session_scope(engine) as session:
        listed = {o.ticket_id: o for o in repo.tickets_needing_notes(session, limit=1000)}
        return repo.store_notes(
            session,
            read=[repo.NotesRead(listed[i], notes) for i, notes in read.items()],
            calendar=params.calendar,
            waiting_rule=NO_WAITING,
        )


def values(engine: Engine, ticket_id: int = 101) -> dict[str, object]:
    row = derived_row(engine, ticket_id)
    names = ("notes_read", "first_contact", "responses", "responses_to_close", "followed_up")
    return {name: row[name] for name in (*names, "closed_with_notes")}


def reply_rows(engine: Engine) -> list[tuple[object, ...]]:
    c = TICKET_NOTES.c
    query = select(c.note_id, c.reply_since, c.reply_min_business, c.reply_min_calendar)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(c.created_at))]


def test_a_new_ticket_is_owed_its_notes_and_reading_them_stores_rows_and_values(engine, params):
    upsert(engine, [RESOLVED], params=params)
    assert owed(engine) == [(101, nov(3, 16))]
    assert values(engine)["notes_read"] is False

    assert store(engine, params, {101: CONVERSATION}) == 1
    assert owed(engine) == []
    assert values(engine) == {
        "notes_read": True,
        "first_contact": False,  # four technician notes before the resolution
        "responses": 4,  # the customer's message and three responses
        "responses_to_close": 3,
        "followed_up": None,  # not closed
        "closed_with_notes": False,
    }
    # 60 business minutes (09:00 -> 10:00 Chicago), then 120 (11:00 -> 13:00)
    assert reply_rows(engine) == [
        (1, nov(2, 15), 60.0, 60.0),
        (2, None, None, None),
        (3, None, None, None),
        (4, nov(2, 17), 120.0, 120.0),
        (5, None, None, None),  # nothing unanswered before it: not a reply
    ]
    with session_scope(engine) as session:
        kept = repo.stored_notes(session, ticket_id=101)
    assert [(n.id, n.by_customer, n.customer_visible) for n in kept] == [
        (1, False, True),
        (2, True, True),
        (3, False, False),
        (4, False, True),
        (5, False, True),
    ]
    assert "text" not in TICKET_NOTES.c  # only who, when and how: never what


def test_any_change_makes_the_notes_owed_again_and_reading_replaces_the_rows(engine, params):
    upsert(engine, [RESOLVED], params=params)
    store(engine, params, {101: CONVERSATION})
    assert upsert(engine, [RESOLVED], params=params).unchanged == 1
    assert owed(engine) == []

    closed = replace(
        RESOLVED, status=">Closed", closed=True, closed_at=nov(5, 10), updated_at=nov(5, 10)
    )
    upsert(engine, [closed], params=params)
    assert owed(engine) == [(101, nov(5, 10))]
    # the resolution did not change: first contact stays decided; the rest waits for the read
    assert values(engine) == {
        "notes_read": False,
        "first_contact": False,
        "responses": None,
        "responses_to_close": None,
        "followed_up": None,
        "closed_with_notes": False,
    }
    follow_up = note(nov(4, 15), note_id=6)  # after the resolution, before the close
    store(engine, params, {101: [*CONVERSATION, follow_up]})
    assert values(engine)["followed_up"] is True
    assert values(engine)["closed_with_notes"] is True
    assert [row[0] for row in reply_rows(engine)] == [1, 2, 3, 4, 5, 6]


def test_a_ticket_changed_while_its_notes_were_read_stays_owed(engine, params):
    upsert(engine, [RESOLVED], params=params)
    with session_scope(engine) as session:
        listed = repo.tickets_needing_notes(session, limit=10)
    edited = replace(RESOLVED, summary="edited meanwhile", updated_at=nov(3, 17))
    upsert(engine, [edited], params=params)  # a push, while the notes were being read
    with session_scope(engine) as session:
        read = [repo.NotesRead(listed[0], CONVERSATION)]
        stored = repo.store_notes(
            session, read=read, calendar=params.calendar, waiting_rule=NO_WAITING
        )
    assert stored == 0
    assert owed(engine) == [(101, nov(3, 17))]
    assert values(engine)["responses"] is None


def test_re_deriving_keeps_the_values_and_works_the_reply_minutes_out_again(engine, params):
    upsert(engine, [RESOLVED], params=params)
    store(engine, params, {101: CONVERSATION})
    # the business day now starts at 09:30 Chicago: the first reply took 30 business minutes
    later = BusinessHours(timezone="America/Chicago", start=time(9, 30), end=time(17, 0))
    moved = replace(params, calendar=BusinessCalendar(later))
    with session_scope(engine) as session:
        assert repo.rederive_all(session, params=moved, waiting_rule=NO_WAITING) == 1
    assert values(engine)["notes_read"] is True
    assert values(engine)["responses"] == 4
    assert values(engine)["first_contact"] is False
    assert reply_rows(engine)[0] == (1, nov(2, 15), 30.0, 60.0)
    assert reply_rows(engine)[3] == (4, nov(2, 17), 120.0, 120.0)


def test_a_reopen_resets_first_contact_and_a_gone_ticket_is_read_for_good(engine, params):
    upsert(engine, [RESOLVED], params=params)
    store(engine, params, {101: CONVERSATION})
    reopened = replace(OPEN, status="Re-opened", updated_at=nov(4, 9))
    upsert(engine, [reopened], params=params)
    assert values(engine)["first_contact"] is None
    assert owed(engine) == [(101, nov(4, 9))]

    store(engine, params, {101: None})  # ConnectWise answered 404: deleted
    assert owed(engine) == []
    assert values(engine) == {
        "notes_read": True,
        "first_contact": None,  # not resolved: nothing to decide
        "responses": None,
        "responses_to_close": None,
        "followed_up": None,
        "closed_with_notes": False,
    }
    assert reply_rows(engine) == []


def test_the_notes_owed_are_in_scope_tickets_most_recently_updated_first(engine, params):
    tickets = [
        replace(RESOLVED, id=1, updated_at=nov(3, 9)),
        replace(RESOLVED, id=2, updated_at=nov(5, 9)),
        replace(RESOLVED, id=3, updated_at=nov(5, 9)),  # same instant as 2: higher id first
        replace(OPEN, id=4, updated_at=nov(4, 9)),  # open tickets have replies too
        replace(RESOLVED, id=5, board="Alerts"),  # out of scope
        replace(RESOLVED, id=9, updated_at=nov(6, 9)),  # read below
    ]
    upsert(engine, tickets, params=params)
    store(engine, params, {9: []})

    assert owed(engine) == [(3, nov(5, 9)), (2, nov(5, 9)), (4, nov(4, 9)), (1, nov(3, 9))]
    assert owed(engine, limit=2) == [(3, nov(5, 9)), (2, nov(5, 9))]
    with session_scope(engine) as session:
        assert repo.count_tickets_needing_notes(session) == 4
        with pytest.raises(ValueError, match="limit must be at least 1"):
            repo.tickets_needing_notes(session, limit=0)

"""first_contact in the store: written only by the note sync, kept across upserts that leave
the resolution alone, reset to NULL when the resolution changes; and the notes still owed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from metrics.records import TicketRecord
from storage import repo
from storage.db import session_scope
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


def first_contact(engine: Engine, ticket_id: int = 101) -> bool | None:
    return derived_row(engine, ticket_id)["first_contact"]  # type: ignore[return-value]


def set_values(engine: Engine, values: dict[int, bool]) -> None:
    with session_scope(engine) as session:
        repo.set_first_contact(session, values=values)


def needing_notes(engine: Engine, limit: int = 100) -> list[tuple[int, object]]:
    with session_scope(engine) as session:
        return repo.tickets_needing_notes(session, limit=limit)


def test_a_new_resolved_ticket_starts_without_note_data(engine, params):
    upsert(engine, [RESOLVED], params=params)
    assert first_contact(engine) is None
    assert needing_notes(engine) == [(101, nov(3, 16))]

    set_values(engine, {101: True})
    assert first_contact(engine) is True
    assert needing_notes(engine) == []


def test_upserts_that_keep_the_resolution_keep_first_contact(engine, params):
    upsert(engine, [RESOLVED], params=params)
    set_values(engine, {101: True})

    again = upsert(engine, [RESOLVED], params=params)  # unchanged
    assert again.unchanged == 1
    assert first_contact(engine) is True

    # changed, still resolved at the same time: closed two days later, summary edited
    closed = replace(
        RESOLVED, status=">Closed", closed=True, summary="printer fixed", updated_at=nov(5, 10)
    )
    changed = upsert(engine, [closed], params=params)
    assert changed.updated == 1
    assert first_contact(engine) is True
    assert needing_notes(engine) == []


def test_re_deriving_keeps_first_contact(engine, params):
    upsert(engine, [RESOLVED], params=params)
    set_values(engine, {101: False})
    with session_scope(engine) as session:
        assert repo.rederive_all(session, params=params, waiting_rule=NO_WAITING) == 1
    assert first_contact(engine) is False


def test_reopening_and_resolving_again_reset_it_to_null(engine, params):
    upsert(engine, [RESOLVED], params=params)
    set_values(engine, {101: True})

    # a reopen clears dateResolved and resolvedBy, as ConnectWise does
    reopened = replace(OPEN, status="Re-opened", updated_at=nov(4, 9))
    assert upsert(engine, [reopened], params=params).reopened == [101]
    assert first_contact(engine) is None
    assert needing_notes(engine) == []  # not resolved: nothing to judge yet

    set_values(engine, {101: False})  # as if judged meanwhile: must not survive a new resolution
    again = replace(RESOLVED, resolved_at=nov(4, 11), updated_at=nov(4, 11))
    assert upsert(engine, [again], params=params).newly_resolved == [101]
    assert first_contact(engine) is None
    assert needing_notes(engine) == [(101, nov(4, 11))]


def test_a_resolution_that_moved_between_two_syncs_resets_it(engine, params):
    # reopened and resolved again between two syncs: never seen open, but the resolution
    # time moved, so the notes must be judged again against the new one
    upsert(engine, [RESOLVED], params=params)
    set_values(engine, {101: True})
    later = replace(RESOLVED, resolved_at=nov(5, 9), updated_at=nov(5, 9))
    result = upsert(engine, [later], params=params)
    assert (result.reopened, result.newly_resolved) == ([], [])
    assert first_contact(engine) is None


def test_the_notes_owed_are_resolved_in_scope_tickets_newest_first(engine, params):
    tickets = [
        replace(RESOLVED, id=1, resolved_at=nov(3, 9)),
        replace(RESOLVED, id=2, resolved_at=nov(5, 9)),
        replace(RESOLVED, id=3, resolved_at=nov(5, 9)),  # same instant as 2: higher id first
        replace(RESOLVED, id=4, resolved_at=nov(4, 9)),
        replace(RESOLVED, id=5, board="Alerts"),  # out of scope
        replace(RESOLVED, id=6, resolver=None),  # resolved_at without a resolver: no R(m)
        replace(RESOLVED, id=7, status=">Closed", closed=True, resolved_at=None),  # no time
        replace(OPEN, id=8),  # open
        replace(RESOLVED, id=9, resolved_at=nov(6, 9)),  # already judged below
    ]
    upsert(engine, tickets, params=params)
    set_values(engine, {9: False})

    assert needing_notes(engine) == [(3, nov(5, 9)), (2, nov(5, 9)), (4, nov(4, 9)), (1, nov(3, 9))]
    assert needing_notes(engine, limit=2) == [(3, nov(5, 9)), (2, nov(5, 9))]


def test_set_first_contact_ignores_unknown_ids_and_a_bad_limit_is_refused(engine, params):
    upsert(engine, [RESOLVED], params=params)
    set_values(engine, {101: True, 999: False})
    set_values(engine, {})
    assert first_contact(engine) is True
    with pytest.raises(ValueError, match="limit must be at least 1"):
        needing_notes(engine, limit=0)

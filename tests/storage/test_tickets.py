"""Storing pages of tickets: counts, idempotence, status history, reopens and re-derivation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from metrics.records import TicketRecord
from storage import repo
from storage.db import session_scope
from storage.tickets import RECORD_FIELDS
from tests.storage.helpers import derived_row, nov, status_rows, ticket_rows, upsert

NEW = TicketRecord(
    id=101,
    board="Service Desk",
    status="New",
    company="Acme",
    agreement="Gold",
    priority="P1 - Emergency",
    owner="JSmith",
    entered_at=nov(2, 15),
    updated_at=nov(2, 15),
)
CLOSED_BY_JSMITH = replace(
    NEW,
    status="Closed",
    closed=True,
    resolver="JSmith",
    resolved_at=nov(3, 16),
    updated_at=nov(3, 16),
)


def test_counts_inserted_updated_and_unchanged(engine: Engine, params):
    first = upsert(engine, [NEW, replace(NEW, id=102)], params=params)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)

    changed = replace(NEW, summary="printer on fire", updated_at=nov(2, 16))
    second = upsert(engine, [changed, replace(NEW, id=102), replace(NEW, id=103)], params=params)
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    assert second.max_updated_at == nov(2, 16)
    with session_scope(engine) as session:
        assert repo.get_tickets(session, ids=[101]) == [changed]


def test_the_same_page_twice_changes_nothing(engine: Engine, params, rule):
    page = [NEW, replace(CLOSED_BY_JSMITH, id=102)]
    upsert(engine, page, params=params, rule=rule)
    tickets_before, history_before = ticket_rows(engine), status_rows(engine)

    again = upsert(engine, page, params=params, rule=rule)

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert (again.status_changes, again.reopened, again.newly_resolved) == (0, [], [])
    assert ticket_rows(engine) == tickets_before
    assert status_rows(engine) == history_before


def test_first_sight_and_each_status_change_are_recorded(engine: Engine, params):
    upsert(engine, [NEW], params=params)
    # a change that leaves the status alone writes no history
    upsert(engine, [replace(NEW, summary="more detail", updated_at=nov(2, 16))], params=params)
    result = upsert(
        engine, [replace(NEW, status="In Progress", updated_at=nov(2, 17))], params=params
    )

    assert result.status_changes == 1
    assert status_rows(engine) == [
        {"ticket_id": 101, "at": nov(2, 15), "from_status": None, "to_status": "New",
         "reopened": False, "resolver_key": None},
        {"ticket_id": 101, "at": nov(2, 17), "from_status": "New", "to_status": "In Progress",
         "reopened": False, "resolver_key": None},
    ]  # fmt: skip


def test_first_sight_without_last_updated_uses_the_entry_time(engine: Engine, params):
    upsert(engine, [replace(NEW, updated_at=None)], params=params)
    assert [row["at"] for row in status_rows(engine)] == [nov(2, 15)]


def test_a_reopen_is_charged_to_the_stored_resolver(engine: Engine, params):
    first = upsert(engine, [CLOSED_BY_JSMITH], params=params)
    assert first.newly_resolved == [101]

    reopened = replace(NEW, status="Reopened", updated_at=nov(4, 9))  # resolver cleared
    second = upsert(engine, [reopened], params=params)

    assert (second.reopened, second.newly_resolved) == ([101], [])
    last = status_rows(engine)[-1]
    assert last == {
        "ticket_id": 101,
        "at": nov(4, 9),
        "from_status": "Closed",
        "to_status": "Reopened",
        "reopened": True,
        "resolver_key": "jsmith",
    }
    assert derived_row(engine, 101)["is_open"] is True


def test_resolving_again_after_a_reopen_is_newly_resolved(engine: Engine, params):
    upsert(engine, [CLOSED_BY_JSMITH], params=params)
    upsert(engine, [replace(NEW, status="Reopened", updated_at=nov(4, 9))], params=params)
    closed_by_bob = replace(CLOSED_BY_JSMITH, resolver="Bob", updated_at=nov(5, 9))
    result = upsert(engine, [closed_by_bob], params=params)
    assert (result.newly_resolved, result.reopened) == ([101], [])
    assert status_rows(engine)[-1]["reopened"] is False


def test_resolved_without_closing_counts_as_resolved(engine: Engine, params):
    # dateResolved and resolvedBy set while the ticket is still open: resolved.
    resolved_open = replace(NEW, status="Resolved", resolver="amy", resolved_at=nov(3, 9))
    assert upsert(engine, [resolved_open], params=params).newly_resolved == [101]
    # a resolved date without a resolver is not a resolution
    assert (
        upsert(engine, [replace(NEW, id=102, resolved_at=nov(3))], params=params).newly_resolved
        == []
    )


def test_a_reopen_is_recorded_even_when_the_status_name_stays(engine: Engine, params):
    upsert(engine, [CLOSED_BY_JSMITH], params=params)
    same_status_open = replace(NEW, status="Closed", updated_at=nov(4, 9))
    assert upsert(engine, [same_status_open], params=params).reopened == [101]
    last = status_rows(engine)[-1]
    assert (last["from_status"], last["to_status"], last["reopened"]) == ("Closed", "Closed", True)


def test_a_page_with_one_ticket_twice_keeps_the_newest(engine: Engine, params):
    older, newer = NEW, replace(NEW, status="In Progress", updated_at=nov(2, 18))
    result = upsert(engine, [newer, older], params=params)
    assert (result.inserted, result.unchanged) == (1, 0)
    with session_scope(engine) as session:
        assert repo.get_tickets(session, ids=[101]) == [newer]


def test_an_older_version_than_the_stored_one_is_ignored(engine: Engine, params):
    upsert(engine, [CLOSED_BY_JSMITH], params=params)
    stale = replace(NEW, updated_at=nov(3, 15))  # an hour before the stored close
    result = upsert(engine, [stale], params=params)
    assert (result.updated, result.unchanged, result.reopened) == (0, 1, [])
    with session_scope(engine) as session:
        assert repo.get_tickets(session, ids=[101]) == [CLOSED_BY_JSMITH]


def test_large_pages_are_read_and_written_in_chunks(engine: Engine, params):
    # 1,201 ids span three IN-lists of 500.
    page = [replace(NEW, id=i) for i in range(1, 1202)]
    assert upsert(engine, page, params=params).inserted == 1201
    again = upsert(engine, page, params=params)
    assert (again.unchanged, again.status_changes) == (1201, 0)


def test_derived_columns_use_the_waiting_time_from_the_history(engine: Engine, params, rule):
    # Entered Fri 6 Nov 2026 16:00 CST (22:00 UTC), resolved Mon 9 Nov 13:00 CST (19:00 UTC),
    # waiting Mon 10:00-12:00 CST. Business time, 08:00-17:00: Fri 60 + Mon 300 - 120 = 240.
    entered = datetime(2026, 11, 6, 22, 0, tzinfo=UTC)
    versions = [
        replace(NEW, status="New", entered_at=entered, updated_at=entered),
        replace(NEW, status="Waiting on client", entered_at=entered, updated_at=nov(9, 16)),
        replace(NEW, status="In Progress", entered_at=entered, updated_at=nov(9, 18)),
        replace(
            CLOSED_BY_JSMITH, entered_at=entered, resolved_at=nov(9, 19), updated_at=nov(9, 19)
        ),
    ]
    for version in versions:
        upsert(engine, [version], params=params, rule=rule)
    row = derived_row(engine, 101)
    assert row["resolution_min_business"] == 240.0
    assert row["resolution_min_calendar"] == (3 * 24 - 3) * 60  # Fri 22:00 -> Mon 19:00 UTC


def test_derived_columns_are_stored(engine: Engine, params):
    upsert(engine, [CLOSED_BY_JSMITH, replace(NEW, id=102, board="Projects")], params=params)
    row = derived_row(engine, 101)
    assert {k: row[k] for k in ("in_scope", "is_open", "resolver_key", "owner_key")} == {
        "in_scope": True,
        "is_open": False,
        "resolver_key": "jsmith",
        "owner_key": "jsmith",
    }
    assert (row["catchall"], row["no_agreement"], row["category_mask"]) == (False, False, 1)
    assert row["resolution_min_calendar"] == 25 * 60  # Nov 2 15:00 -> Nov 3 16:00
    assert derived_row(engine, 102)["in_scope"] is False


def test_rederive_all_applies_new_parameters_and_records_the_fingerprint(
    engine: Engine, params, rule
):
    upsert(engine, [CLOSED_BY_JSMITH, replace(NEW, id=102, company="Globex")], params=params)
    assert [row["catchall"] for row in ticket_rows(engine)] == [False, False]
    records_before = [
        {k: v for k, v in row.items() if k in RECORD_FIELDS} for row in ticket_rows(engine)
    ]

    acme_is_catchall = replace(params, catchall_company="ACME", categories=())
    with session_scope(engine) as session:
        count = repo.rederive_all(session, params=acme_is_catchall, waiting_rule=rule, batch=1)

    assert count == 2
    rows = ticket_rows(engine)
    assert [row["catchall"] for row in rows] == [True, False]
    assert [row["category_mask"] for row in rows] == [0, 0]
    assert [{k: v for k, v in row.items() if k in RECORD_FIELDS} for row in rows] == records_before
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
    assert state.derive_fingerprint == acme_is_catchall.fingerprint != params.fingerprint


def test_rederive_all_keeps_waiting_deductions_and_takes_a_given_fingerprint(
    engine: Engine, params, rule
):
    # Waiting Mon 9 Nov 10:00-11:00 CST inside a Mon 08:00-12:00 CST resolution: 240 - 60.
    start = nov(9, 14)
    upsert(engine, [replace(NEW, entered_at=start, updated_at=start)], params=params, rule=rule)
    upsert(engine, [replace(NEW, status="Waiting", entered_at=start, updated_at=nov(9, 16))],
           params=params, rule=rule)  # fmt: skip
    upsert(engine, [replace(CLOSED_BY_JSMITH, entered_at=start, updated_at=nov(9, 17),
                            resolved_at=nov(9, 18))], params=params, rule=rule)  # fmt: skip
    assert derived_row(engine, 101)["resolution_min_business"] == 180.0

    with session_scope(engine) as session:
        repo.rederive_all(session, params=params, waiting_rule=rule, fingerprint="abc")
        assert repo.get_sync_state(session).derive_fingerprint == "abc"
    assert derived_row(engine, 101)["resolution_min_business"] == 180.0


def test_get_tickets_and_iter_tickets_give_back_the_records(engine: Engine, params):
    page = [replace(NEW, id=i, summary=f"ticket {i}") for i in (5, 3, 9, 1)]
    upsert(engine, page, params=params)
    with session_scope(engine) as session:
        assert repo.count_tickets(session) == 4
        assert [t.id for t in repo.get_tickets(session, ids=[9, 42, 3, 9])] == [9, 3]
        assert list(repo.iter_tickets(session, batch=3)) == sorted(page, key=lambda t: t.id)


def test_dragging_tickets_are_the_resolvers_own_that_pull_a_metric_down(engine: Engine, params):
    later = {"resolved_at": nov(4, 16), "updated_at": nov(4, 16)}
    done = replace(CLOSED_BY_JSMITH, type="Hardware", subtype="Printer", item="Toner")
    page = [
        done,  # categorized, with an agreement, a real company: no drag
        replace(done, id=102, agreement=None),
        replace(done, id=103, company="Catchall", agreement=None, **later),
        replace(done, id=104, item=None, summary="printer"),
        replace(done, id=105, agreement=None, resolver="AJones"),
        replace(done, id=106, agreement=None, resolved_at=nov(20, 16)),
        replace(done, id=107, agreement=None, board="Projects"),
    ]
    upsert(engine, page, params=params)
    with session_scope(engine) as session:
        found = repo.dragging_tickets(
            session, resolver_key="jsmith", start=nov(1, 0), end=nov(10, 0), limit=10
        )
        first = repo.dragging_tickets(
            session, resolver_key="jsmith", start=nov(1, 0), end=nov(10, 0), limit=1
        )
    assert [t.ticket_id for t in found] == [103, 104, 102]  # newest first, then by id
    assert [(t.categorized, t.no_agreement, t.catchall) for t in found] == [
        (True, True, True),
        (False, False, False),
        (True, True, False),
    ]
    assert (found[1].summary, found[1].company) == ("printer", "Acme")
    assert [t.ticket_id for t in first] == [103]

"""Nudges (once per ticket and reason, and their statuses) and kudos (once per ticket)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy import Engine

from storage import notices
from storage.db import session_scope
from tests.storage.helpers import nov


def record(
    engine: Engine, items: Sequence[tuple[int, str, str]], at: datetime
) -> list[notices.NudgeRow]:
    with session_scope(engine) as session:
        return notices.record_nudges(session, items=items, at=at)


def pending(engine: Engine, member_key: str | None = None) -> list[tuple[int, str, str]]:
    """(ticket, reason, member) of each pending nudge."""
    with session_scope(engine) as session:
        rows = notices.pending_nudges(session, member_key=member_key)
    return [(row.ticket_id, row.reason, row.member_key) for row in rows]


def of_ticket(engine: Engine, ticket_id: int) -> list[notices.NudgeRow]:
    with session_scope(engine) as session:
        return notices.nudges_for_ticket(session, ticket_id=ticket_id)


def set_status(engine: Engine, ticket_id: int, status: str, by: str | None, at: datetime) -> int:
    with session_scope(engine) as session:
        return notices.set_nudge_status(session, ticket_id=ticket_id, status=status, by=by, at=at)


def test_recorded_nudges_come_back_as_pending_rows(engine: Engine):
    new = record(engine, [(101, "uncategorized", "jsmith")], nov(2, 9))
    assert new == [
        notices.NudgeRow(
            id=new[0].id,
            ticket_id=101,
            reason="uncategorized",
            member_key="jsmith",
            created_at=nov(2, 9),
            status="pending",
            sent_at=None,
            outbox_key=None,
            fixed_by=None,
        )
    ]
    assert of_ticket(engine, 101) == new


def test_a_ticket_is_nudged_once_per_reason_and_only_new_nudges_are_returned(engine: Engine):
    record(engine, [(101, "uncategorized", "jsmith"), (101, "no_agreement", "jsmith")], nov(2))
    again = record(
        engine,
        [
            (101, "uncategorized", "jsmith"),  # known
            (101, "no_agreement", "zlee"),  # known, whoever resolved it now
            (101, "catchall", "jsmith"),  # new reason
            (102, "uncategorized", "zlee"),  # new ticket
            (102, "uncategorized", "amy"),  # the same twice in one call: the first counts
        ],
        nov(3),
    )
    assert [(n.ticket_id, n.reason, n.member_key, n.created_at) for n in again] == [
        (101, "catchall", "jsmith", nov(3)),
        (102, "uncategorized", "zlee", nov(3)),
    ]
    assert [(n.reason, n.member_key) for n in of_ticket(engine, 101)] == [
        ("uncategorized", "jsmith"),
        ("no_agreement", "jsmith"),
        ("catchall", "jsmith"),
    ]
    assert record(engine, [], nov(4)) == []


def test_a_closed_nudge_is_not_recorded_again(engine: Engine):
    record(engine, [(101, "uncategorized", "jsmith")], nov(2))
    set_status(engine, 101, "dismissed", "jsmith", nov(2, 13))
    assert record(engine, [(101, "uncategorized", "jsmith")], nov(9)) == []
    assert pending(engine) == []


def test_pending_nudges_by_member_and_for_everyone(engine: Engine):
    record(
        engine,
        [(205, "catchall", "zlee"), (103, "uncategorized", "jsmith"), (102, "catchall", "zlee")],
        nov(2),
    )
    # ordered by member, then ticket
    assert pending(engine) == [
        (103, "uncategorized", "jsmith"),
        (102, "catchall", "zlee"),
        (205, "catchall", "zlee"),
    ]
    assert pending(engine, "zlee") == [(102, "catchall", "zlee"), (205, "catchall", "zlee")]
    assert pending(engine, "nobody") == []


def test_sent_nudges_leave_pending_and_date_the_last_digest(engine: Engine):
    rows = record(
        engine,
        [(101, "uncategorized", "jsmith"), (102, "catchall", "jsmith"), (103, "catchall", "zlee")],
        nov(2, 9),
    )
    with session_scope(engine) as session:
        assert notices.last_nudge_digest(session, member_key="jsmith") is None
        notices.mark_nudges_sent(
            session,
            ids=[rows[0].id, rows[1].id],
            outbox_key="nudges:jsmith:2026-11-02",
            at=nov(2, 10),
        )
    assert pending(engine) == [(103, "catchall", "zlee")]
    sent = of_ticket(engine, 101)[0]
    assert (sent.status, sent.sent_at, sent.outbox_key) == (
        "sent",
        nov(2, 10),
        "nudges:jsmith:2026-11-02",
    )
    with session_scope(engine) as session:
        assert notices.last_nudge_digest(session, member_key="jsmith") == nov(2, 10)
        assert notices.last_nudge_digest(session, member_key="zlee") is None

    # A later digest moves it on.
    later = record(engine, [(104, "catchall", "jsmith")], nov(3, 9))
    with session_scope(engine) as session:
        notices.mark_nudges_sent(session, ids=[later[0].id], outbox_key="d2", at=nov(3, 10))
        assert notices.last_nudge_digest(session, member_key="jsmith") == nov(3, 10)


def test_marking_sent_leaves_a_nudge_closed_meanwhile_alone(engine: Engine):
    rows = record(engine, [(101, "uncategorized", "jsmith")], nov(2, 9))
    set_status(engine, 101, "fixed", "zlee", nov(2, 9, 30))
    with session_scope(engine) as session:
        notices.mark_nudges_sent(session, ids=[rows[0].id], outbox_key="d1", at=nov(2, 10))
    closed = of_ticket(engine, 101)[0]
    assert (closed.status, closed.sent_at, closed.outbox_key, closed.fixed_by) == (
        "fixed",
        None,
        None,
        "zlee",
    )


def test_fixing_a_ticket_closes_its_open_nudges_once(engine: Engine):
    rows = record(
        engine,
        [
            (101, "uncategorized", "jsmith"),
            (101, "no_agreement", "jsmith"),
            (102, "catchall", "jsmith"),
        ],
        nov(2, 9),
    )
    with session_scope(engine) as session:
        notices.mark_nudges_sent(session, ids=[rows[0].id], outbox_key="d1", at=nov(2, 10))
    # Ticket 101: one sent, one pending; both open, so both change.
    assert set_status(engine, 101, "fixed", "jsmith", nov(2, 11)) == 2
    assert [(n.status, n.fixed_by) for n in of_ticket(engine, 101)] == [
        ("fixed", "jsmith"),
        ("fixed", "jsmith"),
    ]
    # Pressed again, or dismissed after the fix: nothing is open any more.
    assert set_status(engine, 101, "dismissed", "zlee", nov(2, 12)) == 0
    assert [(n.status, n.fixed_by) for n in of_ticket(engine, 101)] == [
        ("fixed", "jsmith"),
        ("fixed", "jsmith"),
    ]
    # Other tickets are untouched.
    assert pending(engine) == [(102, "catchall", "jsmith")]
    assert set_status(engine, 999, "fixed", "jsmith", nov(2, 12)) == 0


def test_a_dismissed_nudge_records_who_dismissed_it(engine: Engine):
    record(engine, [(101, "catchall", "jsmith")], nov(2))
    assert set_status(engine, 101, "dismissed", None, nov(2, 12)) == 1
    assert [(n.status, n.fixed_by) for n in of_ticket(engine, 101)] == [("dismissed", None)]


@pytest.mark.parametrize("status", ["pending", "sent", "done"])
def test_only_closing_statuses_can_be_set(engine: Engine, status: str):
    record(engine, [(101, "catchall", "jsmith")], nov(2))
    with pytest.raises(ValueError, match="fixed"):
        set_status(engine, 101, status, "jsmith", nov(3))
    assert [n.status for n in of_ticket(engine, 101)] == ["pending"]


# ---- kudos ----------------------------------------------------------------------------------


def record_kudos(engine: Engine, ticket_id: int, member_key: str, at: datetime) -> bool:
    with session_scope(engine) as session:
        return notices.record_kudos(
            session, ticket_id=ticket_id, member_key=member_key, resolved_at=nov(1), at=at
        )


def kudos_posted(engine: Engine, member_key: str, since: datetime) -> int:
    with session_scope(engine) as session:
        return notices.kudos_queued(session, member_key=member_key, since=since, prefix="kudos:")


def unsent(engine: Engine) -> list[notices.KudosRow]:
    with session_scope(engine) as session:
        return notices.unsent_kudos(session, resolved_since=nov(1))


def test_a_ticket_gets_kudos_once(engine: Engine):
    assert record_kudos(engine, 101, "jsmith", nov(2, 9)) is True
    assert record_kudos(engine, 101, "jsmith", nov(2, 10)) is False
    assert record_kudos(engine, 101, "zlee", nov(3)) is False  # resolved again by someone else
    assert unsent(engine) == [
        notices.KudosRow(
            ticket_id=101,
            member_key="jsmith",
            resolved_at=nov(1),
            created_at=nov(2, 9),
            outbox_key=None,
        )
    ]


def test_kudos_queued_counts_a_members_posted_kudos_from_a_time_on(engine: Engine):
    for ticket_id, member, at in [
        (101, "jsmith", nov(1, 23)),  # yesterday
        (102, "jsmith", nov(2, 0)),  # at midnight: counted
        (103, "jsmith", nov(2, 15)),
        (104, "zlee", nov(2, 15)),  # someone else
        (105, "jsmith", nov(2, 16)),  # over the cap: marked, not posted
        (106, "jsmith", nov(2, 17)),  # not queued yet
    ]:
        record_kudos(engine, ticket_id, member, at)
    with session_scope(engine) as session:
        for ticket_id in (101, 102, 103, 104):
            notices.mark_kudos_queued(
                session, ticket_ids=[ticket_id], outbox_key=f"kudos:{ticket_id}"
            )
        notices.mark_kudos_queued(session, ticket_ids=[105], outbox_key="over-cap:2026-11-02")
    # since 2 Nov 00:00: tickets 102 and 103
    assert kudos_posted(engine, "jsmith", nov(2, 0)) == 2
    assert kudos_posted(engine, "jsmith", nov(1, 0)) == 3
    assert kudos_posted(engine, "zlee", nov(2, 0)) == 1
    assert kudos_posted(engine, "amy", nov(1, 0)) == 0


def test_unsent_kudos_are_queued_once(engine: Engine):
    record_kudos(engine, 103, "jsmith", nov(2, 11))
    record_kudos(engine, 101, "zlee", nov(2, 10))
    record_kudos(engine, 102, "amy", nov(2, 11))
    # oldest first, then by ticket
    assert [k.ticket_id for k in unsent(engine)] == [101, 102, 103]
    with session_scope(engine) as session:  # resolved on 1 Nov: not news on 2 Nov
        assert notices.unsent_kudos(session, resolved_since=nov(2)) == []

    with session_scope(engine) as session:
        notices.mark_kudos_queued(session, ticket_ids=[101, 102], outbox_key="kudos:2026-11-02")
    assert [k.ticket_id for k in unsent(engine)] == [103]

    # A ticket already queued keeps the key it was sent under.
    with session_scope(engine) as session:
        notices.mark_kudos_queued(session, ticket_ids=[101, 103], outbox_key="kudos:103")
    assert unsent(engine) == []
    assert kudos_posted(engine, "zlee", nov(1)) == 1  # queued kudos count toward the cap
    # the keys each ended with, read through the digest-independent row
    with engine.connect() as connection:
        keys = dict(connection.exec_driver_sql("SELECT ticket_id, outbox_key FROM kudos").all())
    assert keys == {101: "kudos:2026-11-02", 102: "kudos:2026-11-02", 103: "kudos:103"}

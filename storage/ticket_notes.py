"""The note sync's side of the database (docs/metrics.md, "Beyond Crewhu" and "Conversation"):
which tickets' notes are owed, and storing what was read from them.

A ticket's notes are owed while ``notes_read`` is false: on first sight, and again after
every change to the ticket (``storage.tickets.upsert_tickets`` writes it false with every
changed row), since a new note changes the ticket. Reading them stores one ``ticket_notes``
row a note (author, flags, time; never the text) and the ticket's per-resolution values:
``first_contact``, ``responses``, ``responses_to_close``, ``followed_up``. They are stored
only if the ticket is still the version whose notes were asked for; a ticket changed
meanwhile stays owed and is read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, false, func, insert, select, true, update
from sqlmodel import Session

from metrics.calendar import BusinessCalendar
from metrics.conversation import Conversation, Reply, conversation
from metrics.derive import business_minutes
from metrics.notes import TicketNote, is_first_contact
from metrics.records import StatusChange, member_key
from metrics.waiting import Interval, WaitingRule, waiting_intervals
from storage import rollup_marks
from storage.bulk import chunks
from storage.histories import load_histories
from storage.tables import TICKET_NOTES, TICKETS

_T = TICKETS.c
_N = TICKET_NOTES.c


@dataclass(frozen=True, slots=True)
class NotesOwed:
    """A ticket whose notes are to be read, as it is stored now."""

    ticket_id: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotesRead:
    """What reading an owed ticket's notes gave: its notes, or None when the PSA no longer
    has the ticket (its notes can never be read)."""

    owed: NotesOwed
    notes: Sequence[TicketNote] | None


def tickets_needing_notes(session: Session, *, limit: int) -> list[NotesOwed]:
    """Up to ``limit`` in-scope tickets whose notes are owed, the most recently updated
    first: those are the ones the current numbers count."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = (
        select(_T.id, _T.updated_at)
        .where(_T.notes_read == false(), _T.in_scope == true())
        .order_by(_T.updated_at.desc(), _T.id.desc())
        .limit(limit)
    )
    return [NotesOwed(ticket_id, updated_at) for ticket_id, updated_at in session.execute(query)]


def count_tickets_needing_notes(session: Session) -> int:
    query = select(func.count()).where(_T.notes_read == false(), _T.in_scope == true())
    return int(session.execute(query).scalar_one())


_FACTS = select(_T.id, _T.entered_at, _T.resolved_at, _T.resolver, _T.closed, _T.closed_at).where(
    _T.id.in_(bindparam("ids", expanding=True))
)

_STORE_VALUES = (
    update(TICKETS)
    .where(_T.id == bindparam("ticket_id"), _T.updated_at.is_not_distinct_from(bindparam("seen")))
    .values(
        notes_read=True,
        first_contact=bindparam("first_contact"),
        responses=bindparam("responses"),
        responses_to_close=bindparam("responses_to_close"),
        followed_up=bindparam("followed_up"),
        closed_with_notes=bindparam("closed_with_notes"),
    )
)


def store_notes(
    session: Session,
    *,
    read: Sequence[NotesRead],
    calendar: BusinessCalendar,
    waiting_rule: WaitingRule,
) -> int:
    """Store the notes read and what they decide; returns how many tickets were current
    (a ticket changed since it was listed, or deleted, keeps its notes owed)."""
    if not read:
        return 0
    ids = [r.owed.ticket_id for r in read]
    facts: dict[int, Any] = {}
    for chunk in chunks(ids):
        facts.update({row.id: row for row in session.execute(_FACTS, {"ids": list(chunk)})})
    histories = load_histories(session, ids)
    for chunk in chunks(ids):
        session.execute(delete(TICKET_NOTES).where(_N.ticket_id.in_(chunk)))
    note_rows: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for item in read:
        ticket_id = item.owed.ticket_id
        fact = facts.get(ticket_id)
        if fact is None:
            continue
        history = histories.get(ticket_id, [])
        resolved_at = fact.resolved_at
        first_contact: bool | None = None
        talk = Conversation((), None, None, None)
        if item.notes is None:
            first_contact = False if _resolved(fact) else None
        else:
            talk = conversation(
                item.notes,
                entered_at=fact.entered_at,
                resolved_at=resolved_at,
                closed=bool(fact.closed),
                closed_at=(fact.closed_at or _closed_at(history)) if fact.closed else None,
                calendar=calendar,
                waiting=waiting_intervals(history, waiting_rule),
            )
            if _resolved(fact):
                first_contact = is_first_contact(item.notes, resolved_at=resolved_at)
            note_rows.extend(_note_rows(ticket_id, item.notes, talk.replies))
        values.append(
            {
                "ticket_id": ticket_id,
                "seen": item.owed.updated_at,
                "first_contact": first_contact,
                "responses": talk.responses,
                "responses_to_close": talk.responses_to_close,
                "followed_up": talk.followed_up,
                "closed_with_notes": talk.closed_with_notes,
            }
        )
    if note_rows:
        session.execute(insert(TICKET_NOTES), note_rows)
    stored = 0
    for value in values:  # one by one: each row's count says whether it was current
        result = session.connection().execute(_STORE_VALUES, value)
        stored += result.rowcount
    rollup_marks.mark_resolutions(session, [value["ticket_id"] for value in values])
    return stored


def _resolved(fact: Any) -> bool:
    """Resolved by someone: the tickets first_contact_pct can count."""
    return fact.resolved_at is not None and member_key(fact.resolver) is not None


def _closed_at(history: Sequence[StatusChange]) -> datetime | None:
    """When a closed ticket without ``closedDate`` was seen entering its (closed) status."""
    return history[-1].at if history else None


def _note_rows(
    ticket_id: int, notes: Sequence[TicketNote], replies: Sequence[Reply]
) -> list[dict[str, Any]]:
    by_note = {id(reply.note): reply for reply in replies}
    rows = []
    for note in notes:
        reply = by_note.get(id(note))
        rows.append(
            {
                "ticket_id": ticket_id,
                "note_id": note.id,
                "created_at": note.created_at,
                "member_key": note.member_key,
                "by_technician": note.by_technician,
                "by_customer": note.by_customer,
                "customer_visible": note.customer_visible,
                "reply_since": None if reply is None else reply.since,
                "reply_min_business": None if reply is None else reply.minutes_business,
                "reply_min_calendar": None if reply is None else reply.minutes_calendar,
            }
        )
    return rows


_REPLIES = select(_N.id, _N.ticket_id, _N.reply_since, _N.created_at).where(
    _N.ticket_id.in_(bindparam("ids", expanding=True)), _N.reply_since.is_not(None)
)
_SET_REPLY_MINUTES = (
    update(TICKET_NOTES)
    .where(_N.id == bindparam("row_id"))
    .values(reply_min_business=bindparam("minutes"))
)


def rederive_replies(
    session: Session,
    *,
    waiting: Mapping[int, Sequence[Interval]],
    calendar: BusinessCalendar,
) -> None:
    """Work out the business minutes of the stored replies of the tickets of ``waiting``
    again (their waiting intervals as derived now): the calendar or the waiting statuses
    changed. Which response answered which message does not depend on them."""
    updates: list[dict[str, Any]] = []
    for chunk in chunks(list(waiting)):
        for row_id, ticket_id, since, at in session.execute(_REPLIES, {"ids": list(chunk)}):
            minutes = business_minutes(calendar, since, at, waiting[ticket_id])
            updates.append({"row_id": row_id, "minutes": minutes})
    if updates:
        session.execute(_SET_REPLY_MINUTES, updates)


def stored_notes(session: Session, *, ticket_id: int) -> list[TicketNote]:
    """The stored notes of one ticket, oldest first (without text: none is kept)."""
    query = (
        select(
            _N.ticket_id,
            _N.created_at,
            _N.member_key,
            _N.by_technician,
            _N.note_id,
            _N.by_customer,
            _N.customer_visible,
        )
        .where(_N.ticket_id == ticket_id)
        .order_by(_N.created_at, _N.id)
    )
    return [TicketNote(*row) for row in session.execute(query)]

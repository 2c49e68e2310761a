"""Tickets: storing pages with their status history and derived values, reading them back.

Nothing here commits: the caller's ``storage.db.session_scope`` does, so a page of tickets
is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Insert, bindparam, false, func, insert, null, or_, select, true, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from metrics.alerts import WatchedTicket
from metrics.derive import DERIVED_VALUE_FIELDS, DerivedTicket, DeriveParams, derive, derived_values
from metrics.records import StatusChange, TicketRecord
from metrics.waiting import Interval, WaitingRule, waiting_intervals
from storage import rollup_marks
from storage.bulk import chunks, write_rows
from storage.histories import load_histories
from storage.sync_state import sync_row
from storage.tables import STATUS_CHANGES, TICKETS
from storage.ticket_notes import rederive_replies

RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TicketRecord))
# Decided about the current resolution by the note sync (storage.first_contact) and by the
# judging of kudos and nudges (storage.notices), never by an upsert or a re-derivation; an
# upsert sets them back to NULL when the resolution changes, so they are decided again.
NOTE_FIELDS: tuple[str, ...] = ("first_contact", "judged_at")
# What the note sync read from the ticket's notes (storage.ticket_notes): every upsert of a
# changed ticket writes these values, "notes not read", so its notes are read again.
UNREAD_NOTES: dict[str, Any] = {
    "notes_read": False,
    "responses": None,
    "responses_to_close": None,
    "followed_up": None,
    "closed_with_notes": False,
}
# The derived resolved_at/responded_at equal the record's whenever they matter (see tables).
DERIVED_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in fields(DerivedTicket)
    if f.name not in RECORD_FIELDS
    and f.name not in ("resolved_at", "responded_at")
    and f.name not in NOTE_FIELDS
    and f.name not in UNREAD_NOTES
)
_RECORD_COLUMNS = tuple(TICKETS.c[name] for name in RECORD_FIELDS)
# What an upsert writes, in this order: the record, then its derived values.
_ROW_FIELDS: tuple[str, ...] = RECORD_FIELDS + DERIVED_FIELDS + tuple(UNREAD_NOTES)
_UNREAD_NOTES_VALUES = tuple(UNREAD_NOTES.values())
_record_values = attrgetter(*RECORD_FIELDS)
_stored_derived = itemgetter(*(DERIVED_VALUE_FIELDS.index(name) for name in DERIVED_FIELDS))
_CHANGE_FIELDS = ("ticket_id", "at", "from_status", "to_status", "reopened", "resolver_key")
_READ_AT = {
    name: _ROW_FIELDS.index(name)
    for name in rollup_marks.READ_COLUMNS
    if name not in NOTE_FIELDS  # first_contact: kept, or NULL when the resolution changed
}


class _Written(Mapping[str, Any]):
    """The day totals' columns (``rollup_marks.READ_COLUMNS``) of a row being written, read
    from the row itself (a dict per row would cost more than the marks)."""

    __slots__ = ("first_contact", "row")

    def __init__(self, row: tuple[Any, ...], first_contact: bool | None) -> None:
        self.row = row
        self.first_contact = first_contact

    def __getitem__(self, name: str) -> Any:
        return self.first_contact if name == "first_contact" else self.row[_READ_AT[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(rollup_marks.READ_COLUMNS)

    def __len__(self) -> int:
        return len(rollup_marks.READ_COLUMNS)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int
    status_changes: int  # status history rows written
    reopened: list[int]  # ticket ids seen going from resolved back to open
    newly_resolved: list[int]  # ticket ids resolved now and not resolved (or unknown) before
    max_updated_at: datetime | None  # newest ``updated_at`` of the page, stored or not


def _record_from_row(row: RowMapping) -> TicketRecord:
    return TicketRecord(**{name: row[name] for name in RECORD_FIELDS})


def _is_resolved(ticket: TicketRecord) -> bool:
    return ticket.closed or (ticket.resolved_at is not None and ticket.resolver_key is not None)


def _resolution(ticket: TicketRecord) -> datetime | None:
    """The resolution the ticket's notes are judged against, or None when not resolved."""
    return ticket.resolved_at if _is_resolved(ticket) else None


def _is_news(record: TicketRecord, stored: TicketRecord | None) -> bool:
    """True when ``record`` should replace the stored version: new, changed and not older."""
    if stored is None:
        return True
    if record == stored:
        return False
    return not (
        record.updated_at is not None
        and stored.updated_at is not None
        and record.updated_at < stored.updated_at
    )


def _change_time(ticket: TicketRecord) -> datetime | None:
    """When a status change is taken to have happened: the ticket's ``lastUpdated``."""
    return ticket.updated_at or ticket.entered_at


def _derived_values(derived: DerivedTicket) -> dict[str, Any]:
    return {name: getattr(derived, name) for name in DERIVED_FIELDS}


def _ticket_row(record: TicketRecord, derived: tuple[Any, ...]) -> tuple[Any, ...]:
    """The ticket's values in ``_ROW_FIELDS`` order, from ``metrics.derive.derived_values``."""
    values: tuple[Any, ...] = _record_values(record) + _stored_derived(derived)
    return values + _UNREAD_NOTES_VALUES


# Built once: SQLAlchemy then reuses the compiled form and its cache key for every page.
_RECORDS_BY_ID = select(*_RECORD_COLUMNS).where(TICKETS.c.id.in_(bindparam("ids", expanding=True)))
_MAX_ID = select(func.max(TICKETS.c.id))
_CHANGE_TIME = func.coalesce(TICKETS.c.updated_at, TICKETS.c.entered_at)  # _change_time in SQL


def _highest_id(session: Session) -> int | None:
    highest: int | None = session.execute(_MAX_ID).scalar()
    return highest


def _load_records(
    session: Session, ids: Sequence[int], *, highest: int | None = None
) -> dict[int, TicketRecord]:
    """The stored versions of ``ids``. Ids above the highest stored one (``highest``, read
    when not given) cannot be stored, so a backfill, whose pages come in id order, reads
    nothing back."""
    found: dict[int, TicketRecord] = {}
    if highest is None:
        highest = _highest_id(session)
    if highest is None:
        return found
    for chunk in chunks([i for i in ids if i <= highest]):
        for row in session.execute(_RECORDS_BY_ID, {"ids": list(chunk)}).mappings():
            found[row["id"]] = _record_from_row(row)
    return found


def _latest_per_id(records: Iterable[TicketRecord]) -> dict[int, TicketRecord]:
    """One record per id: the most recently updated one (the later one on a tie)."""
    latest: dict[int, TicketRecord] = {}
    for record in records:
        seen = latest.get(record.id)
        if (
            seen is None
            or record.updated_at is None
            or seen.updated_at is None
            or record.updated_at >= seen.updated_at
        ):
            latest[record.id] = record
    return latest


def _first_sight_changes(*, after: int | None, through: int) -> Insert:
    """The first-sight status change (``None`` to the status, at ``_change_time``) of every
    ticket with an id in ``(after, through]``, copied from its row in ``tickets``.

    Only for tickets stored for the first time by this upsert with ids above every id
    stored before it: no other row lies in that range. What it writes equals what the
    rows of ``_CHANGE_FIELDS`` would, without a conversion and a bound parameter per value.
    """
    source = (
        select(TICKETS.c.id, _CHANGE_TIME, null(), TICKETS.c.status, false(), null())
        .where(TICKETS.c.id <= through, _CHANGE_TIME.is_not(None))
        .order_by(TICKETS.c.id)
    )
    if after is not None:
        source = source.where(TICKETS.c.id > after)
    return insert(STATUS_CHANGES).from_select(list(_CHANGE_FIELDS), source)


def upsert_tickets(
    session: Session,
    *,
    records: Sequence[TicketRecord],
    params: DeriveParams,
    waiting_rule: WaitingRule,
) -> UpsertResult:
    """Store a page of tickets: new and changed ones with their derived values.

    A record equal to the stored one in every field, or older than it (a smaller
    ``updated_at``), is left alone and counted as unchanged. Status changes are
    recorded against the stored version (docs/metrics.md, "Status history and reopens"); a
    change from resolved to not resolved is a reopen, charged to the stored resolver.

    ``first_contact`` is not written here but by the note sync. A ticket whose resolution
    changed (newly resolved, reopened, or resolved again at another time) gets it back to
    NULL, so that its notes are read again for the new resolution; any other change keeps it.

    The dates the page owes the day totals are marked in the same transaction
    (``storage.rollup_marks``).
    """
    latest = _latest_per_id(records)
    ids = sorted(latest)
    highest = _highest_id(session)
    stored = _load_records(session, ids, highest=highest)
    changed = [i for i in ids if _is_news(latest[i], stored.get(i))]
    # Only tickets stored before have a history.
    histories = load_histories(session, [i for i in changed if i in stored])
    before = rollup_marks.stored_values(session, [i for i in changed if i in stored])
    owed = rollup_marks.Owed()

    rows: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    reopened: list[int] = []
    newly_resolved: list[int] = []
    resolution_changed: list[int] = []
    waiting_status: dict[str | None, bool] = {}  # a page has a handful of statuses
    # First sights above every stored id (all of a backfill's): their status changes are
    # copied from the rows just written, by one INSERT ... SELECT (_first_sight_changes).
    beyond: list[int] = []
    for ticket_id in changed:
        record = latest[ticket_id]
        previous = stored.get(ticket_id)
        was_resolved = previous is not None and _is_resolved(previous)
        now_resolved = _is_resolved(record)
        is_reopen = was_resolved and not now_resolved
        if is_reopen:
            reopened.append(ticket_id)
        if now_resolved and not was_resolved:
            newly_resolved.append(ticket_id)
        first_contact = None
        if previous is not None:
            if _resolution(previous) != _resolution(record):
                resolution_changed.append(ticket_id)
            else:
                first_contact = before[ticket_id]["first_contact"]

        at = _change_time(record)
        waiting: list[Interval]
        if previous is None:
            # First sight: the history is this one change (if it has a time), so the ticket
            # is waiting from then on exactly when its status is a waiting one.
            waiting = []
            if at is not None:
                status = record.status
                if highest is None or ticket_id > highest:
                    beyond.append(ticket_id)
                else:
                    changes.append((ticket_id, at, None, status, False, None))
                if status not in waiting_status:
                    waiting_status[status] = waiting_rule.is_waiting(status)
                if waiting_status[status]:
                    waiting = [(at, None)]
        else:
            history = histories.get(ticket_id, [])
            if at is not None and (previous.status != record.status or is_reopen):
                charged = previous.resolver_key if is_reopen else None
                change = (ticket_id, at, previous.status, record.status, is_reopen, charged)
                changes.append(change)
                history = [*history, StatusChange(*change[:4])]
            waiting = waiting_intervals(history, waiting_rule)
        row = _ticket_row(record, derived_values(record, params=params, waiting=waiting))
        rows.append(row)
        owed.ticket(ticket_id, before.get(ticket_id), _Written(row, first_contact))

    write_rows(session, table=TICKETS, columns=_ROW_FIELDS, rows=rows, upsert=True)
    for chunk in chunks(resolution_changed):  # new rows start NULL: the column's default
        reset = update(TICKETS).where(TICKETS.c.id.in_(chunk))
        session.execute(reset.values({name: None for name in NOTE_FIELDS}))
    write_rows(session, table=STATUS_CHANGES, columns=_CHANGE_FIELDS, rows=changes)
    if beyond:  # after the others: the history keeps its ascending ticket order
        session.execute(_first_sight_changes(after=highest, through=beyond[-1]))
    owed.mark(session)
    stamps = [r.updated_at for r in latest.values() if r.updated_at is not None]
    inserted = sum(1 for i in changed if i not in stored)
    return UpsertResult(
        inserted=inserted,
        updated=len(changed) - inserted,
        unchanged=len(ids) - len(changed),
        status_changes=len(changes) + len(beyond),
        reopened=reopened,
        newly_resolved=newly_resolved,
        max_updated_at=max(stamps, default=None),
    )


def _record_batches(session: Session, *, batch: int) -> Iterator[list[TicketRecord]]:
    """Stored tickets in id order, ``batch`` at a time (keyset paging, no OFFSET)."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    last_id: int | None = None
    while True:
        query = select(*_RECORD_COLUMNS).order_by(TICKETS.c.id).limit(batch)
        if last_id is not None:
            query = query.where(TICKETS.c.id > last_id)
        records = [_record_from_row(row) for row in session.execute(query).mappings()]
        if not records:
            return
        yield records
        last_id = records[-1].id


def iter_tickets(session: Session, *, batch: int = 1000) -> Iterator[TicketRecord]:
    """Every stored ticket as a record, in id order, reading ``batch`` rows at a time."""
    for records in _record_batches(session, batch=batch):
        yield from records


def rederive_all(
    session: Session,
    *,
    params: DeriveParams,
    waiting_rule: WaitingRule,
    fingerprint: str | None = None,
    batch: int = 2000,
) -> int:
    """Recompute the derived columns of every stored ticket; returns how many.

    Used when the configuration behind them changed. ``fingerprint`` (by default
    ``params.fingerprint``) is stored in the sync state to say what they were derived with.
    Any value of any day may change, so the day totals are built again at their next refresh.
    """
    count = 0
    statement = update(TICKETS).where(TICKETS.c.id == bindparam("ticket_id"))
    for records in _record_batches(session, batch=batch):
        histories = load_histories(session, [r.id for r in records])
        values = []
        waiting_of: dict[int, list[Interval]] = {}
        for record in records:
            waiting = waiting_of[record.id] = waiting_intervals(
                histories.get(record.id, []), waiting_rule
            )
            derived = derive(record, params=params, waiting=waiting)
            values.append({"ticket_id": record.id, **_derived_values(derived)})
        session.execute(statement, values)
        rederive_replies(session, waiting=waiting_of, calendar=params.calendar)
        count += len(values)
    rollup_marks.forget_totals(session)
    sync_row(session).derive_fingerprint = fingerprint or params.fingerprint
    return count


def open_tickets(session: Session) -> list[WatchedTicket]:
    """Every in-scope ticket that is neither resolved nor closed, with its category bits,
    in id order: what the SLA-risk alerts watch."""
    query = (
        select(*_RECORD_COLUMNS, TICKETS.c.category_mask)
        .where(TICKETS.c.in_scope == true(), TICKETS.c.is_open == true())
        .order_by(TICKETS.c.id)
    )
    return [
        WatchedTicket(_record_from_row(row), row["category_mask"])
        for row in session.execute(query).mappings()
    ]


def count_tickets(session: Session) -> int:
    return session.execute(select(func.count()).select_from(TICKETS)).scalar_one()


def busiest_companies(session: Session, *, limit: int) -> list[int]:
    """Company ids by how many stored tickets are for them, most first (ties by id)."""
    query = (
        select(TICKETS.c.company_id)
        .where(TICKETS.c.company_id.is_not(None))
        .group_by(TICKETS.c.company_id)
        .order_by(func.count().desc(), TICKETS.c.company_id)
        .limit(limit)
    )
    return [int(row[0]) for row in session.execute(query)]


def get_tickets(session: Session, *, ids: Iterable[int]) -> list[TicketRecord]:
    """The stored records of ``ids``, in the order given; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))
    found = _load_records(session, wanted)
    return [found[i] for i in wanted if i in found]


@dataclass(frozen=True, slots=True)
class DraggingTicket:
    """A resolved ticket that pulls a metric down: uncategorized, without an agreement, or in
    the catch-all company (the nudge reasons)."""

    ticket_id: int
    summary: str | None
    company_name: str | None
    company: str | None
    categorized: bool
    no_agreement: bool
    catchall: bool


def dragging_tickets(
    session: Session, *, resolver_key: str, start: datetime, end: datetime, limit: int
) -> list[DraggingTicket]:
    """The in-scope tickets ``resolver_key`` resolved in ``[start, end)`` (UTC) that are
    uncategorized, without an agreement or in the catch-all company, newest first."""
    t = TICKETS.c
    query = (
        select(
            t.id, t.summary, t.company_name, t.company, t.categorized, t.no_agreement, t.catchall
        )
        .where(
            t.resolver_key == resolver_key,
            t.in_scope == true(),
            t.resolved_at >= start,
            t.resolved_at < end,
            or_(t.categorized == false(), t.no_agreement == true(), t.catchall == true()),
        )
        .order_by(t.resolved_at.desc(), t.id.desc())
        .limit(limit)
    )
    return [DraggingTicket(*row) for row in session.execute(query).all()]

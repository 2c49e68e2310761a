"""Tickets: storing pages with their status history and derived values, reading them back.

Nothing here commits: the caller's ``storage.db.session_scope`` does, so a page of tickets
is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from metrics.derive import DerivedTicket, DeriveParams, derive
from metrics.records import StatusChange, TicketRecord
from metrics.waiting import WaitingRule, waiting_intervals
from storage.bulk import chunks, upsert_rows
from storage.sync_state import sync_row
from storage.tables import STATUS_CHANGES, TICKETS

RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TicketRecord))
# Written by the note sync (storage.first_contact), never by an upsert or a re-derivation.
NOTE_FIELDS: tuple[str, ...] = ("first_contact",)
# The derived resolved_at/responded_at equal the record's whenever they matter (see tables).
DERIVED_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in fields(DerivedTicket)
    if f.name not in RECORD_FIELDS
    and f.name not in ("resolved_at", "responded_at")
    and f.name not in NOTE_FIELDS
)
_RECORD_COLUMNS = tuple(TICKETS.c[name] for name in RECORD_FIELDS)


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


def _ticket_row(record: TicketRecord, derived: DerivedTicket) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in RECORD_FIELDS}
    row.update(_derived_values(derived))
    return row


def _load_records(session: Session, ids: Sequence[int]) -> dict[int, TicketRecord]:
    found: dict[int, TicketRecord] = {}
    for chunk in chunks(ids):
        query = select(*_RECORD_COLUMNS).where(TICKETS.c.id.in_(chunk))
        for row in session.execute(query).mappings():
            found[row["id"]] = _record_from_row(row)
    return found


def _load_histories(session: Session, ids: Sequence[int]) -> dict[int, list[StatusChange]]:
    c = STATUS_CHANGES.c
    histories: dict[int, list[StatusChange]] = {}
    for chunk in chunks(ids):
        query = (
            select(c.ticket_id, c.at, c.from_status, c.to_status)
            .where(c.ticket_id.in_(chunk))
            .order_by(c.ticket_id, c.at, c.id)
        )
        for ticket_id, at, from_status, to_status in session.execute(query):
            histories.setdefault(ticket_id, []).append(
                StatusChange(ticket_id, at, from_status, to_status)
            )
    return histories


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
    recorded against the stored version (METRICS.md §6); a change from resolved to not
    resolved is a reopen, charged to the stored resolver.

    ``first_contact`` is not written here but by the note sync. A ticket whose resolution
    changed (newly resolved, reopened, or resolved again at another time) gets it back to
    NULL, so that its notes are read again for the new resolution; any other change keeps it.
    """
    latest = _latest_per_id(records)
    ids = sorted(latest)
    stored = _load_records(session, ids)
    changed = [i for i in ids if _is_news(latest[i], stored.get(i))]
    # Only tickets stored before have a history.
    histories = _load_histories(session, [i for i in changed if i in stored])

    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    reopened: list[int] = []
    newly_resolved: list[int] = []
    notes_outdated: list[int] = []
    for ticket_id in changed:
        record = latest[ticket_id]
        before = stored.get(ticket_id)
        was_resolved = before is not None and _is_resolved(before)
        now_resolved = _is_resolved(record)
        is_reopen = was_resolved and not now_resolved
        if is_reopen:
            reopened.append(ticket_id)
        if now_resolved and not was_resolved:
            newly_resolved.append(ticket_id)
        if before is not None and _resolution(before) != _resolution(record):
            notes_outdated.append(ticket_id)

        history = histories.get(ticket_id, [])
        at = _change_time(record)
        if at is not None and (before is None or before.status != record.status or is_reopen):
            change = StatusChange(
                ticket_id, at, None if before is None else before.status, record.status
            )
            history = [*history, change]
            changes.append(
                {
                    "ticket_id": ticket_id,
                    "at": at,
                    "from_status": change.from_status,
                    "to_status": change.to_status,
                    "reopened": is_reopen,
                    "resolver_key": before.resolver_key if is_reopen and before else None,
                }
            )
        waiting = waiting_intervals(history, waiting_rule)
        rows.append(_ticket_row(record, derive(record, params=params, waiting=waiting)))

    upsert_rows(session, TICKETS, rows)
    for chunk in chunks(notes_outdated):  # new rows start NULL: the column's default
        reset = update(TICKETS).where(TICKETS.c.id.in_(chunk))
        session.execute(reset.values({name: None for name in NOTE_FIELDS}))
    if changes:
        session.execute(insert(STATUS_CHANGES), changes)
    stamps = [r.updated_at for r in latest.values() if r.updated_at is not None]
    inserted = sum(1 for i in changed if i not in stored)
    return UpsertResult(
        inserted=inserted,
        updated=len(changed) - inserted,
        unchanged=len(ids) - len(changed),
        status_changes=len(changes),
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
    """
    count = 0
    statement = update(TICKETS).where(TICKETS.c.id == bindparam("ticket_id"))
    for records in _record_batches(session, batch=batch):
        histories = _load_histories(session, [r.id for r in records])
        values = []
        for record in records:
            waiting = waiting_intervals(histories.get(record.id, []), waiting_rule)
            derived = derive(record, params=params, waiting=waiting)
            values.append({"ticket_id": record.id, **_derived_values(derived)})
        session.execute(statement, values)
        count += len(values)
    sync_row(session).derive_fingerprint = fingerprint or params.fingerprint
    return count


def count_tickets(session: Session) -> int:
    return session.execute(select(func.count()).select_from(TICKETS)).scalar_one()


def get_tickets(session: Session, *, ids: Iterable[int]) -> list[TicketRecord]:
    """The stored records of ``ids``, in the order given; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))
    found = _load_records(session, wanted)
    return [found[i] for i in wanted if i in found]

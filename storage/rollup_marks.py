"""What a write of tickets owes the day totals (``storage.rollups``): the UTC dates whose
local days must be computed again, written into ``rollup_dirty`` in the writer's own
transaction.

The writers of ``tickets`` mark their dates themselves, from the values they write: the
store step of a sync (``storage.tickets.upsert_tickets``, from the page in hand and the
stored values of the tickets it replaces), the note sync (``storage.ticket_notes``) and a
derivation of every ticket again (``forget_totals``: the totals are built again). Replies
and ratings are marked by triggers on their tables (migration 0015). Tickets had triggers
too until migration 0016 dropped them: any row trigger on the wide ticket upsert cost
about 20 µs a row on SQLite whatever it did, more than the rest of the store step's own
work beyond the plain insert. ``tests/storage/test_rollups.py`` checks what every write
path marks, and holds the totals equal to the tickets after each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, true
from sqlmodel import Session

from metrics.definitions import Population
from storage import rollups
from storage.bulk import chunks
from storage.tables import (
    ROLLUP_DIRTY,
    ROLLUP_FLAGS,
    ROLLUP_STATE,
    ROLLUP_TICKET_MEANS,
    TICKET_NOTES,
    TICKETS,
)

_T = TICKETS.c
_N = TICKET_NOTES.c

READ_COLUMNS: tuple[str, ...] = (
    "in_scope",
    "category_mask",
    "resolver_key",
    "resolved_at",
    "responder_key",
    "responded_at",
    *(flag for flag in ROLLUP_FLAGS if flag != "rated"),
    *ROLLUP_TICKET_MEANS,
)
"""The tickets' columns the day totals read: a change to any other (a summary, the judging
time) owes them nothing."""
RESPONSE_COLUMNS: tuple[str, ...] = (
    "in_scope",
    "category_mask",
    "responder_key",
    "responded_at",
    *rollups.MEANS[Population.RESPONDED],
)
"""What the responded population's totals read (how many, and the response times): an old
open ticket's update owes its response's date only when one of these changed."""

Values = Mapping[str, Any]
"""A ticket's ``READ_COLUMNS`` by name."""

_STORED = select(_T.id, *(_T[name] for name in READ_COLUMNS)).where(
    _T.id.in_(bindparam("ids", expanding=True))
)
_REPLY_DAYS = select(_N.created_at).where(
    _N.ticket_id.in_(bindparam("ids", expanding=True)), _N.reply_since.is_not(None)
)
_RESOLUTIONS = select(_T.resolved_at).where(
    _T.id.in_(bindparam("ids", expanding=True)),
    _T.in_scope == true(),
    _T.resolver_key.is_not(None),
    _T.resolved_at.is_not(None),
)
_MARKED = select(ROLLUP_DIRTY.c.day).where(
    ROLLUP_DIRTY.c.day.in_(bindparam("days", expanding=True))
)


def stored_values(session: Session, ids: Sequence[int]) -> dict[int, Values]:
    """The stored ``READ_COLUMNS`` of the tickets ``ids`` (those stored), by id."""
    found: dict[int, Values] = {}
    for chunk in chunks(ids):
        for row in session.execute(_STORED, {"ids": list(chunk)}).mappings():
            found[row["id"]] = dict(row)
    return found


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _differ(before: Values, after: Values, columns: Iterable[str]) -> bool:
    return any(before[name] != after[name] for name in columns)


@dataclass
class Owed:
    """The dates a batch of ticket writes owes, gathered one ticket at a time."""

    days: set[date] = field(default_factory=set)
    replies_of: list[int] = field(default_factory=list)
    """Tickets whose replies' dates are owed too (their scope or categories changed)."""

    def ticket(self, ticket_id: int, before: Values | None, after: Values | None) -> None:
        """Ticket ``ticket_id`` goes from ``before`` to ``after`` (None: not stored)."""
        responded = True  # a new or gone ticket owes its response's date, if it has one
        if before is not None and after is not None:
            if not (before["in_scope"] or after["in_scope"]):
                return
            if not _differ(before, after, READ_COLUMNS):
                return
            responded = _differ(before, after, RESPONSE_COLUMNS)
            if _differ(before, after, ("in_scope", "category_mask")):
                self.replies_of.append(ticket_id)
        for values in (before, after):
            if values is None or not values["in_scope"]:
                continue
            if values["resolver_key"] is not None and values["resolved_at"] is not None:
                self.days.add(_utc_date(values["resolved_at"]))
            if (
                values["responder_key"] is not None
                and values["responded_at"] is not None
                and responded
            ):
                self.days.add(_utc_date(values["responded_at"]))

    def mark(self, session: Session) -> None:
        """Write the dates owed (with the replies' dates of ``replies_of``)."""
        days = set(self.days)
        for chunk in chunks(self.replies_of):
            days.update(
                _utc_date(at) for at in session.execute(_REPLY_DAYS, {"ids": list(chunk)}).scalars()
            )
        mark_days(session, days)


def mark_days(session: Session, days: Iterable[date]) -> None:
    """Mark ``days`` (UTC dates) for the next refresh, each once."""
    wanted = sorted(set(days))
    owed = set(wanted)
    for chunk in chunks(wanted):
        owed.difference_update(session.execute(_MARKED, {"days": list(chunk)}).scalars())
    if owed:
        session.execute(insert(ROLLUP_DIRTY), [{"day": day} for day in sorted(owed)])


def mark_resolutions(session: Session, ids: Sequence[int]) -> None:
    """Mark the resolution dates of the in-scope resolved tickets among ``ids``: what a
    writer of values only the resolved population reads (the note sync's) owes."""
    days: set[date] = set()
    for chunk in chunks(ids):
        days.update(
            _utc_date(at) for at in session.execute(_RESOLUTIONS, {"ids": list(chunk)}).scalars()
        )
    mark_days(session, days)


def forget_totals(session: Session) -> None:
    """The totals are to be built again from every ticket at the next refresh: what a
    derivation of every ticket again owes (it may change any value of any day)."""
    session.execute(delete(ROLLUP_STATE))

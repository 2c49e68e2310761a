"""The note sync's side of the tickets table: which resolutions still need their notes read,
and storing what was decided from them (``first_contact``, docs/metrics.md, "Beyond Crewhu").

``first_contact`` is NULL until the notes of the ticket's current resolution have been read;
``storage.tickets.upsert_tickets`` sets it back to NULL whenever the resolution changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, select, true, update
from sqlmodel import Session

from storage.tables import TICKETS

_T = TICKETS.c


def tickets_needing_notes(session: Session, *, limit: int) -> list[tuple[int, datetime]]:
    """Up to ``limit`` resolved in-scope tickets whose notes were not read yet.

    Each as ``(id, resolved_at)``, the most recently resolved first: those are the ones the
    current standings count. Only tickets that can be in someone's R(m) (a resolver and a
    resolution time) are listed.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = (
        select(_T.id, _T.resolved_at)
        .where(
            _T.in_scope == true(),
            _T.resolver_key.is_not(None),
            _T.resolved_at.is_not(None),
            _T.first_contact.is_(None),
        )
        .order_by(_T.resolved_at.desc(), _T.id.desc())
        .limit(limit)
    )
    return [(ticket_id, resolved_at) for ticket_id, resolved_at in session.execute(query)]


def set_first_contact(session: Session, *, values: Mapping[int, bool]) -> None:
    """Store the first-contact decision of each ticket id; unknown ids are ignored."""
    if not values:
        return
    statement = (
        update(TICKETS)
        .where(_T.id == bindparam("ticket_id"))
        .values(first_contact=bindparam("value"))
    )
    rows = [{"ticket_id": ticket_id, "value": value} for ticket_id, value in values.items()]
    session.execute(statement, rows)

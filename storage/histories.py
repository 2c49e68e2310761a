"""Reading tickets' status histories back (docs/metrics.md, "Status history and reopens")."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlmodel import Session

from metrics.records import StatusChange
from storage.bulk import chunks
from storage.tables import STATUS_CHANGES

_HISTORIES_BY_ID = (
    select(
        STATUS_CHANGES.c.ticket_id,
        STATUS_CHANGES.c.at,
        STATUS_CHANGES.c.from_status,
        STATUS_CHANGES.c.to_status,
    )
    .where(STATUS_CHANGES.c.ticket_id.in_(bindparam("ids", expanding=True)))
    .order_by(STATUS_CHANGES.c.ticket_id, STATUS_CHANGES.c.at, STATUS_CHANGES.c.id)
)


def load_histories(session: Session, ids: Sequence[int]) -> dict[int, list[StatusChange]]:
    """The status changes of each ticket of ``ids`` that has any, oldest first."""
    histories: dict[int, list[StatusChange]] = {}
    for chunk in chunks(ids):
        rows = session.execute(_HISTORIES_BY_ID, {"ids": list(chunk)})
        for ticket_id, at, from_status, to_status in rows:
            histories.setdefault(ticket_id, []).append(
                StatusChange(ticket_id, at, from_status, to_status)
            )
    return histories

"""Kudos and nudges as decided, so that none is sent twice.

A nudge asks a ticket's resolver to fix one thing about it (``reason``: uncategorized, no
agreement, Catchall company, ...); there is at most one per ticket and reason, ever. Its
``status`` goes pending (decided) → sent (in the DM digest ``outbox_key``) → fixed or
dismissed. A kudos row marks a ticket whose resolution was celebrated, at most once per
ticket; ``outbox_key`` is set when it is queued (at once, or in the day's digest).

Nothing here commits: the caller's ``storage.db.session_scope`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from storage.bulk import chunks, dialect_insert
from storage.tables import KUDOS, NUDGES, TICKETS

NudgeStatus = Literal["pending", "sent", "fixed", "dismissed"]
NUDGE_STATUSES: tuple[str, ...] = get_args(NudgeStatus)
CLOSED_STATUSES: tuple[str, ...] = ("fixed", "dismissed")
"""The statuses ``set_nudge_status`` sets: the end of a nudge."""

_N = NUDGES.c
_K = KUDOS.c


@dataclass(frozen=True, slots=True)
class NudgeRow:
    id: int
    ticket_id: int
    reason: str
    member_key: str
    created_at: datetime
    status: NudgeStatus
    sent_at: datetime | None
    outbox_key: str | None
    fixed_by: str | None  # who fixed or dismissed it


@dataclass(frozen=True, slots=True)
class KudosRow:
    ticket_id: int
    member_key: str
    resolved_at: datetime
    created_at: datetime
    outbox_key: str | None


_NUDGE_COLUMNS = (
    _N.id,
    _N.ticket_id,
    _N.reason,
    _N.member_key,
    _N.created_at,
    _N.status,
    _N.sent_at,
    _N.outbox_key,
    _N.fixed_by,
)
_KUDOS_COLUMNS = (_K.ticket_id, _K.member_key, _K.resolved_at, _K.created_at, _K.outbox_key)


def _nudge(row: RowMapping) -> NudgeRow:
    return NudgeRow(
        id=row["id"],
        ticket_id=row["ticket_id"],
        reason=row["reason"],
        member_key=row["member_key"],
        created_at=row["created_at"],
        status=cast(NudgeStatus, row["status"]),
        sent_at=row["sent_at"],
        outbox_key=row["outbox_key"],
        fixed_by=row["fixed_by"],
    )


def _kudos(row: RowMapping) -> KudosRow:
    return KudosRow(**{column.name: row[column.name] for column in _KUDOS_COLUMNS})


# ---- nudges ---------------------------------------------------------------------------------


def record_nudges(
    session: Session, *, items: Sequence[tuple[int, str, str]], at: datetime
) -> list[NudgeRow]:
    """Record pending nudges, each ``(ticket_id, reason, member_key)``; returns the new ones.

    A ticket already nudged for a reason (whatever became of that nudge, and whoever it was
    for) is skipped, so a ticket is never nudged twice for the same reason; within ``items``
    the first of two equal ``(ticket_id, reason)`` counts. New rows come back in the order
    given. ``INSERT ... ON CONFLICT DO NOTHING`` makes this safe against a concurrent run.
    """
    first: dict[tuple[int, str], str] = {}
    for ticket_id, reason, member_key in items:
        first.setdefault((ticket_id, reason), member_key)
    statement = (
        dialect_insert(session, NUDGES)
        .on_conflict_do_nothing(index_elements=["ticket_id", "reason"])
        .returning(*_NUDGE_COLUMNS)
    )
    recorded: list[NudgeRow] = []
    for (ticket_id, reason), member_key in first.items():
        row = {
            "ticket_id": ticket_id,
            "reason": reason,
            "member_key": member_key,
            "created_at": at,
            "status": "pending",
            "sent_at": None,
            "outbox_key": None,
            "fixed_by": None,
            "updated_at": at,
        }
        # One statement per nudge: a RETURNING row then means "this one is new".
        inserted = session.execute(statement, row).mappings().first()
        if inserted is not None:
            recorded.append(_nudge(inserted))
    return recorded


def pending_nudges(session: Session, *, member_key: str | None = None) -> list[NudgeRow]:
    """Nudges decided but not sent yet (of ``member_key``, or everyone's), by member and ticket."""
    query = select(*_NUDGE_COLUMNS).where(_N.status == "pending")
    if member_key is not None:
        query = query.where(_N.member_key == member_key)
    query = query.order_by(_N.member_key, _N.ticket_id, _N.id)
    return [_nudge(row) for row in session.execute(query).mappings()]


def nudges_for_ticket(session: Session, *, ticket_id: int) -> list[NudgeRow]:
    """Every nudge of the ticket, whatever its status, in the order they were recorded."""
    query = select(*_NUDGE_COLUMNS).where(_N.ticket_id == ticket_id).order_by(_N.id)
    return [_nudge(row) for row in session.execute(query).mappings()]


def mark_nudges_sent(
    session: Session, *, ids: Sequence[int], outbox_key: str, at: datetime
) -> None:
    """The nudges ``ids`` went out in the digest ``outbox_key`` (queued at ``at``).

    Only pending nudges change: one fixed or dismissed meanwhile stays so.
    """
    for chunk in chunks(list(ids)):
        statement = (
            update(NUDGES)
            .where(_N.id.in_(chunk), _N.status == "pending")
            .values(status="sent", sent_at=at, outbox_key=outbox_key, updated_at=at)
        )
        session.execute(statement)


def set_nudge_status(
    session: Session, *, ticket_id: int, status: str, by: str | None, at: datetime
) -> int:
    """Close every open nudge of the ticket as "fixed" or "dismissed" by ``by``.

    The ticket's nudges already fixed or dismissed keep their status and ``fixed_by``.
    Returns how many nudges changed (0: nothing was open, e.g. a button pressed twice).
    """
    if status not in CLOSED_STATUSES:
        raise ValueError(f"a nudge can be set to one of {CLOSED_STATUSES}, got {status!r}")
    statement = (
        update(NUDGES)
        .where(_N.ticket_id == ticket_id, _N.status.not_in(CLOSED_STATUSES))
        .values(status=status, fixed_by=by, updated_at=at)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


def last_nudge_digest(session: Session, *, member_key: str) -> datetime | None:
    """When the member's latest nudge digest was queued; None if never (one a day at most)."""
    query = select(func.max(_N.sent_at)).where(_N.member_key == member_key)
    return session.execute(query).scalar_one()


# ---- kudos ----------------------------------------------------------------------------------


def record_kudos(
    session: Session, *, ticket_id: int, member_key: str, resolved_at: datetime, at: datetime
) -> bool:
    """Record kudos for the ticket's resolution; False, with nothing written, if it had some."""
    row = {
        "ticket_id": ticket_id,
        "member_key": member_key,
        "resolved_at": resolved_at,
        "created_at": at,
        "outbox_key": None,
    }
    statement = (
        dialect_insert(session, KUDOS)
        .on_conflict_do_nothing(index_elements=["ticket_id"])
        .returning(_K.ticket_id)
    )
    return session.execute(statement, row).first() is not None


def unsent_kudos(session: Session, *, resolved_since: datetime) -> list[KudosRow]:
    """Kudos recorded but not queued yet for resolutions at or after ``resolved_since``,
    oldest first (the instant kudos still to post, or the digest's content)."""
    query = (
        select(*_KUDOS_COLUMNS)
        .where(_K.outbox_key.is_(None), _K.resolved_at >= resolved_since)
        .order_by(_K.created_at, _K.ticket_id)
    )
    return [_kudos(row) for row in session.execute(query).mappings()]


def recent_kudos(session: Session, *, since: datetime, limit: int) -> list[KudosRow]:
    """The latest kudos earned for resolutions at or after ``since``, newest first (the
    wallboard's ticker)."""
    query = (
        select(*_KUDOS_COLUMNS)
        .where(_K.resolved_at >= since)
        .order_by(_K.resolved_at.desc(), _K.ticket_id.desc())
        .limit(limit)
    )
    return [_kudos(row) for row in session.execute(query).mappings()]


def kudos_queued(session: Session, *, member_key: str, since: datetime, prefix: str) -> int:
    """How many of the member's kudos recorded from ``since`` on were queued under an outbox
    key starting with ``prefix`` (``kudos:``: posted one by one): what the daily cap counts."""
    query = (
        select(func.count())
        .select_from(KUDOS)
        .where(
            _K.member_key == member_key,
            _K.created_at >= since,
            _K.outbox_key.startswith(prefix, autoescape=True),
        )
    )
    return session.execute(query).scalar_one()


def mark_kudos_queued(session: Session, *, ticket_ids: Sequence[int], outbox_key: str) -> None:
    """The kudos of ``ticket_ids`` were queued as ``outbox_key``; already queued ones stay."""
    for chunk in chunks(list(ticket_ids)):
        statement = (
            update(KUDOS)
            .where(_K.ticket_id.in_(chunk), _K.outbox_key.is_(None))
            .values(outbox_key=outbox_key)
        )
        session.execute(statement)


def unjudged_resolutions(session: Session, *, since: datetime, limit: int) -> list[int]:
    """Up to ``limit`` tickets resolved (by someone) at or after ``since`` whose current
    resolution has not been judged for kudos and nudges yet, oldest resolution first."""
    query = (
        select(TICKETS.c.id)
        .where(
            TICKETS.c.judged_at.is_(None),
            TICKETS.c.resolved_at >= since,
            TICKETS.c.resolver_key.is_not(None),
        )
        .order_by(TICKETS.c.resolved_at, TICKETS.c.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def mark_judged(session: Session, *, ticket_ids: Sequence[int], at: datetime) -> None:
    """The current resolutions of ``ticket_ids`` were judged at ``at``."""
    for chunk in chunks(list(ticket_ids)):
        statement = update(TICKETS).where(TICKETS.c.id.in_(chunk)).values(judged_at=at)
        session.execute(statement)

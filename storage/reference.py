"""Reference data read from the PSA: boards, their statuses and members."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, true
from sqlmodel import Session

from metrics.records import Board, BoardStatus, Member
from storage.bulk import chunks, upsert_rows
from storage.tables import BOARD_STATUSES, BOARDS, MEMBERS


def upsert_boards(session: Session, *, boards: Sequence[Board]) -> None:
    rows = [{"id": b.id, "name": b.name, "inactive": b.inactive} for b in boards]
    upsert_rows(session, BOARDS, rows)


def list_boards(session: Session) -> list[Board]:
    c = BOARDS.c
    query = select(c.id, c.name, c.inactive).order_by(c.id)
    return [Board(id, name, inactive) for id, name, inactive in session.execute(query)]


def upsert_board_statuses(session: Session, *, statuses: Sequence[BoardStatus]) -> None:
    rows = [
        {
            "board_id": s.board_id,
            "id": s.id,
            "name": s.name,
            "closed": s.closed,
            "escalation_status": s.escalation_status,
        }
        for s in statuses
    ]
    upsert_rows(session, BOARD_STATUSES, rows)


def list_board_statuses(session: Session) -> list[BoardStatus]:
    c = BOARD_STATUSES.c
    query = select(c.board_id, c.id, c.name, c.closed, c.escalation_status).order_by(
        c.board_id, c.id
    )
    return [BoardStatus(*row) for row in session.execute(query)]


def upsert_members(session: Session, *, members: Sequence[Member]) -> None:
    """Store members by id. A member key is unique: whoever held it before gives it up.

    (ConnectWise may delete a member and create a new one with the same identifier.)
    """
    by_key: dict[str, Member] = {}
    for member in members:
        if member.key:
            by_key[member.key] = member
    if not by_key:
        return
    c = MEMBERS.c
    keys = list(by_key)
    ids = [m.id for m in by_key.values()]
    for chunk in chunks(keys):
        session.execute(delete(MEMBERS).where(c.key.in_(chunk)))
    for chunk in chunks(ids):
        session.execute(delete(MEMBERS).where(c.id.in_(chunk)))
    rows = [
        {
            "id": m.id,
            "identifier": m.identifier,
            "key": key,
            "name": m.name,
            "email": m.email,
            "inactive": m.inactive,
        }
        for key, m in by_key.items()
    ]
    session.execute(insert(MEMBERS), rows)


def list_members(session: Session) -> list[Member]:
    c = MEMBERS.c
    query = select(c.id, c.identifier, c.name, c.email, c.inactive).order_by(c.key)
    return [Member(*row) for row in session.execute(query)]


def inactive_member_keys(session: Session) -> frozenset[str]:
    """The keys of members ConnectWise marks inactive."""
    rows = session.execute(select(MEMBERS.c.key).where(MEMBERS.c.inactive == true())).all()
    return frozenset(row[0] for row in rows)

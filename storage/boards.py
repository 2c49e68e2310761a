"""Wallboards (README "The wallboard"): created with the hash of a random token, found by that
hash, listed, revoked. Revoking sets ``revoked_at``; a revoked board is never found again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, insert, select, update
from sqlmodel import Session

from storage.bulk import dialect_insert
from storage.tables import LINK_KEYS, WALLBOARDS

_B = WALLBOARDS.c


@dataclass(frozen=True, slots=True)
class BoardRow:
    id: int
    name: str
    token_hash: str
    contests: tuple[str, ...]
    theme: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def _board(row: Any) -> BoardRow:
    m = row._mapping
    return BoardRow(
        id=m["id"],
        name=m["name"],
        token_hash=m["token_hash"],
        contests=tuple(m["contests"] or ()),
        theme=m["theme"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


def create_board(
    session: Session,
    *,
    name: str,
    token_hash: str,
    contests: Sequence[str],
    theme: str,
    actor: str,
    now: datetime,
) -> int:
    result = session.execute(
        insert(WALLBOARDS)
        .values(
            name=name,
            token_hash=token_hash,
            contests=list(contests),
            theme=theme,
            created_by=actor,
            created_at=now,
        )
        .returning(_B.id)
    )
    return int(result.scalar_one())


def live_board(session: Session, *, token_hash: str) -> BoardRow | None:
    """The board with this token hash, unless revoked."""
    row = session.execute(
        select(WALLBOARDS).where(_B.token_hash == token_hash, _B.revoked_at.is_(None))
    ).first()
    return None if row is None else _board(row)


def list_boards(session: Session, *, revoked: bool = False) -> list[BoardRow]:
    query = select(WALLBOARDS).order_by(_B.id)
    if not revoked:
        query = query.where(_B.revoked_at.is_(None))
    return [_board(r) for r in session.execute(query)]


def revoke_board(session: Session, *, board_id: int, now: datetime) -> bool:
    """False when there is no such live board."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(WALLBOARDS)
            .where(_B.id == board_id, _B.revoked_at.is_(None))
            .values(revoked_at=now)
        ),
    )
    return result.rowcount == 1


def link_key(session: Session, *, new_key: str, now: datetime) -> str:
    """The personal links' signing key: the stored one, or ``new_key`` stored now (a process
    that loses the race to store it reads the winner's)."""
    row = session.execute(select(LINK_KEYS.c.key).where(LINK_KEYS.c.id == 1)).first()
    if row is not None:
        return str(row[0])
    session.execute(
        dialect_insert(session, LINK_KEYS)
        .values(id=1, key=new_key, created_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    stored = session.execute(select(LINK_KEYS.c.key).where(LINK_KEYS.c.id == 1)).scalar_one()
    return str(stored)

"""The program (contests, scores, categories, kudos, nudges, members, alerts, admins) as
stored items, the audit list of their changes, and contests' results (README "Running a
contest"). Every change of an item writes its audit row in the same transaction; the
greatest audit id is the program's revision, which every process compares to notice a
change made elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlmodel import Session

from storage.tables import CONTEST_RESULTS, PROGRAM_CHANGES, PROGRAM_ITEMS

_I = PROGRAM_ITEMS.c
_C = PROGRAM_CHANGES.c
_R = CONTEST_RESULTS.c


@dataclass(frozen=True, slots=True)
class StoredItem:
    kind: str
    name: str
    position: int
    body: dict[str, Any]
    revision: int
    created_by: str
    created_at: datetime
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class ProgramChange:
    id: int
    at: datetime
    actor: str
    via: str
    action: str
    kind: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ContestResult:
    contest: str
    window_start: datetime
    window_end: datetime
    rules: dict[str, Any]
    winners: tuple[str, ...]
    decided_at: datetime


class StaleRevision(Exception):
    """The item changed (or went) since the revision the caller edited."""

    def __init__(self, *, changed_by: str | None, changed_at: datetime | None) -> None:
        super().__init__(f"changed by {changed_by} at {changed_at}")
        self.changed_by = changed_by
        self.changed_at = changed_at


def _item(row: Any) -> StoredItem:
    m = row._mapping
    return StoredItem(
        kind=m["kind"],
        name=m["name"],
        position=m["position"],
        body=dict(m["body"]),
        revision=m["revision"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        changed_by=m["changed_by"],
        changed_at=m["changed_at"],
    )


def program_revision(session: Session) -> int:
    """The id of the latest change; 0 when the program was never stored."""
    return int(session.execute(select(func.max(_C.id))).scalar() or 0)


def list_items(session: Session) -> list[StoredItem]:
    rows = session.execute(select(PROGRAM_ITEMS).order_by(_I.kind, _I.position, _I.name))
    return [_item(r) for r in rows]


def get_item(session: Session, *, kind: str, name: str) -> StoredItem | None:
    row = session.execute(select(PROGRAM_ITEMS).where(_I.kind == kind, _I.name == name)).first()
    return None if row is None else _item(row)


def next_position(session: Session, *, kind: str) -> int:
    top = session.execute(select(func.max(_I.position)).where(_I.kind == kind)).scalar()
    return 0 if top is None else int(top) + 1


def _audit(
    session: Session,
    *,
    now: datetime,
    actor: str,
    via: str,
    action: str,
    kind: str,
    name: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.execute(
        insert(PROGRAM_CHANGES).values(
            at=now,
            actor=actor,
            via=via,
            action=action,
            kind=kind,
            name=name,
            before=before,
            after=after,
        )
    )


def _at_revision(
    session: Session, *, kind: str, name: str, expected_revision: int | None
) -> StoredItem:
    """The item, provided it is at ``expected_revision`` (None: any); ``StaleRevision``
    naming who changed it last otherwise (or nobody, when it is gone)."""
    current = get_item(session, kind=kind, name=name)
    if current is None or (expected_revision is not None and current.revision != expected_revision):
        raise StaleRevision(
            changed_by=None if current is None else current.changed_by,
            changed_at=None if current is None else current.changed_at,
        )
    return current


def create_item(
    session: Session,
    *,
    kind: str,
    name: str,
    body: dict[str, Any],
    actor: str,
    via: str,
    now: datetime,
    position: int | None = None,
) -> None:
    """Store a new item (an ``IntegrityError`` when one of that name exists)."""
    session.execute(
        insert(PROGRAM_ITEMS).values(
            kind=kind,
            name=name,
            position=next_position(session, kind=kind) if position is None else position,
            body=body,
            revision=1,
            created_by=actor,
            created_at=now,
            changed_by=actor,
            changed_at=now,
        )
    )
    _audit(
        session,
        now=now,
        actor=actor,
        via=via,
        action="created",
        kind=kind,
        name=name,
        before=None,
        after=body,
    )


def update_item(
    session: Session,
    *,
    kind: str,
    name: str,
    body: dict[str, Any],
    expected_revision: int | None,
    actor: str,
    via: str,
    now: datetime,
    new_name: str | None = None,
    action: str = "changed",
    position: int | None = None,
) -> None:
    """Change an item (and rename it to ``new_name``), provided it is still at
    ``expected_revision`` (None: whatever it is); ``StaleRevision`` otherwise."""
    current = _at_revision(session, kind=kind, name=name, expected_revision=expected_revision)
    values: dict[str, Any] = {
        "name": new_name or name,
        "body": body,
        "revision": current.revision + 1,
        "changed_by": actor,
        "changed_at": now,
    }
    if position is not None:
        values["position"] = position
    done = cast(
        CursorResult[Any],
        session.execute(
            update(PROGRAM_ITEMS)
            .where(_I.kind == kind, _I.name == name, _I.revision == current.revision)
            .values(**values)
        ),
    )
    if done.rowcount != 1:  # another transaction got there between the read and the write
        raise StaleRevision(changed_by=None, changed_at=None)
    _audit(
        session,
        now=now,
        actor=actor,
        via=via,
        action=action,
        kind=kind,
        name=new_name or name,
        before=current.body if new_name is None else {**current.body, "name": name},
        after=body,
    )


def delete_item(
    session: Session,
    *,
    kind: str,
    name: str,
    expected_revision: int | None,
    actor: str,
    via: str,
    now: datetime,
) -> None:
    current = _at_revision(session, kind=kind, name=name, expected_revision=expected_revision)
    session.execute(
        delete(PROGRAM_ITEMS).where(
            _I.kind == kind, _I.name == name, _I.revision == current.revision
        )
    )
    _audit(
        session,
        now=now,
        actor=actor,
        via=via,
        action="deleted",
        kind=kind,
        name=name,
        before=current.body,
        after=None,
    )


def list_changes(session: Session, *, limit: int, kind: str | None = None) -> list[ProgramChange]:
    """The latest ``limit`` changes, newest first."""
    query = select(PROGRAM_CHANGES).order_by(_C.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(_C.kind == kind)
    return [
        ProgramChange(
            id=m["id"],
            at=m["at"],
            actor=m["actor"],
            via=m["via"],
            action=m["action"],
            kind=m["kind"],
            name=m["name"],
            before=m["before"],
            after=m["after"],
        )
        for m in (r._mapping for r in session.execute(query))
    ]


def latest_via(session: Session) -> str | None:
    """How the program was last changed ("file", "slack"...), None when never stored."""
    row = session.execute(select(_C.via).order_by(_C.id.desc()).limit(1)).first()
    return None if row is None else str(row[0])


def record_result(
    session: Session,
    *,
    contest: str,
    window_start: datetime,
    window_end: datetime,
    rules: dict[str, Any],
    winners: Sequence[str],
    now: datetime,
) -> bool:
    """Keep a window's winners with the rules they were decided under, once: False when that
    window's result is already kept (it is never rewritten)."""
    exists = session.execute(
        select(_R.contest).where(_R.contest == contest, _R.window_start == window_start)
    ).first()
    if exists is not None:
        return False
    session.execute(
        insert(CONTEST_RESULTS).values(
            contest=contest,
            window_start=window_start,
            window_end=window_end,
            rules=rules,
            winners=list(winners),
            decided_at=now,
        )
    )
    return True


def contest_results(session: Session, *, contest: str, limit: int = 10) -> list[ContestResult]:
    rows = session.execute(
        select(CONTEST_RESULTS)
        .where(_R.contest == contest)
        .order_by(_R.window_start.desc())
        .limit(limit)
    )
    return [
        ContestResult(
            contest=m["contest"],
            window_start=m["window_start"],
            window_end=m["window_end"],
            rules=dict(m["rules"]),
            winners=tuple(m["winners"]),
            decided_at=m["decided_at"],
        )
        for m in (r._mapping for r in rows)
    ]

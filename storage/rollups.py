"""Day totals: each technician's in-scope tickets per local day, kept beside the tickets so
that a year's standings read a few hundred thousand small rows instead of half a million
tickets (docs/architecture.md, "How the pieces meet").

``member_days`` holds, per population (resolved, responded, replies), local day of the
configured time zone, member and ``category_mask``: how many rows, how many of them have
each true/false column of ``tables.ROLLUP_FLAGS``, and the sum and count of values of each
numeric column the means read. A window of whole local days then reads the sums of its
days; its numbers are exactly the tickets' (``tests/storage/test_rollups.py`` keeps both
equal to the plain-Python reference through reopens, late changes and configuration
changes).

Every write records in ``rollup_dirty``, in its own transaction, the UTC dates it touched,
old and new: the writers of tickets themselves (``storage.rollup_marks``), triggers on
``ticket_notes`` and ``ratings`` (migration 0015) for the replies and the ratings; a
derivation of every ticket again asks for the totals to be built again. ``refresh`` takes
those dates and computes the local days around each (a UTC date overlaps three local dates
at most) again from the tickets, in one transaction: delete the days' rows, insert them
again. Refreshes run one at a time (SQLite's write lock; a PostgreSQL advisory lock), so
two processes never interleave theirs. Built for another time zone (or never), the totals
are built again from the start: that is the first read after an upgrade, or after
``[timezone]`` changed.

A reader uses the totals only when its own snapshot has no date waiting (``usable_days``),
so what it reads is always exactly the tickets it would have read; otherwise it reads the
tickets as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
)
from sqlmodel import Session

from metrics.definitions import Population
from metrics.windows import Window
from storage import populations
from storage.bulk import dialect_insert
from storage.db import session_scope, write_scope
from storage.tables import (
    MEMBER_DAYS,
    ROLLUP_DIRTY,
    ROLLUP_FLAGS,
    ROLLUP_REPLY_MEANS,
    ROLLUP_STATE,
    ROLLUP_TICKET_MEANS,
    TICKET_NOTES,
    TICKETS,
)

log = logging.getLogger(__name__)

ROLLUP_LOCK = 0x726F6C6C  # "roll": held by a refresh on PostgreSQL
POPULATIONS = (Population.RESOLVED, Population.RESPONDED, Population.REPLIES)
FLAGS: dict[Population, tuple[str, ...]] = {
    Population.RESOLVED: ROLLUP_FLAGS,
    Population.RESPONDED: (),
    Population.REPLIES: (),
}
"""The true/false values each population's totals count (0 elsewhere)."""
MEANS: dict[Population, tuple[str, ...]] = {
    Population.RESOLVED: ROLLUP_TICKET_MEANS,
    Population.RESPONDED: tuple(f for f in ROLLUP_TICKET_MEANS if f.startswith("response_min_")),
    Population.REPLIES: ROLLUP_REPLY_MEANS,
}
"""The values whose sums and counts each population's totals keep (0 elsewhere). The
responded population keeps what its one metric reads (the response times), so an old open
ticket's update owes its response's date only when those change
(``rollup_marks.RESPONSE_COLUMNS``)."""
TRIGGERS: tuple[tuple[str, str], ...] = (
    ("rollup_ratings_insert", "ratings"),
    ("rollup_ratings_update", "ratings"),
    ("rollup_ratings_delete", "ratings"),
    ("rollup_notes_insert", "ticket_notes"),
    ("rollup_notes_update", "ticket_notes"),
    ("rollup_notes_delete", "ticket_notes"),
)
"""The triggers that mark dates, by name and table (migration 0015; 0016 dropped those on
``tickets``, whose writers mark their own dates: ``storage.rollup_marks``)."""
CHUNK_DAYS = 400  # days per query: a few hundred bound instants at most

_T = TICKETS.c
_N = TICKET_NOTES.c
_D = MEMBER_DAYS.c


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def whole_days(window: Window) -> tuple[ZoneInfo, int, int] | None:
    """The window's zone and its local days as ordinals ``[first, end)``, when it runs from
    a local midnight to a local midnight of a named zone; otherwise None."""
    tz = window.start.tzinfo
    if not isinstance(tz, ZoneInfo):
        return None
    first = window.start.astimezone(tz).date()
    after = window.end.astimezone(tz).date()
    start, end = window.utc()
    if _midnight(first, tz) != start or _midnight(after, tz) != end:
        return None
    return tz, first.toordinal(), after.toordinal()


def usable_days(session: Session, window: Window) -> tuple[int, int] | None:
    """``[first, end)`` day ordinals to read ``window`` from the totals, or None when they
    cannot answer it exactly in this session's snapshot: not whole local days, totals kept
    for another zone (or not built), or a date waiting for a refresh."""
    days = whole_days(window)
    if days is None:
        return None
    tz, first, end = days
    return (first, end) if _current(session, tz) else None


def _kept_zone(session: Session) -> str | None:
    return session.execute(select(ROLLUP_STATE.c.timezone)).scalar_one_or_none()


def _current(session: Session, tz: ZoneInfo) -> bool:
    """Whether the totals are kept for ``tz`` with no date waiting, in this snapshot."""
    if _kept_zone(session) != tz.key:
        return False
    return session.execute(select(ROLLUP_DIRTY.c.id).limit(1)).first() is None


def refresh(engine: Engine, *, tz: ZoneInfo) -> None:
    """Bring the day totals up to date for ``tz`` (see the module docstring)."""
    with session_scope(engine) as session:
        if _current(session, tz):
            return
    with write_scope(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SELECT pg_advisory_xact_lock({ROLLUP_LOCK})"))
        kept = _kept_zone(session)
        marked = session.execute(delete(ROLLUP_DIRTY).returning(ROLLUP_DIRTY.c.day)).scalars().all()
        if kept != tz.key:
            _rebuild(session, tz=tz)
            return
        local = {day.toordinal() + shift for day in set(marked) for shift in (-1, 0, 1)}
        for first, last in _runs(sorted(local)):
            _recompute(session, tz=tz, first=first, last=last)


def refresh_for(engine: Engine, window: Window) -> None:
    """``refresh`` for the zone of ``window``, when the totals could answer it at all: what
    a reader calls before it opens the session its standings are read in."""
    days = whole_days(window)
    if days is not None:
        refresh(engine, tz=days[0])


def _runs(ordinals: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive ordinals as inclusive ``(first, last)`` runs of at most ``CHUNK_DAYS``."""
    run: list[int] = []
    for ordinal in ordinals:
        if run and (ordinal != run[-1] + 1 or len(run) == CHUNK_DAYS):
            yield run[0], run[-1]
            run = []
        run.append(ordinal)
    if run:
        yield run[0], run[-1]


def _rebuild(session: Session, *, tz: ZoneInfo) -> None:
    session.execute(delete(MEMBER_DAYS))
    moments = [
        *session.execute(
            select(func.min(_T.resolved_at), func.max(_T.resolved_at)).where(
                _T.in_scope == true(), _T.resolver_key.is_not(None)
            )
        ).one(),
        *session.execute(
            select(func.min(_T.responded_at), func.max(_T.responded_at)).where(
                _T.in_scope == true(), _T.responder_key.is_not(None)
            )
        ).one(),
        *session.execute(
            select(func.min(_N.created_at), func.max(_N.created_at)).where(
                _N.reply_since.is_not(None)
            )
        ).one(),
    ]
    known = [_aware(m).astimezone(tz).date().toordinal() for m in moments if m is not None]
    if known:
        for first, last in _runs(list(range(min(known), max(known) + 1))):
            _recompute(session, tz=tz, first=first, last=last)
    insert_state = dialect_insert(session, ROLLUP_STATE).values(id=1, timezone=tz.key)
    session.execute(
        insert_state.on_conflict_do_update(
            index_elements=["id"], set_={"timezone": insert_state.excluded.timezone}
        )
    )
    log.info("day totals built for %s", tz.key)


def _aware(moment: Any) -> datetime:
    """A ``MIN``/``MAX`` of a timestamp column: SQLite gives the stored text back."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day_of(at: ColumnElement[Any], bounds: list[datetime], first: int) -> ColumnElement[Any]:
    """The local day (ordinal) of ``at``, known to lie in ``[bounds[0], bounds[-1])``, where
    ``bounds[i]`` is the local midnight beginning day ``first + i``: a binary search written
    as nested ``CASE``s, the same SQL on both databases and exact across DST changes."""

    def search(lo: int, hi: int) -> ColumnElement[Any]:
        if hi - lo == 1:
            return literal_column(str(first + lo), Integer)
        mid = (lo + hi) // 2
        return case((at < bounds[mid], search(lo, mid)), else_=search(mid, hi))

    return search(0, len(bounds) - 1)


def _recompute(session: Session, *, tz: ZoneInfo, first: int, last: int) -> None:
    """Compute local days ``first`` … ``last`` (ordinals) again from the tickets."""
    session.execute(delete(MEMBER_DAYS).where(_D.day >= first, _D.day <= last))
    days = [date.fromordinal(o) for o in range(first, last + 2)]
    bounds = [_midnight(day, tz) for day in days]
    window = Window(bounds[0], bounds[-1])
    long = bounds[-1] - bounds[0] > populations.LONG_WINDOW
    scan = session.get_bind().dialect.name == "postgresql" and long
    for population in POPULATIONS:
        session.execute(_recomputed(population, window, bounds, first, scan=scan))


def _recomputed(
    population: Population, window: Window, bounds: list[datetime], first: int, *, scan: bool
) -> Any:
    """``INSERT INTO member_days SELECT …``: the population's rows of ``window`` grouped by
    member, local day and categories."""
    if population is Population.REPLIES:
        source = populations.replies(window, scan=scan)
        at: ColumnElement[Any] = _N.created_at
        values: dict[str, ColumnElement[Any]] = {f"v_{f}": _N[f] for f in ROLLUP_REPLY_MEANS}
    else:
        key, at = (
            (_T.resolver_key, _T.resolved_at)
            if population is Population.RESOLVED
            else (_T.responder_key, _T.responded_at)
        )
        source = populations.windowed(key, at, window, scan=scan)
        values = {
            f"f_{flag}": case((populations.ticket_flag(flag), 1), else_=0)
            for flag in FLAGS[population]
        }
        values.update({f"v_{field}": _T[field] for field in MEANS[population]})
    rows = (
        select(
            source.member.label("member_key"),
            _day_of(at, bounds, first).label("day"),
            _T.category_mask.label("category_mask"),
            *(value.label(name) for name, value in values.items()),
        )
        .select_from(source.from_clause)
        .where(*source.conditions)
        .subquery("rows")
    )
    r = rows.c
    means = MEANS[population]
    totals: dict[str, ColumnElement[Any]] = {
        "population": literal(population.value),
        "day": r.day,
        "member_key": r.member_key,
        "category_mask": r.category_mask,
        "n": func.count(),
    }
    for flag in ROLLUP_FLAGS:
        counted = r.get(f"f_{flag}")
        totals[flag] = literal(0) if counted is None else func.sum(counted)
    for field in ROLLUP_TICKET_MEANS + ROLLUP_REPLY_MEANS:
        if field in means:
            totals[f"{field}_sum"] = func.coalesce(func.sum(r[f"v_{field}"]), 0.0)
            totals[f"{field}_n"] = func.count(r[f"v_{field}"])
        else:
            totals[f"{field}_sum"] = literal(0.0)
            totals[f"{field}_n"] = literal(0)
    grouped = select(*(value.label(name) for name, value in totals.items())).group_by(
        r.member_key, r.day, r.category_mask
    )
    return insert(MEMBER_DAYS).from_select(list(totals), grouped)

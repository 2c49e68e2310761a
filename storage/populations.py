"""Where each windowed population's rows come from and whom each one counts for: shared by
the standings (``storage.standings``) and the day totals (``storage.rollups``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CTE, Column, ColumnElement, FromClause, exists, func, select, true

from metrics.windows import Window
from storage.tables import RATINGS, TICKET_NOTES, TICKETS

_T = TICKETS.c
_N = TICKET_NOTES.c
_R = RATINGS.c

LONG_WINDOW = timedelta(days=93)
"""Longer than a quarter: PostgreSQL reads such a window's tickets faster in one scan of the
table than one technician's index range after another (random reads of the rows); SQLite
does not."""


def ticket_flag(field: str) -> ColumnElement[bool]:
    """A ticket's true/false ``field`` as a condition: whether it has a rating (``rated``) or
    a boolean column of the ticket."""
    if field == "rated":
        return exists().where(_R.ticket_id == _T.id)
    return _T[field] == true()


@dataclass(frozen=True, slots=True)
class Source:
    """Where a population's tickets come from and whom each one counts for."""

    from_clause: FromClause
    member: ColumnElement[Any]
    conditions: tuple[ColumnElement[bool], ...]


def member_keys(key: Column[Any]) -> CTE:
    """The distinct members in ``key``, found one index seek per member (a "loose index
    scan": each step takes the smallest key above the previous one).

    The populations group by member over a time window and the index is (member, time):
    as a plain ``GROUP BY`` that reads the whole index, every member's tickets of every
    year, unless the database knows how few members there are (SQLite only skips through
    the index after ``ANALYZE``; PostgreSQL not at all). Joined to these keys instead, each
    member's window is one range of the index.
    """
    keys = select(func.min(key).label("k")).cte(f"{key.name}s", recursive=True)
    following = select(func.min(key)).where(key > keys.c.k).scalar_subquery()
    return keys.union_all(select(following).where(keys.c.k.is_not(None)))


def replies(window: Window, *, scan: bool) -> Source:
    """The replies (``ticket_notes`` with ``reply_since``) written in ``window`` on in-scope
    tickets, by their author."""
    start, end = window.utc()
    conditions = (
        _T.in_scope == true(),
        _N.created_at >= start,
        _N.created_at < end,
        _N.reply_since.is_not(None),
    )
    if scan:
        notes = TICKET_NOTES.join(TICKETS, _T.id == _N.ticket_id)
        return Source(notes, _N.member_key, (*conditions, _N.member_key.is_not(None)))
    keys = member_keys(_N.member_key)
    joined = keys.join(TICKET_NOTES, _N.member_key == keys.c.k).join(TICKETS, _T.id == _N.ticket_id)
    return Source(joined, _N.member_key, conditions)


def windowed(key: Column[Any], at: Column[Any], window: Window, *, scan: bool) -> Source:
    """The in-scope tickets whose ``at`` lies in ``window``, by ``key`` (the resolver's or
    the responder's)."""
    start, end = window.utc()  # bound through UTCDateTime, exactly like the stored values
    if scan:
        conditions = (_T.in_scope == true(), key.is_not(None), at >= start, at < end)
        return Source(TICKETS, key, conditions)
    keys = member_keys(key)
    return Source(
        keys.join(TICKETS, key == keys.c.k), key, (_T.in_scope == true(), at >= start, at < end)
    )

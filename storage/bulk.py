"""Bulk statements shared by the repository modules: chunked ``IN`` lists and upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from storage.utc import UTCDateTime, refuse_naive, sqlite_text

IN_CHUNK = 500
"""Ids per ``IN (...)`` list: well below every database's limit on bound parameters."""


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dialect_insert(session: Session, table: Table) -> Any:
    """``INSERT`` of the session's dialect, which offers ``on_conflict_do_update``."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise ValueError(f"unsupported database {name!r}: Deskboard runs on SQLite or PostgreSQL")


def upsert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, replacing every column of rows whose primary key already exists."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = dialect_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
    )
    session.execute(stmt, list(rows))


_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
"""The positional parameter marker of each driver's paramstyle (sqlite3: ``qmark``;
psycopg: ``pyformat``, which takes ``%s`` with a tuple of values)."""


@lru_cache(maxsize=64)
def _driver_statement(
    table: Table, columns: tuple[str, ...], upsert: bool, dialect: Dialect
) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """The ``INSERT`` (``ON CONFLICT DO UPDATE`` when ``upsert``) of ``columns`` with the
    driver's positional markers, and the positions of the ``UTCDateTime`` and of the
    ``Boolean`` columns."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join(_MARKERS[dialect.paramstyle] for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
    if upsert:
        keys = [c.name for c in table.primary_key.columns]
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in columns if n not in keys)
        sql += f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
    types = [table.c[name].type for name in columns]
    stamps = tuple(i for i, kind in enumerate(types) if isinstance(kind, UTCDateTime))
    flags = tuple(i for i, kind in enumerate(types) if isinstance(kind, Boolean))
    return sql, stamps, flags


def _sqlite_values(
    rows: Sequence[Sequence[Any]], stamps: tuple[int, ...], flags: tuple[int, ...]
) -> list[tuple[Any, ...]]:
    """The rows as SQLAlchemy would bind them on SQLite: timestamps as ``UTCDateTime``
    text, booleans as 0 and 1 (the driver would store ``True`` as 1 as well, but only after
    a failed search for an adapter, which cost more than the rest of the row)."""
    text: Callable[[datetime], str] = sqlite_text
    converted: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        for i in stamps:
            value = values[i]
            if value is not None:  # sqlite_text's common case inline: a page has thousands
                fast = value.tzinfo is UTC
                values[i] = value.isoformat(" ", "microseconds")[:26] if fast else text(value)
        for i in flags:
            value = values[i]
            if value is not None:
                values[i] = 1 if value else 0
        converted.append(tuple(values))
    return converted


def _postgresql_values(
    rows: Sequence[Sequence[Any]], stamps: tuple[int, ...], flags: tuple[int, ...]
) -> list[tuple[Any, ...]]:
    """The rows as SQLAlchemy would bind them on PostgreSQL: timestamps aware (a naive one
    refused, as ``UTCDateTime`` refuses it; ``timestamptz`` keeps the instant), true/false
    values as ``bool``."""
    converted: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        for i in stamps:
            value = values[i]
            if value is not None and value.tzinfo is not UTC:
                refuse_naive(value)
        for i in flags:
            value = values[i]
            if value is not None and value.__class__ is not bool:
                values[i] = bool(value)
        converted.append(tuple(values))
    return converted


def write_rows(
    session: Session,
    *,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    upsert: bool = False,
) -> None:
    """Insert ``rows`` (value tuples in ``columns`` order); with ``upsert``, a row whose
    primary key exists replaces the stored one's ``columns``.

    The statement is built once and the rows go straight to the driver's ``executemany``:
    for a page of tickets, SQLAlchemy's per-value work (a dict per row, a bind processor
    per value) cost several times SQLite's own, and a third of PostgreSQL's store step. The
    values are converted as SQLAlchemy's column types would (``_sqlite_values``,
    ``_postgresql_values``; ``tests/storage/test_bulk.py`` holds the two paths to the same
    stored rows).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    sql, stamps, flags = _driver_statement(table, tuple(columns), upsert, dialect)
    convert = _sqlite_values if dialect.name == "sqlite" else _postgresql_values
    session.connection().exec_driver_sql(sql, convert(rows, stamps, flags))

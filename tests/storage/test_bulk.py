"""``storage.bulk.write_rows``: it hands value tuples straight to the driver (sqlite3 or
psycopg), and must store exactly what SQLAlchemy's own path (``upsert_rows``, with its column
types) stores; inserts, upserts and refusals behave the same on both databases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import StatementError

from storage.bulk import upsert_rows, write_rows
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import MEMBER_PREFS
from tests.databases import sqlite_only

COLUMNS = ("member_key", "opted_out", "updated_at")
CHICAGO = ZoneInfo("America/Chicago")
ROWS = [
    ("ana", True, datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),  # whole seconds
    ("bo", False, datetime(2026, 11, 2, 9, 30, 5, 123456, tzinfo=UTC)),  # microseconds
    # 08:15 in Chicago on Sunday 1 November 2026, after DST ended at 02:00 (CST, UTC-6),
    # is 14:15 UTC
    ("cy", True, datetime(2026, 11, 1, 8, 15, tzinfo=CHICAGO)),
]


def _stored(path: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT * FROM member_prefs ORDER BY member_key").fetchall()
    finally:
        connection.close()


def _engine(path: Path) -> Engine:
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    return engine


@sqlite_only("the stored text (naive UTC, 0/1 booleans) exists on SQLite alone")
def test_fast_path_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    fast, ordinary = _engine(tmp_path / "fast.db"), _engine(tmp_path / "ordinary.db")
    with session_scope(fast) as session:
        write_rows(session, table=MEMBER_PREFS, columns=COLUMNS, rows=ROWS, upsert=True)
    with session_scope(ordinary) as session:
        upsert_rows(session, MEMBER_PREFS, [dict(zip(COLUMNS, row, strict=True)) for row in ROWS])
    fast.dispose()
    ordinary.dispose()

    stored = _stored(tmp_path / "fast.db")
    assert stored == _stored(tmp_path / "ordinary.db")
    # Booleans as 0/1, timestamps as naive UTC text with microseconds (storage.utc).
    assert stored == [
        ("ana", 1, "2026-11-02 09:30:00.000000"),
        ("bo", 0, "2026-11-02 09:30:05.123456"),
        ("cy", 1, "2026-11-01 14:15:00.000000"),
    ]


def test_either_database_reads_back_what_sqlalchemy_stores(database_url: str) -> None:
    engine = create_engine_for(database_url)
    rows = [*ROWS, ("di", 0, datetime(2026, 11, 3, tzinfo=UTC))]  # an integer for a bool

    def stored() -> list[tuple[object, ...]]:
        with engine.connect() as connection:
            query = select(MEMBER_PREFS).order_by(MEMBER_PREFS.c.member_key)
            return [tuple(row) for row in connection.execute(query)]

    with session_scope(engine) as session:
        write_rows(session, table=MEMBER_PREFS, columns=COLUMNS, rows=rows, upsert=True)
    fast = stored()
    with session_scope(engine) as session:
        session.execute(MEMBER_PREFS.delete())
        upsert_rows(session, MEMBER_PREFS, [dict(zip(COLUMNS, row, strict=True)) for row in rows])
    assert stored() == fast
    engine.dispose()
    assert fast == [
        ("ana", True, datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),
        ("bo", False, datetime(2026, 11, 2, 9, 30, 5, 123456, tzinfo=UTC)),
        ("cy", True, datetime(2026, 11, 1, 14, 15, tzinfo=UTC)),
        ("di", False, datetime(2026, 11, 3, tzinfo=UTC)),
    ]
    assert all(type(row[1]) is bool and row[2].tzinfo is UTC for row in fast)


def test_upsert_replaces_the_stored_row_and_a_plain_insert_adds(database_url: str) -> None:
    engine = create_engine_for(database_url)
    later = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        write_rows(session, table=MEMBER_PREFS, columns=COLUMNS, rows=ROWS[:1])
        write_rows(
            session, table=MEMBER_PREFS, columns=COLUMNS, rows=[("ana", False, later)], upsert=True
        )
        write_rows(session, table=MEMBER_PREFS, columns=COLUMNS, rows=[])  # nothing to do
    with engine.connect() as connection:
        stored = [tuple(row) for row in connection.execute(select(MEMBER_PREFS))]
    engine.dispose()
    assert stored == [("ana", False, later)]


def test_a_naive_timestamp_is_refused(database_url: str) -> None:
    engine = create_engine_for(database_url)
    naive = [("ana", True, datetime(2026, 11, 2, 9, 30))]
    refused = pytest.raises((ValueError, StatementError), match="naive")
    with refused, session_scope(engine) as session:
        write_rows(session, table=MEMBER_PREFS, columns=COLUMNS, rows=naive)
    engine.dispose()

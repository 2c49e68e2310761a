"""Engines, migrations and sessions.

SQLite (the default, ``sqlite:///deskboard.db``) runs in WAL mode so readers never wait for
the sync's writer, with a 5 s busy timeout, foreign keys on and ``synchronous=NORMAL`` (safe
with WAL, and much faster than FULL). SQLAlchemy, not the ``sqlite3`` driver, emits BEGIN so
that a transaction covers reads and DDL too: an upsert's compare-then-write and a migration
are each atomic. PostgreSQL is used when the URL says so (``postgresql+psycopg://...``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

DEFAULT_DATABASE_URL = "sqlite:///deskboard.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

MIGRATION_LOCK = 0x6465736B  # "desk": the PostgreSQL advisory lock held while migrating
SYNC_LOCK = 0x73796E63  # "sync": held by a sync (one_at_a_time), so two never interleave
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


SQLITE_POOL = 20


def _is_in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if _is_in_memory(parsed.database):
        # One connection shared by every session, or each would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        # Connections are cheap to keep and dear to open (each runs the pragmas): enough
        # for the web's and the listeners' threads at once, so a burst (customers rating
        # together, 20 commands at a time) does not open and close overflow connections.
        engine = create_engine(url, pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_engine_for(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured as Deskboard needs it."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def integrity_problem(engine: Engine) -> str | None:
    """What SQLite's ``PRAGMA quick_check`` finds wrong with the file (its first finding),
    or None when it is sound or the database is not SQLite. It reads every page once: run
    it where a damaged file must not pass silently (a sync, ``status``, the bot's start)."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        found = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check(1)")]
    if found == ["ok"]:
        return None
    return " ".join(found[0].split()) if found else "quick_check answered nothing"


def alembic_config() -> Config:
    """Alembic's configuration of Deskboard's migrations (the connection is the caller's,
    in ``attributes["connection"]``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic ``upgrade head``); safe to repeat."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes may start at once; one migrates, the others wait and find
            # nothing left to do. (SQLite serialises writers by itself.)
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def one_at_a_time(engine: Engine, *, key: int) -> Iterator[None]:
    """Run the block in one process at a time among those sharing a PostgreSQL database,
    waiting for the others (a session-level advisory lock on a pooled connection held for
    the block). On SQLite there is one process and this does nothing."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({int(key)})")
        connection.commit()  # only the lock outlives this: no transaction stays open
        try:
            yield
        finally:
            try:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({int(key)})")
                connection.commit()
            except Exception:
                connection.invalidate()  # closing the session releases the lock
                raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed when the block succeeds and rolled back otherwise."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_IMMEDIATE = "deskboard_sqlite_immediate"
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(engine: Engine) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.Lock()
        return lock


@contextmanager
def write_scope(engine: Engine) -> Iterator[Session]:
    """``session_scope`` for a unit that reads and then writes what it read (an upsert that
    compares first) and may meet other writers at the same moment (the rating pages, whose
    customers click together).

    On SQLite a deferred transaction that has read cannot write once another connection has
    committed since its read: SQLite refuses at once (``SQLITE_BUSY_SNAPSHOT``, "database is
    locked"), and no busy timeout waits that out. So here the transaction takes SQLite's
    write lock when it begins (``BEGIN IMMEDIATE``), after this process's other write units
    (a lock per engine, which queues them without the busy handler's sleeps); another
    process still waits through the busy timeout. PostgreSQL needs neither: its row locks
    (``FOR UPDATE``) order such writers, so there this is ``session_scope``.
    """
    if engine.dialect.name != "sqlite":
        with session_scope(engine) as session:
            yield session
        return
    with (
        _write_lock(engine),
        session_scope(engine.execution_options(**{_IMMEDIATE: True})) as session,
    ):
        yield session

"""Engine settings, migrations, sessions and the UTC column type."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel

from metrics.derive import DeriveParams
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage import repo, rollups
from storage.db import (
    SYNC_LOCK,
    alembic_config,
    create_engine_for,
    migrate,
    one_at_a_time,
    session_scope,
    write_scope,
)
from storage.tables import RATINGS, TICKETS
from tests.databases import Databases, postgresql_only, sqlite_only
from tests.storage.helpers import nov, ticket_rows, upsert

TABLES = {"tickets", "status_changes", "members", "boards", "board_statuses", "sync_state"}
CHAT_TABLES = {"outbox", "chat_users", "member_prefs", "nudges", "kudos"}  # revision 0002
PLATFORM_TABLES = {"chat_conversations"}  # revision 0003
RATING_TABLES = {"ratings", "ticket_workers"}  # revision 0007
NOTE_TABLES = {"ticket_notes"}  # revision 0008
ALERT_TABLES = {"alert_events"}  # revision 0009
PROGRAM_TABLES = {"program_items", "program_changes", "contest_results"}  # revision 0010
BOARD_TABLES = {"wallboards", "link_keys"}  # revision 0011
TEAMS_TABLES = {"teams_accounts"}  # revision 0012
ROLLUP_TABLES = {"member_days", "rollup_dirty", "rollup_state"}  # revision 0015


def test_migrate_creates_every_table_and_index_on_an_empty_database(databases: Databases):
    engine = create_engine_for(databases.empty_url())
    migrate(engine)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == (
        TABLES
        | CHAT_TABLES
        | PLATFORM_TABLES
        | RATING_TABLES
        | NOTE_TABLES
        | ALERT_TABLES
        | PROGRAM_TABLES
        | BOARD_TABLES
        | TEAMS_TABLES
        | ROLLUP_TABLES
        | {"alembic_version"}
    )
    ticket_indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("tickets")}
    assert ticket_indexes == {
        "ix_tickets_resolver_scope": ["resolver_key", "resolved_at", "in_scope", "category_mask"],
        "ix_tickets_responder_key_responded_at": ["responder_key", "responded_at"],
        "ix_tickets_open_owner": ["is_open", "owner_key", "in_scope"],
        "ix_tickets_updated_at": ["updated_at"],
        "ix_tickets_judged_at_resolved_at": ["judged_at", "resolved_at"],
        "ix_tickets_notes_read_updated_at": ["notes_read", "updated_at"],
    }
    note_indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("ticket_notes")}
    assert note_indexes == {
        "ix_ticket_notes_ticket_id": ["ticket_id"],
        "ix_ticket_notes_member_key_created_at": ["member_key", "created_at"],
    }
    change_indexes = {ix["name"] for ix in inspector.get_indexes("status_changes")}
    assert change_indexes == {"ix_status_changes_ticket_id", "ix_status_changes_reopened_at"}
    member_indexes = inspector.get_indexes("members")
    assert [(ix["name"], bool(ix["unique"])) for ix in member_indexes] == [("ix_members_key", True)]
    engine.dispose()


def _triggers(engine: Engine) -> set[tuple[str, str]]:
    if engine.dialect.name == "sqlite":
        query = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT t.tgname, c.relname FROM pg_trigger AS t "
            "JOIN pg_class AS c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        )
    with engine.connect() as connection:
        return {(str(name), str(table)) for name, table in connection.execute(text(query))}


def test_the_migrations_leave_the_day_totals_triggers_on_replies_and_ratings(engine: Engine):
    assert _triggers(engine) == set(rollups.TRIGGERS)
    assert {table for _name, table in rollups.TRIGGERS} == {"ticket_notes", "ratings"}


def test_revision_0016_downgrades_to_the_ticket_triggers_and_upgrades_again(engine: Engine):
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    tickets = {(f"rollup_tickets_{op}", "tickets") for op in ("insert", "update", "delete")}
    assert _triggers(engine) == set(rollups.TRIGGERS) | tickets
    migrate(engine)
    assert _triggers(engine) == set(rollups.TRIGGERS)


def test_the_migration_builds_exactly_the_tables_module(engine: Engine):
    # Alembic's autogenerate comparison finds nothing to add, drop or alter.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrate_is_idempotent_and_keeps_data(engine: Engine, params):
    upsert(engine, [TicketRecord(id=1, updated_at=nov(2))], params=params)
    migrate(engine)
    migrate(engine)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [("0016",)]
    assert [row["id"] for row in ticket_rows(engine)] == [1]


@sqlite_only("PostgreSQL has no pragmas; its MVCC gives what WAL gives SQLite")
def test_every_connection_uses_wal_and_the_other_pragmas(engine: Engine):
    first, second = engine.connect(), engine.connect()  # two pooled connections
    try:
        for connection in (first, second):
            values = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
            # synchronous 1 is NORMAL
            assert values == {
                "journal_mode": "wal",
                "busy_timeout": 5000,
                "foreign_keys": 1,
                "synchronous": 1,
            }
    finally:
        first.close()
        second.close()


def test_a_reader_sees_committed_data_while_a_writer_holds_its_transaction(engine: Engine):
    # WAL: a reader is not blocked by an open write transaction and sees the last commit.
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE probe (n INTEGER)"))
        setup.execute(text("INSERT INTO probe VALUES (1)"))
    with engine.connect() as writer, engine.connect() as reader:
        writer.execute(text("INSERT INTO probe VALUES (2)"))  # uncommitted
        assert reader.execute(text("SELECT count(*) FROM probe")).scalar() == 1
        writer.rollback()


def test_in_memory_database_is_shared_by_every_session():
    engine = create_engine_for("sqlite://")
    migrate(engine)
    migrate(engine)
    with session_scope(engine) as session:
        repo.set_watermark(session, watermark=nov(3))
    with session_scope(engine) as session:
        assert repo.get_sync_state(session).watermark == nov(3)
    engine.dispose()


def test_session_scope_commits_on_success(engine: Engine):
    with session_scope(engine) as session:
        repo.record_sync_started(session, at=nov(4))
    with session_scope(engine) as session:
        assert repo.get_sync_state(session).last_sync_started_at == nov(4)


def _page_that_fails_after_writing(engine: Engine, params: DeriveParams) -> None:
    with session_scope(engine) as session:
        repo.upsert_tickets(
            session,
            records=[TicketRecord(id=7, status="New", updated_at=nov(2))],
            params=params,
            waiting_rule=WaitingRule(),
        )
        repo.set_watermark(session, watermark=nov(2))
        session.flush()  # the rows reach the database inside the transaction
        raise RuntimeError("boom")


def test_session_scope_rolls_back_on_error(engine: Engine, params):
    with pytest.raises(RuntimeError, match="boom"):
        _page_that_fails_after_writing(engine, params)
    with session_scope(engine) as session:
        assert repo.count_tickets(session) == 0
        assert repo.get_sync_state(session).watermark is None
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM status_changes")).scalar() == 0


def test_timestamps_are_stored_as_utc_and_come_back_aware(engine: Engine, params):
    chicago = timezone(timedelta(hours=-6))
    entered = datetime(2026, 11, 2, 10, 0, 0, 123456, tzinfo=chicago)  # 16:00:00.123456 UTC
    upsert(engine, [TicketRecord(id=1, entered_at=entered)], params=params)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # timestamptz, shown here in UTC
            raw = connection.exec_driver_sql(
                "SELECT to_char(entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
                " pg_typeof(entered_at)::text FROM tickets"
            ).one()
            assert tuple(raw) == ("2026-11-02 16:00:00.123456", "timestamp with time zone")
        else:  # fixed-width naive UTC text
            raw = connection.exec_driver_sql("SELECT entered_at FROM tickets").scalar()
            assert raw == "2026-11-02 16:00:00.123456"
        loaded = connection.execute(select(TICKETS.c.entered_at)).scalar()
    assert loaded == entered
    assert loaded.tzinfo == UTC


def _store_naive_watermark(engine: Engine) -> None:
    with session_scope(engine) as session:
        repo.set_watermark(session, watermark=datetime(2026, 11, 2, 12, 0))


def test_naive_timestamps_are_refused(engine: Engine):
    with pytest.raises(StatementError, match="naive"):
        _store_naive_watermark(engine)
    with session_scope(engine) as session:
        assert repo.get_sync_state(session).watermark is None


def _lock_is_free(engine: Engine, key: int) -> bool:
    """Whether another session could take ``key`` now (it takes and frees it at once)."""
    with engine.connect() as other:
        taken = other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if taken:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    return bool(taken)


@postgresql_only("processes share a database, and a sync lock, only on PostgreSQL")
def test_one_at_a_time_holds_the_lock_for_the_block_and_frees_it_after_a_failure(engine):
    assert _lock_is_free(engine, SYNC_LOCK)
    with one_at_a_time(engine, key=SYNC_LOCK):
        assert not _lock_is_free(engine, SYNC_LOCK)  # another process would wait here
        with session_scope(engine) as session:  # the block's own work is not held up
            repo.record_sync_started(session, at=nov(4))
    assert _lock_is_free(engine, SYNC_LOCK)
    with pytest.raises(RuntimeError, match="boom"), one_at_a_time(engine, key=SYNC_LOCK):
        raise RuntimeError("boom")
    assert _lock_is_free(engine, SYNC_LOCK)


def test_a_write_unit_is_not_refused_for_another_writers_commit_after_its_read(
    engine: Engine, params: DeriveParams
):
    # A reads the ratings, B stores one meanwhile, then A writes what its read decided. A
    # deferred SQLite transaction is refused here ("database is locked": SQLITE_BUSY_SNAPSHOT,
    # which no busy timeout waits out); in a write unit B waits for A instead.
    upsert(
        engine,
        [TicketRecord(id=1, updated_at=nov(2)), TicketRecord(id=2, updated_at=nov(2))],
        params=params,
    )
    at = nov(3)

    def rate(session: Any, ticket_id: int) -> None:
        session.execute(
            RATINGS.insert().values(
                ticket_id=ticket_id, respondent="c", rating="positive", rated_at=at,
                source="link", received_at=at, first_received_at=at,
            )
        )  # fmt: skip

    stored = threading.Event()
    problems: list[BaseException] = []

    def other_customer() -> None:
        try:
            with write_scope(engine) as session:
                rate(session, 2)
            stored.set()
        except BaseException as exc:  # reported below
            problems.append(exc)

    with write_scope(engine) as session:
        assert session.execute(select(RATINGS)).all() == []
        thread = threading.Thread(target=other_customer)
        thread.start()
        stored.wait(1.0)  # a deferred transaction lets B commit now; a write unit makes it wait
        rate(session, 1)
    thread.join(10)
    assert problems == []
    with engine.connect() as connection:
        held = connection.execute(select(RATINGS.c.ticket_id).order_by(RATINGS.c.ticket_id))
        assert [row[0] for row in held] == [1, 2]

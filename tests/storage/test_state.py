"""The sync state row and the reference data: boards, board statuses, members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from metrics.records import Board, BoardStatus, Member
from storage import repo
from storage.db import session_scope
from tests.storage.helpers import nov


def test_a_fresh_database_has_an_empty_sync_state(engine: Engine):
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert state == repo.SyncStateView()
        assert repo.data_as_of(session) is None
        assert state.failing is False


def test_watermark_and_sync_times_persist(engine: Engine):
    eastern = timezone(timedelta(hours=-5))
    with session_scope(engine) as session:
        repo.set_watermark(session, watermark=datetime(2026, 11, 2, 7, 0, tzinfo=eastern))
        repo.record_sync_started(session, at=nov(2, 12, 0))
        repo.record_sync_finished(session, at=nov(2, 12, 5), tickets_seen=42)
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert state.watermark == nov(2, 12, 0)  # 07:00 -05:00, back as UTC
        assert state.watermark.tzinfo == UTC
        assert (state.last_sync_started_at, state.last_sync_finished_at) == (
            nov(2, 12, 0),
            nov(2, 12, 5),
        )
        assert state.tickets_seen == 42
        assert repo.data_as_of(session) == nov(2, 12, 5)
        # the watermark can also be moved back, e.g. for a resync
        repo.set_watermark(session, watermark=nov(1))
    with session_scope(engine) as session:
        assert repo.get_sync_state(session).watermark == nov(1)


def test_errors_are_kept_and_failing_says_whether_they_are_current(engine: Engine):
    with session_scope(engine) as session:
        repo.record_sync_finished(session, at=nov(2, 9))
        repo.record_sync_error(session, at=nov(2, 10), message="HTTPError: 503")
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert (state.last_error, state.last_error_at, state.failing) == (
            "HTTPError: 503",
            nov(2, 10),
            True,
        )
        assert repo.data_as_of(session) == nov(2, 9)  # a failed sync does not move it
        repo.record_sync_finished(session, at=nov(2, 11))
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert (state.last_error, state.failing) == ("HTTPError: 503", False)


def test_set_refreshed_sets_only_what_it_is_given(engine: Engine):
    with session_scope(engine) as session:
        repo.set_refreshed(session, boards_at=nov(2), members_at=nov(3))
        repo.set_refreshed(session, members_at=nov(4))
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert (state.boards_refreshed_at, state.members_refreshed_at) == (nov(2), nov(4))


def test_boards_are_upserted_and_listed(engine: Engine):
    with session_scope(engine) as session:
        repo.upsert_boards(session, boards=[Board(2, "Projects"), Board(1, "Service Desk")])
        repo.upsert_boards(session, boards=[Board(2, "Projects (old)", inactive=True)])
    with session_scope(engine) as session:
        assert repo.list_boards(session) == [
            Board(1, "Service Desk"),
            Board(2, "Projects (old)", inactive=True),
        ]


def test_board_statuses_are_upserted_by_board_and_id(engine: Engine):
    waiting = BoardStatus(1, 10, "Waiting on client", escalation_status="NoEscalation")
    with session_scope(engine) as session:
        repo.upsert_board_statuses(
            session, statuses=[BoardStatus(1, 11, "Closed", closed=True), waiting]
        )
        # the same status id on another board is another status
        repo.upsert_board_statuses(
            session, statuses=[BoardStatus(2, 10, "New"), BoardStatus(1, 11, "Completed", True)]
        )
    with session_scope(engine) as session:
        assert repo.list_board_statuses(session) == [
            waiting,
            BoardStatus(1, 11, "Completed", closed=True),
            BoardStatus(2, 10, "New"),
        ]


def test_members_are_upserted_and_listed_by_key(engine: Engine):
    with session_scope(engine) as session:
        repo.upsert_members(
            session,
            members=[Member(7, "ZLee", "Zoe Lee"), Member(3, "JSmith", "Jane", "j@x.test")],
        )
        repo.upsert_members(session, members=[Member(7, "ZLee", "Zoe Lee-Park", inactive=True)])
    with session_scope(engine) as session:
        members = repo.list_members(session)
    assert members == [
        Member(3, "JSmith", "Jane", "j@x.test"),
        Member(7, "ZLee", "Zoe Lee-Park", inactive=True),
    ]
    assert [m.key for m in members] == ["jsmith", "zlee"]


def test_a_member_key_taken_by_a_new_id_moves_to_it(engine: Engine):
    # ConnectWise deleted member 3 and created member 9 with the same identifier.
    with session_scope(engine) as session:
        repo.upsert_members(session, members=[Member(3, "JSmith", "Jane")])
        repo.upsert_members(session, members=[Member(9, "jsmith", "Jane Smith")])
    with session_scope(engine) as session:
        assert repo.list_members(session) == [Member(9, "jsmith", "Jane Smith")]


def test_member_keys_are_unique_in_the_database(engine: Engine):
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO members (id, identifier, key, inactive) VALUES"
            " (1, 'A', 'a', false), (2, 'a', 'a', false)"
        )


def test_judging_starts_once_at_the_first_syncs_whole_second(engine: Engine):
    first = datetime(2026, 11, 2, 14, 5, 7, 830_000, tzinfo=UTC)
    with session_scope(engine) as session:
        repo.start_judging(session, at=first)
        repo.start_judging(session, at=first + timedelta(hours=3))  # a later sync: kept
        since = repo.get_sync_state(session).judging_since
    # ConnectWise stamps a resolution in that same second 14:05:07: it is after the start
    assert since == datetime(2026, 11, 2, 14, 5, 7, tzinfo=UTC)

"""``storage.leadership``: one scheduler among processes sharing a database.

On PostgreSQL each ``Leadership`` below opens its own lock session, as separate processes
would; ``pg_locks`` and ``pg_stat_activity`` show which one holds the lock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from storage.leadership import SCHEDULER_LOCK, Leadership
from tests.databases import postgresql_only

on_postgresql = postgresql_only("advisory locks elect the scheduler only on PostgreSQL")

HOLDERS = text(
    "SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid::bigint = (:key >> 32) AND l.objid::bigint = (:key & 4294967295)"
)


def holders(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(HOLDERS, {"key": SCHEDULER_LOCK})]


def holder_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        ((_, pid),) = connection.execute(HOLDERS, {"key": SCHEDULER_LOCK}).all()
    return int(pid)


@pytest.fixture
def pair(engine: Engine) -> Iterator[tuple[Leadership, Leadership]]:
    first, second = Leadership(engine, name="proc-a"), Leadership(engine, name="proc-b")
    yield first, second
    first.release()
    second.release()


def test_on_sqlite_the_only_process_always_leads(engine: Engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: one process, nothing to elect")
    leadership = Leadership(engine)
    assert leadership.shared is False
    assert leadership.poll()
    assert leadership.poll()  # and again
    assert leadership.leading


@on_postgresql
def test_exactly_one_of_two_leads_and_the_other_takes_over_after_release(engine, pair):
    first, second = pair
    assert first.shared
    assert second.shared
    assert (first.poll(), second.poll()) == (True, False)
    assert (first.poll(), second.poll()) == (True, False)  # polling again changes nothing
    assert holders(engine) == ["proc-a"]

    first.release()  # the leader stops
    assert second.poll() is True
    assert first.poll() is False  # a restarted process stands by
    assert holders(engine) == ["proc-b"]


@on_postgresql
def test_a_leader_whose_connection_dropped_stops_leading(engine, pair):
    first, second = pair
    assert first.poll() is True
    with engine.connect() as admin:  # the server ends the leader's lock session
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder_pid(engine)})
    assert second.poll() is True  # PostgreSQL released the lock with the session
    assert first.poll() is False  # the old leader's check finds its connection gone
    assert first.leading is False
    assert holders(engine) == ["proc-b"]


@on_postgresql
def test_a_leader_that_lost_its_connection_takes_the_free_lock_again(engine, pair):
    first, _ = pair
    assert first.poll() is True
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder_pid(engine)})
    assert first.poll() is True  # nobody else took it: a new session takes it back
    assert holders(engine) == ["proc-a"]

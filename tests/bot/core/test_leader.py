"""``bot.core.leader``: the scheduler runs while this process leads and pauses when it does not.

A real APScheduler and real ``Leadership`` objects on the test database; another
``Leadership`` plays the second process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text

from bot.core.leader import SchedulerLeader
from storage.db import create_engine_for
from storage.leadership import Leadership
from tests.databases import postgresql_only

TAKEOVER_SYNC = datetime.now(UTC) + timedelta(days=1)  # far enough never to fire here


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def make_leader(engine: Engine, name: str) -> SchedulerLeader:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(lambda: None, IntervalTrigger(hours=1, timezone=UTC), id="sync")
    # every: an hour, so only the test's own check() calls poll
    return SchedulerLeader(
        scheduler, Leadership(engine, name=name), every=3600, clock=lambda: TAKEOVER_SYNC
    )


def test_the_only_process_on_sqlite_runs_its_scheduler(engine: Engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: one process, nothing to elect")
    leader = make_leader(engine, "only")
    try:
        assert leader.start() is True
        leader.check()
        assert leader.leading
    finally:
        leader.stop()


@postgresql_only("advisory locks elect the scheduler only on PostgreSQL")
def test_a_leader_that_lost_its_lock_connection_pauses_and_resumes_when_it_leads_again(
    engine: Engine,
):
    first, second = make_leader(engine, "first"), make_leader(engine, "second")
    try:
        assert first.start() is True
        assert second.start() is False  # started paused
        assert (first.leading, second.leading) == (True, False)

        with engine.connect() as admin:  # the server ends the first one's lock session
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'first'"
                )
            )
        second.check()  # takes the freed lock
        first.check()  # finds its connection gone
        assert (first.leading, second.leading) == (False, True)
        job = second._scheduler.get_job("sync")
        assert job is not None
        assert job.next_run_time == TAKEOVER_SYNC  # the new leader syncs at once

        second.stop()  # releases the lock
        first.check()
        assert first.leading
    finally:
        first.stop()
        second.stop()

"""The database locked by another writer, for longer than the busy timeout or briefly.

SQLite lets one writer at a time; ours waits up to 5 s (``storage.db``) for another one to
finish, except where a transaction that has read wants to write (WAL mode answers "database
is locked" at once there, busy timeout or not). Either way the sync fails with "database is
locked": it cannot record that error in the locked database, so the runtime keeps it and
records it with the next sync, and ``deskboard status`` shows it then.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.outbox import CLAIM_LEASE
from tests.databases import backend
from tests.faults.world import DRAIN, STEPS, World, delivered

pytestmark = pytest.mark.skipif(
    backend() == "postgresql",
    reason="SQLite's database-wide write lock; PostgreSQL locks rows and waits instead",
)


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another connection holding SQLite's write lock (``BEGIN IMMEDIATE``)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


def finish(world: World, steps: list) -> None:
    for moment in [*steps, DRAIN]:
        world.at(moment)
        world.cycle()


def test_a_database_locked_by_another_writer_fails_one_cycle_only(world, reference, caplog):
    world.at(STEPS[0])
    world.cycle()
    world.at(STEPS[1])
    with write_lock(world.path), caplog.at_level(logging.ERROR, logger="bot.core.scheduler"):
        world.cycle()  # fails ("database is locked"), raises nothing
        assert "job sync failed" in caplog.text
        assert "database is locked" in caplog.text
        # Readers are not blocked (WAL): status still answers, with the last good sync.
        assert "Last sync:        2026-11-19 09:00 CST" in world.cli_status()
    world.cycle()  # the lock is gone: the same step catches up
    cli = world.cli_status()
    assert "Last sync:        2026-11-19 12:00 CST" in cli
    assert (
        "Last error:       2026-11-19 12:00 CST (since recovered): "
        "database: OperationalError: database is locked"
    ) in cli
    assert "database is locked" in world.slash_status()
    finish(world, STEPS[2:])
    assert world.checksum() == reference.checksum
    assert delivered(world.slack) == reference.delivered


def test_a_database_locked_between_a_post_and_its_commit_posts_nothing_twice(world, reference):
    """Slack takes a message, then the database is locked past the busy timeout, so the
    outbox cannot record the send. The claim stays; once its lease runs out the next pass
    finds the message in the channel's history and marks it sent instead of posting again."""
    world.at(STEPS[0])
    locks: list[sqlite3.Connection] = []

    def lock_once() -> None:
        if not locks:
            other = sqlite3.connect(world.path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            locks.append(other)

    world.slack.hooks["chat.postMessage"] = lock_once
    world.jobs["sync"]()  # the sync commits, then its delivery pass meets the lock
    del world.slack.hooks["chat.postMessage"]
    locks[0].rollback()
    locks[0].close()
    assert len(world.slack.posted) == 1
    with world.engine.connect() as connection:
        claimed = connection.execute(
            text("SELECT count(*) FROM outbox WHERE claim_token IS NOT NULL AND sent_at IS NULL")
        ).scalar_one()
    assert claimed == 1  # posted, not recorded: still claimed
    world.jobs["deliver"]()  # within the lease: the other messages go, that one waits
    assert len(world.slack.calls_to("conversations.history")) == 0
    world.now += CLAIM_LEASE
    world.jobs["deliver"]()
    assert world.slack.calls_to("conversations.history")  # looked up, found, not re-posted
    assert set(delivered(world.slack).values()) == {1}
    finish(world, STEPS[1:])
    assert delivered(world.slack) == reference.delivered
    assert world.checksum() == reference.checksum

"""Two `deskboard run --dry-run` processes on one PostgreSQL: exactly one runs the scheduler,
and when it is killed (SIGKILL) the other takes over within a minute.

Which process leads is read from PostgreSQL itself: the scheduler lock's session carries the
process id in its ``application_name``. The leader's sync writes ``sync_state``; after the
kill, a sync started later than the kill proves the survivor's scheduler runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text

from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, session_scope
from storage.leadership import SCHEDULER_LOCK
from tests.databases import postgresql_only
from tests.environment import connectwise_environment

pytestmark = postgresql_only("several processes share a database only on PostgreSQL")

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)
CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[[contests]]
name = "Most resolved"
metric = "resolved"
period = "monthly"
"""
HANDOVER_BOUND = 60.0  # seconds: "handing over within a minute when that one dies"
T = TypeVar("T")

LOCK_HOLDERS = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid::bigint = (:key >> 32) AND l.objid::bigint = (:key & 4294967295)"
)


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=3, start=START, end=END, tickets_per_workday=10)
    with SimulatorServer(msp, clock=END) as running:
        yield running


def lock_holders(engine: Engine) -> list[int]:
    """The process ids whose scheduler lock session holds the lock."""
    with engine.connect() as connection:
        names = connection.execute(LOCK_HOLDERS, {"key": SCHEDULER_LOCK}).scalars().all()
    return [int(name.rsplit(" ", 1)[1]) for name in names]


def wait_for(what: str, probe: Callable[[], T | None], *, within: float) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {within:g} s: {what}")


class Bot:
    """One `deskboard run --dry-run` process writing its output to a file."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]) -> None:
        self.log = folder / f"{name}.log"
        exe = Path(sys.executable).with_name("deskboard")
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(exe), "run", "--dry-run"],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_one_of_two_processes_schedules_and_the_other_takes_over_when_it_is_killed(
    server: SimulatorServer, database_url: str, tmp_path: Path
):
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    env = {
        **os.environ,
        **connectwise_environment(server),
        "DESKBOARD_DATABASE_URL": database_url,
        "DESKBOARD_LEADER_POLL_SECONDS": "2",
        "COLUMNS": "200",
    }
    engine = create_engine_for(database_url)
    bots = [Bot("first", tmp_path, env), Bot("second", tmp_path, env)]
    try:
        for bot in bots:
            wait_for(f"{bot.log.name} running", lambda b=bot: "Deskboard is running" in b.output(),
                     within=60)  # fmt: skip
        (leader_pid,) = lock_holders(engine)  # exactly one holds the scheduler lock
        leader = next(b for b in bots if b.pid == leader_pid)
        standby = next(b for b in bots if b is not leader)
        assert "syncing every 5 min" in leader.output()
        assert "standing by: another process runs the scheduler" in standby.output()

        def synced() -> datetime | None:
            with session_scope(engine) as session:
                return repo.get_sync_state(session).last_sync_finished_at

        wait_for("the leader's first sync", synced, within=60)
        assert lock_holders(engine) == [leader_pid]

        killed_at = datetime.now(UTC)
        handover_by = time.monotonic() + HANDOVER_BOUND
        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(timeout=10)

        # The bound of the issue: the survivor holds the lock, and syncs, within a minute.
        wait_for("the standby holding the lock", lambda: lock_holders(engine) == [standby.pid],
                 within=handover_by - time.monotonic())  # fmt: skip

        def synced_since_kill() -> bool:
            with session_scope(engine) as session:
                started = repo.get_sync_state(session).last_sync_started_at
            return started is not None and started > killed_at

        wait_for(
            "a sync by the new leader", synced_since_kill, within=handover_by - time.monotonic()
        )
        assert "took over the scheduler" in standby.output()
        assert standby.proc.poll() is None  # still serving
    finally:
        for bot in bots:
            bot.stop()
        engine.dispose()

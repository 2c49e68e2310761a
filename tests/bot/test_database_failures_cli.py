"""A database that fails under a command (read-only, locked by another writer) ends it with one
clear line and a non-zero status, never a traceback, and the next run recovers (issue 11).
Through the real ``deskboard`` console script, on SQLite files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.databases import sqlite_only
from tests.environment import connectwise_environment

pytestmark = sqlite_only("read-only files and file locks are SQLite's")

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)


def deskboard(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DESKBOARD_"))}
    return subprocess.run(
        [str(Path(sys.executable).with_name("deskboard")), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_read_only_or_locked_database_ends_in_one_line_and_the_next_sync_recovers(tmp_path):
    database = tmp_path / "deskboard.db"
    msp = generate_msp(seed=8, start=START, end=END, tickets_per_workday=6)
    with SimulatorServer(msp, clock=END) as simulator:
        env = {
            **connectwise_environment(simulator),
            "DESKBOARD_DATABASE_URL": f"sqlite:///{database}",
        }
        assert deskboard(tmp_path, env, "sync", "--since", "2026-11-02").returncode == 0

        read_only = {**env, "DESKBOARD_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"}
        line = one_error_line(deskboard(tmp_path, read_only, "sync", "--full"))
        assert "readonly" in line.replace("-", "").replace(" ", "").lower()

        holder = sqlite3.connect(database, timeout=0)  # another writer holds the lock
        holder.execute("BEGIN EXCLUSIVE")
        try:
            line = one_error_line(deskboard(tmp_path, env, "sync", "--full"))
            assert "locked" in line
        finally:
            holder.rollback()
            holder.close()

        recovered = deskboard(tmp_path, env, "sync", "--full")
        assert recovered.returncode == 0, recovered.stderr
        status = deskboard(tmp_path, env, "status")
        assert status.returncode == 0
        assert "(the latest sync failed)" not in status.stdout

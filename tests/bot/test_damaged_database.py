"""A damaged SQLite file is named at once, in one line, by the commands that must not pass it
silently (``sync``, ``status``, ``run``), instead of ``sync`` and ``status`` succeeding while
``standings`` crashes (issue 11)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime

from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.databases import sqlite_only
from tests.environment import connectwise_environment

pytestmark = sqlite_only("PRAGMA quick_check is SQLite's; PostgreSQL keeps its own pages")

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)


def test_a_damaged_file_is_named_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "deskboard.db"
    msp = generate_msp(seed=5, start=START, end=END, tickets_per_workday=12)
    with SimulatorServer(msp, clock=END) as simulator:
        env = {
            **connectwise_environment(simulator),
            "DESKBOARD_DATABASE_URL": f"sqlite:///{database}",
        }
        synced = CliRunner().invoke(app, ["sync", "--since", "2026-11-02"], env=env)
        assert synced.exit_code == 0, synced.output
        with closing(sqlite3.connect(database)) as connection:  # the WAL into the file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(database.read_bytes())
        page = 4096
        assert len(data) > 20 * page
        for offset in range(len(data) // 2, len(data) // 2 + 4 * page, 7):  # pages mid-file
            data[offset] = 0xA5
        database.write_bytes(bytes(data))

        for command in (["status"], ["sync"]):
            result = CliRunner().invoke(app, command, env=env)
            assert result.exit_code == 2, result.output
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, result.stderr
            (line,) = lines
            assert line.startswith("error: DESKBOARD_DATABASE_URL: the SQLite file"), line
            assert "is damaged" in line
            assert "restore it from a backup" in line

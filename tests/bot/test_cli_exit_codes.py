"""The installed `deskboard` console script (`bot.cli:main`) as a shell or cron runs it: exit 0
on success; on failure a non-zero status and one line `error: ...` on stderr, never a Rich
panel or a traceback (that only with -v); with --json, nothing on stdout but the JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage.db import create_engine_for
from tests.environment import connectwise_environment

DESKBOARD = Path(sys.executable).with_name("deskboard")
CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[members]
exclude = ["dispatch"]
[[contests]]
name = "Weekly resolved"
metric = "resolved"
period = "weekly"
[[contests]]
name = "November sprint"
metric = "resolved"
start = "2026-11-01"
end = "2026-12-01"
"""
PANEL = set("│╭╮╰╯─━┃")  # what a Rich error panel is drawn with


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    end = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)
    msp = generate_msp(seed=5, start=start, end=end, tickets_per_workday=12)
    with SimulatorServer(msp, clock=end) as running:
        yield running


@pytest.fixture
def env(server, tmp_path, database_url) -> dict[str, str]:
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    return {
        **connectwise_environment(server),
        "DESKBOARD_DATABASE_URL": database_url,
    }


def deskboard(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DESKBOARD), *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "80", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single `error: ...` line on stderr, checked to be alone and plain."""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.stderr.endswith("\n")
    assert lines[0].startswith("error: ")
    assert not PANEL & set(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_success_is_exit_0_with_nothing_on_stderr(env, tmp_path):
    proc = deskboard(env, tmp_path, "status")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Tickets stored:   0" in proc.stdout


def test_an_unknown_contest_is_exit_2_and_one_line(env, tmp_path):
    proc = deskboard(env, tmp_path, "standings", "Fastest", "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert one_error_line(proc) == (
        "error: no contest named 'Fastest'; contests: Weekly resolved, November sprint"
    )


@pytest.mark.parametrize("period", ["last-week", "2026-02-30", "yesterday"])
def test_a_bad_period_is_exit_2_and_one_line_naming_the_forms(env, tmp_path, period):
    proc = deskboard(env, tmp_path, "standings", "--period", period, "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert one_error_line(proc) == (
        f"error: Invalid value for --period: {period!r} is not current, previous or a date "
        "YYYY-MM-DD (see deskboard standings --help)"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["standings", "--bogus"],
         "error: No such option: --bogus (see deskboard standings --help)"),
        (["nosuch"], "error: No such command 'nosuch'. (see deskboard --help)"),
        (["post", "nosuch"], "error: No such command 'nosuch'. (see deskboard post --help)"),
        (["metrics", "--from", "1 Nov"],
         "error: Invalid value for --from: '1 Nov' is not a date YYYY-MM-DD "
         "(see deskboard metrics --help)"),
        (["status", "--config"],
         "error: Option '--config' requires an argument. (see deskboard status --help)"),
        (["-v", "post", "leaderboard", "--contest"],
         "error: Option '--contest' requires an argument. "
         "(see deskboard post leaderboard --help)"),
    ],
)  # fmt: skip
def test_usage_errors_are_exit_2_and_one_line(env, tmp_path, args, line):
    proc = deskboard(env, tmp_path, *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert one_error_line(proc) == line


def test_a_fixed_contest_without_that_period_is_exit_2(env, tmp_path):
    proc = deskboard(env, tmp_path, "standings", "November sprint", "--period", "previous")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert one_error_line(proc) == (
        "error: contest 'November sprint' runs from 2026-11-01 to 2026-12-01 (end exclusive); "
        "it has no previous period"
    )


def test_a_configuration_with_several_problems_is_one_line(env, tmp_path):
    (tmp_path / "deskboard.toml").write_text('timezone = "Mars/Olympus"\nweek_start = "caturday"\n')
    proc = deskboard(env, tmp_path, "standings")
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "timezone: Value error, 'Mars/Olympus' is not an IANA time zone name; " in line
    assert "week_start" in line


def test_a_commands_own_exit_status_passes_through(env, tmp_path):
    proc = deskboard({**env, "CW_PRIVATE_KEY": "Wr0ng-Priv4te-Key"}, tmp_path, "sync")
    assert proc.returncode == 1  # typer.Exit(1) from the command: not 0, not 2
    line = one_error_line(proc)
    assert "CW_PRIVATE_KEY" in line
    assert "Wr0ng-Priv4te-Key" not in proc.stdout + proc.stderr


def drop_sync_state(url: str) -> None:
    """A database that migrations call current but that lacks a table: every command that
    reads it meets an error nobody planned for."""
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE sync_state"))
    finally:
        engine.dispose()


def test_an_unexpected_exception_is_exit_1_one_line_and_a_traceback_only_with_v(env, tmp_path):
    assert deskboard(env, tmp_path, "status").returncode == 0  # migrated, working
    drop_sync_state(env["DESKBOARD_DATABASE_URL"])
    proc = deskboard(env, tmp_path, "status", "--json")
    assert proc.returncode == 1
    assert proc.stdout == ""
    line = one_error_line(proc)
    assert line.startswith(("error: OperationalError: ", "error: ProgrammingError: "))
    assert "sync_state" in line

    verbose = deskboard(env, tmp_path, "-v", "status", "--json")
    assert verbose.returncode == 1
    assert verbose.stdout == ""
    assert "DEBUG bot.cli: unexpected error\nTraceback (most recent call last):" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == line  # the same line, last


def test_ctrl_c_is_exit_130(env, tmp_path):
    """SIGINT while `deskboard sync` waits for a ConnectWise that never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        host, port = silent.getsockname()
        proc = subprocess.Popen(
            [str(DESKBOARD), "sync"],
            cwd=tmp_path,
            env={**os.environ, **env, "CW_API_URL": f"http://{host}:{port}/v4_6_release/apis/3.0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            connection, _ = silent.accept()  # the sync is waiting for an answer now
            with connection:
                proc.send_signal(signal.SIGINT)
                stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130
    assert stderr.splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in stderr
    assert "Syncing tickets" in stdout


def test_json_stdout_is_only_the_json_even_when_verbose(env, tmp_path):
    result = CliRunner().invoke(app, ["sync", "--since", "2026-11-02"], env=env)
    assert result.exit_code == 0, result.output
    standings = deskboard(env, tmp_path, "-v", "standings", "--period", "2026-11-10", "--json")
    assert standings.returncode == 0, standings.stderr
    assert " INFO " in standings.stderr  # -v logged, and to stderr
    out = json.loads(standings.stdout)  # raises if anything else is on stdout
    assert [c["name"] for c in out["contests"]] == ["Weekly resolved", "November sprint"]
    assert out["contests"][0]["ranked"]

    status = deskboard(env, tmp_path, "-v", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tickets_stored"] > 50

    noted = deskboard(env, tmp_path, "standings", "--period", "previous", "--json")
    assert noted.returncode == 0, noted.stderr
    assert noted.stderr.startswith("note: contest 'November sprint'")
    assert [c["name"] for c in json.loads(noted.stdout)["contests"]] == ["Weekly resolved"]


def test_help_is_exit_0_and_a_bare_command_shows_it(env, tmp_path):
    helped = deskboard(env, tmp_path, "standings", "--help")
    assert helped.returncode == 0
    assert "--period" in helped.stdout
    assert "--json" in helped.stdout
    bare = deskboard(env, tmp_path)
    assert bare.returncode == 2  # no command: the help, as a usage error
    assert "standings" in bare.stdout
    assert "error:" not in bare.stderr

"""Push end to end: `deskboard run` (a real process, Slack in HTTP mode pointed at the fake
Slack) and the simulator on today's clock. `deskboard connectwise register-callback`
registers the process; a ticket is resolved in the simulator, which POSTs a signed callback;
the process stores that ticket and the kudos reach Slack. The poll runs once at start and
then only once a day, so nothing but the push can explain the kudos."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, session_scope
from tests.bot.slack.conftest import open_ticket_answered_by_its_technician
from tests.bot.slack.fake_slack import FakeSlack
from tests.environment import connectwise_environment, free_port

CONFIG = """
timezone = "America/Chicago"
[connectwise]
poll_minutes = 1440
sync_notes = false
[members]
exclude = ["dispatch"]
[kudos]
channel = "CKUDOS"
mode = "instant"
daily_cap = 1000
"""


def wait_for(predicate, *, what: str, timeout: float = 60.0):
    """Poll ``predicate`` until it returns something truthy (bounded; not a timing test)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: nothing within {timeout} s")
        time.sleep(0.1)


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    now = datetime.now(UTC).replace(microsecond=0)
    msp = generate_msp(seed=11, start=now - timedelta(days=6), end=now - timedelta(minutes=5),
                       tickets_per_workday=12)  # fmt: skip
    with SimulatorServer(msp, clock=now - timedelta(minutes=5)) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_a_resolution_reaches_slack_through_the_callback(simulator, slack, tmp_path, database_url):
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    port = free_port()
    env = {
        **connectwise_environment(simulator),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DESKBOARD_DATABASE_URL": database_url,
        "DESKBOARD_CONFIG": str(tmp_path / "deskboard.toml"),
    }
    callback_url = f"http://127.0.0.1:{port}/connectwise/callback"
    exe = Path(sys.executable).with_name("deskboard")
    proc = subprocess.Popen(
        [str(exe), "run"],
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    engine = None
    try:

        def first_sync_done() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"deskboard run exited: {proc.communicate()[0]}")
            try:
                with session_scope(engine_for()) as session:
                    return repo.get_sync_state(session).last_sync_finished_at is not None
            except Exception:  # not migrated yet
                return False

        def engine_for():
            nonlocal engine
            if engine is None:
                engine = create_engine_for(database_url)
            return engine

        def serving() -> bool:
            try:
                return httpx.post(callback_url, content=b"{}").status_code == 401
            except httpx.TransportError:
                return False

        wait_for(first_sync_done, what="the first sync")
        wait_for(serving, what="the HTTP server")
        ticket_id, technician = open_ticket_answered_by_its_technician(engine_for())

        registered = CliRunner().invoke(
            app, ["connectwise", "register-callback", callback_url], env=env
        )
        assert registered.exit_code == 0, registered.output
        assert "Registered callback 1" in registered.output
        simulator.clear_requests()

        simulator.clock = datetime.now(UTC)  # tickets move on...
        simulator.resolve_ticket_now(ticket_id, by=technician)  # ...and this one is resolved

        kudos = wait_for(
            lambda: [
                c
                for c in slack.calls_to("chat.postMessage")
                if c.params.get("channel") == "CKUDOS" and f"#{ticket_id}" in str(c.params)
            ],
            what="the kudos",
        )
        assert len(kudos) == 1
        with session_scope(engine_for()) as session:
            (record,) = repo.get_tickets(session, ids=[ticket_id])
        assert record.resolved_at is not None
        delivered = [d for d in simulator.callback_deliveries if d.ticket_id == ticket_id]
        assert delivered
        assert all(d.status == 200 for d in delivered)
        # the ticket was read by id; the ticket list (the poll) was not asked for
        paths = [r.path for r in simulator.requests]
        assert f"/service/tickets/{ticket_id}" in paths
        assert "/service/tickets" not in paths
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        if engine is not None:
            engine.dispose()
    assert "Traceback" not in output, output

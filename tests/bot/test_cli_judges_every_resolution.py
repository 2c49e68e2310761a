"""Every path that stores a ticket judges its resolution once: here the ``deskboard sync``
command line (an operator, or cron), followed by ``deskboard post kudos`` and the bot.

The ConnectWise simulator runs on the real clock (the command line reads it), with a month
of history ending an hour ago; a technician then resolves an open ticket cleanly, and
another one resolves one without categorizing it (kudos for both, a nudge for the second).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_config
from bot.core.runtime import Runtime
from bot.slack.messenger import SlackMessenger
from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage import notices, repo
from storage.db import create_engine_for, session_scope
from tests.bot.slack.fake_slack import FakeSlack
from tests.environment import connectwise_environment

CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[members]
exclude = ["dispatch"]
[kudos]
channel = "CKUDOS"
"""


@dataclass
class World:
    env: dict[str, str]
    simulator: SimulatorServer
    slack: FakeSlack
    database_url: str
    config_path: str


@pytest.fixture
def world(tmp_path, monkeypatch, database_url) -> Iterator[World]:
    now = datetime.now(UTC).replace(microsecond=0)
    msp = generate_msp(
        seed=21, start=now - timedelta(days=8), end=now - timedelta(hours=1), tickets_per_workday=8
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    # The simulator's clock is the real one: its history goes on past ``end`` (tickets open
    # then resolve later), and a clock behind real time would reveal those resolutions when
    # the test moves it to now.
    with SimulatorServer(msp, clock=now) as simulator, FakeSlack() as slack:
        env = {
            **connectwise_environment(simulator),
            "DESKBOARD_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-1-2-cli",
            "SLACK_SIGNING_SECRET": "a-signing-secret",
            "SLACK_API_URL": slack.api_url,
        }
        yield World(env, simulator, slack, database_url, str(tmp_path / "deskboard.toml"))


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def kudos_posts(slack: FakeSlack) -> list[str]:
    return [
        json.dumps(c.params)
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == "CKUDOS"
    ]


def bot(world: World, engine: Engine) -> Runtime:
    """The jobs of ``deskboard run`` on the same database, Slack and ConnectWise."""
    client = WebClient(token="xoxb-1-2-cli", base_url=world.slack.api_url)
    return Runtime(
        engine=engine,
        config=load_config(Path(world.config_path)),
        messengers=(SlackMessenger(client, engine=engine, sleep=lambda _s: None),),
        psa=world.simulator.connectwise_client,
        clock=lambda: datetime.now(UTC),
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def open_answered_tickets(database_url: str) -> list[tuple[int, str, bool]]:
    """Open tickets on the selected boards answered by a technician: (id, who, categorized)."""
    engine = create_engine_for(database_url)
    try:
        with session_scope(engine) as session:
            return [
                (t.id, t.responder or "", bool(t.type and t.subtype and t.item))
                for t in repo.iter_tickets(session)
                if t.resolved_at is None
                and not t.closed
                and t.board in ("Service Desk", "Escalations")
                and t.responder_key not in (None, "dispatch")
            ]
    finally:
        engine.dispose()


def test_a_resolution_synced_from_the_command_line_gets_its_kudos_and_nudge_once(world):
    run(world.env, "sync", "--since", (datetime.now(UTC) - timedelta(days=8)).date().isoformat())
    run(world.env, "post", "kudos")  # whatever the backfill's last day earned goes out now
    posted_before = len(kudos_posts(world.slack))

    candidates = open_answered_tickets(world.database_url)
    clean = next((c for c in candidates if c[2]), None)
    sloppy = next((c for c in candidates if not c[2]), None)
    assert clean is not None, "the simulated MSP needs an open categorized ticket"
    assert sloppy is not None, "the simulated MSP needs an open uncategorized ticket"
    # after the first sync began watching (ConnectWise keeps whole seconds)
    world.simulator.clock = datetime.now(UTC) + timedelta(seconds=2)
    for ticket_id, technician, _ in (clean, sloppy):
        world.simulator.resolve_ticket_now(ticket_id, by=technician)

    synced = run(world.env, "sync")
    assert "Judged 2 new resolutions" in synced, synced
    posted = run(world.env, "post", "kudos")

    assert "Kudos digest queued: 1;" in posted, posted
    assert "delivered 1" in posted, posted
    (digest,) = kudos_posts(world.slack)[posted_before:]
    assert f"#{clean[0]}" in digest
    assert f"#{sloppy[0]}" in digest  # resolved without escalation too, though uncategorized
    engine = create_engine_for(world.database_url)
    try:
        with session_scope(engine) as session:
            nudged = {(n.ticket_id, n.reason) for n in notices.pending_nudges(session)}
        assert (sloppy[0], "uncategorized") in nudged
        assert (clean[0], "uncategorized") not in nudged  # (its company may still be nudged)

        # Once: neither another command-line sync and digest nor the bot's own sync
        # (which posts fresh kudos not posted yet) celebrates the ticket again.
        again = run(world.env, "sync")
        assert "Judged" not in again, again
        assert "Kudos digest queued: 0;" in run(world.env, "post", "kudos")
        bot(world, engine).sync()
        assert [p for p in kudos_posts(world.slack) if f"#{clean[0]}" in p] == [digest]
        assert [p for p in kudos_posts(world.slack) if f"#{sloppy[0]}" in p] == [digest]
    finally:
        engine.dispose()


def test_the_bot_posts_at_once_what_a_command_line_sync_judged(world):
    """Instant kudos: the bot's next sync queues the fresh kudos a command-line sync recorded."""
    run(world.env, "sync", "--since", (datetime.now(UTC) - timedelta(days=8)).date().isoformat())
    run(world.env, "post", "kudos")
    candidates = [c for c in open_answered_tickets(world.database_url) if c[2]]
    assert candidates
    ticket_id, technician, _ = candidates[0]
    # after the first sync began watching (ConnectWise keeps whole seconds)
    world.simulator.clock = datetime.now(UTC) + timedelta(seconds=2)
    world.simulator.resolve_ticket_now(ticket_id, by=technician)
    run(world.env, "sync")
    posted_before = len(kudos_posts(world.slack))

    engine = create_engine_for(world.database_url)
    try:
        report = bot(world, engine).sync()
    finally:
        engine.dispose()
    assert ticket_id not in report.newly_resolved  # the command line stored it already...
    (post,) = kudos_posts(world.slack)[posted_before:]  # ...and the bot still celebrates it
    assert f"#{ticket_id}" in post

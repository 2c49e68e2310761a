"""Posting needs only what posting needs: the bot token. Commands need a way in (the signing
secret or the app token). Half a setting is refused with the variable to set, and a contest
or kudos without a target on the configured platforms is refused by name, never skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.bot.slack.fake_slack import FakeSlack
from tests.environment import connectwise_environment, free_port

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)
CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[kudos]
channel = "CKUDOS"
[[contests]]
name = "Most resolved"
metric = "resolved"
start = "2026-11-01"
end = "2026-12-01"
channel = "CSTANDINGS"
"""
CHAT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "TEAMS_CLIENT_ID",
    "TEAMS_CLIENT_SECRET",
    "TEAMS_TENANT_ID",
    "TEAMS_WORKFLOW_URL",
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=4, start=START, end=END, tickets_per_workday=6)
    with SimulatorServer(msp, clock=END) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def env(simulator, slack, tmp_path, monkeypatch, database_url) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    for name in CHAT_VARIABLES:  # nothing from the machine running the tests
        monkeypatch.delenv(name, raising=False)
    base = {
        **connectwise_environment(simulator),
        "DESKBOARD_DATABASE_URL": database_url,
        "SLACK_API_URL": slack.api_url,
    }
    result = CliRunner().invoke(app, ["sync", "--since", "2026-11-02"], env=base)
    assert result.exit_code == 0, result.output
    return base


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def test_the_bot_token_alone_posts_standings_kudos_and_nudges(env, slack):
    only_token = {**env, "SLACK_BOT_TOKEN": "xoxb-1-2-post-only"}

    standings = invoke(only_token, "post", "leaderboard")
    kudos = invoke(only_token, "post", "kudos")
    nudges = invoke(only_token, "post", "nudges")

    assert standings.exit_code == 0, standings.output
    assert "Queued 1 standings post(s); delivered 1, failed 0." in standings.output
    channels = [c.params.get("channel") for c in slack.calls_to("chat.postMessage")]
    assert "CSTANDINGS" in channels
    assert kudos.exit_code == 0, kudos.output
    assert "Kudos digest queued:" in kudos.output
    assert nudges.exit_code == 0, nudges.output
    assert "Nudge digests queued:" in nudges.output
    assert all(c.token == "xoxb-1-2-post-only" for c in slack.calls)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "abc"}, "SLACK_CLIENT_ID"),
        ({"TEAMS_CLIENT_ID": "00000000-0000-4000-8000-000000000001"}, "TEAMS_CLIENT_SECRET"),
        ({"TEAMS_CLIENT_SECRET": "abc"}, "TEAMS_CLIENT_ID"),
        ({}, "no chat platform is configured"),
    ],
)
def test_half_a_chat_setting_is_refused_naming_what_is_missing(env, slack, given, named):
    result = invoke({**env, **given}, "post", "kudos")

    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert named in line
    assert not [c for c in slack.calls if c.method == "chat.postMessage"]


def test_a_contest_without_a_channel_on_the_configured_platform_is_refused(env, tmp_path):
    """Teams only, and the contest has a Slack channel only: nothing would be posted."""
    teams_only = {
        **env,
        "TEAMS_CLIENT_ID": "00000000-0000-4000-8000-000000000001",
        "TEAMS_CLIENT_SECRET": "teams-secret",
        "TEAMS_TENANT_ID": "11111111-2222-4333-8444-555555555555",
    }

    standings = invoke(teams_only, "post", "leaderboard")
    kudos = invoke(teams_only, "post", "kudos")

    assert standings.exit_code == 2, standings.output
    assert "contest 'Most resolved' has no channel on teams" in standings.stderr
    assert "teams_channel" in standings.stderr
    assert kudos.exit_code == 2, kudos.output
    assert "no kudos channel on teams" in kudos.stderr


def test_run_with_the_bot_token_alone_posts_and_says_commands_are_off(env, tmp_path: Path):
    port = free_port()
    process_env = {
        **{k: v for k, v in os.environ.items() if k not in CHAT_VARIABLES},
        **env,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "SLACK_BOT_TOKEN": "xoxb-1-2-post-only",
        "PORT": str(port),
    }
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=process_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            events = httpx.post(f"{base}/slack/events", content=b"command=%2Fleaderboard")
        finally:
            process.terminate()
            process.wait(timeout=30)
    shown = log.read_text()
    assert "Deskboard is running" in shown, shown
    assert "messages to slack" in shown
    assert "Slack posts only" in shown
    assert "SLACK_SIGNING_SECRET" in shown
    assert events.status_code == 404  # no Slack route without a way to verify requests

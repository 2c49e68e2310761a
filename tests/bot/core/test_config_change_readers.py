"""Numbers always follow the configuration in force: edit ``deskboard.toml`` after a sync and
``deskboard standings`` and ``deskboard post leaderboard`` show, without another sync, exactly
what a database synced under the new configuration from the start shows.

Each case syncs one database under the old configuration and then reads it under the new one;
the oracle is a second database synced under the new configuration only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from metrics.standings import comparable
from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.bot.slack.fake_slack import FakeSlack
from tests.environment import connectwise_environment

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)

COMMON = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[members]
exclude = ["dispatch"]
"""


def contest(metric: str) -> str:
    return f"""
[[contests]]
name = "Under test"
metric = "{metric}"
start = "2026-11-01"
end = "2026-12-01"
min_resolved = 1
channel = "CSTANDINGS"
"""


CATEGORIES_AB = """
[categories.urgent]
priority = ["Priority 1*", "Priority 2*"]
[categories.routine]
priority = ["Priority 3*", "Priority 4*"]
"""
CATEGORIES_BA = """
[categories.routine]
priority = ["Priority 3*", "Priority 4*"]
[categories.urgent]
priority = ["Priority 1*", "Priority 2*"]
"""
HOURS = """
[business_hours]
start = "{start}"
end = "{end}"
waiting_statuses = {waiting}
"""

# (before, after[, what values derived under "before" would show if read under "after"
# without deriving them again: reordered categories swap their bits, so the old urgent
# numbers would show as routine ones]; the witness defaults to "before" itself)
CHANGES: dict[str, tuple[str, ...]] = {
    "categories reordered": (
        CATEGORIES_AB + contest("resolved@urgent"),
        CATEGORIES_BA + contest("resolved@urgent"),
        CATEGORIES_AB + contest("resolved@routine"),
    ),
    "a category edited": (
        CATEGORIES_AB + contest("resolved@routine"),
        CATEGORIES_AB.replace('"Priority 4*"', '"Priority 2*"') + contest("resolved@routine"),
    ),
    "business hours": (
        HOURS.format(start="08:00", end="17:00", waiting="[]") + contest("avg_response_minutes"),
        HOURS.format(start="06:00", end="12:00", waiting="[]") + contest("avg_response_minutes"),
    ),
    "waiting statuses": (
        HOURS.format(start="08:00", end="17:00", waiting="[]") + contest("avg_resolution_hours"),
        HOURS.format(start="08:00", end="17:00", waiting='["In Progress"]')
        + contest("avg_resolution_hours"),
    ),
    "time basis": (
        contest("avg_response_minutes"),
        '[metrics]\ntime_basis = "calendar"\n' + contest("avg_response_minutes"),
    ),
}


# Waiting statuses pause the clock between status changes the store has seen: those cases
# sync twice, a week apart, so that tickets have a history to pause in.
SYNC_AT = {"waiting statuses": (START + timedelta(days=5), END)}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=5, start=START, end=END, tickets_per_workday=12)
    with SimulatorServer(msp, clock=END) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def environment(simulator: SimulatorServer, slack: FakeSlack, database_url: str) -> dict[str, str]:
    return {
        **connectwise_environment(simulator),
        "DESKBOARD_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-1-2-readers",
        "SLACK_API_URL": slack.api_url,
    }


def run(env: dict[str, str], config: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def standings(env: dict[str, str], config: Path) -> list[dict[str, object]]:
    """The ranked rows, values to the 9 significant digits ties are judged on: two databases
    may sum the same numbers in another order (PostgreSQL does) and differ in the last bit."""
    (shown,) = json.loads(run(env, config, "standings", "--json"))["contests"]
    return [
        {k: comparable(v) if k == "value" else v for k, v in row.items() if k != "name"}
        for row in shown["ranked"]
    ]


def posted_leaderboard(env: dict[str, str], config: Path, slack: FakeSlack) -> str:
    """The blocks of the leaderboard ``post leaderboard`` sends, without its "data as of"."""
    before = len(slack.calls_to("chat.postMessage"))
    run(env, config, "post", "leaderboard")
    (post,) = slack.calls_to("chat.postMessage")[before:]
    blocks = post.params["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps([b for b in blocks if b.get("type") != "context"], sort_keys=True)


@pytest.mark.parametrize("change", list(CHANGES))
def test_readers_show_the_numbers_of_the_configuration_in_force(
    change, simulator, slack, databases, tmp_path
):
    before, after, *witness = CHANGES[change]
    old, new, stale = tmp_path / "old.toml", tmp_path / "new.toml", tmp_path / "stale.toml"
    old.write_text(COMMON + before)
    new.write_text(COMMON + after)
    stale.write_text(COMMON + (witness[0] if witness else before))
    edited_url, oracle_url = databases.fresh_url(), databases.fresh_url()
    try:
        edited = environment(simulator, slack, edited_url)
        oracle = environment(simulator, slack, oracle_url)
        for moment in SYNC_AT.get(change, (END,)):
            simulator.clock = moment
            run(edited, old, "sync", "--since", "2026-11-02")
            run(oracle, new, "sync", "--since", "2026-11-02")
        under_old = standings(edited, old)
        stale_numbers = standings(edited, stale)
        expected = standings(oracle, new)
        assert expected, "the contest must rank someone to prove anything"
        assert stale_numbers != expected, "stale values must show other numbers"

        assert standings(edited, new) == expected  # no sync in between
        assert posted_leaderboard(edited, new, slack) == posted_leaderboard(oracle, new, slack)
        assert standings(edited, old) == under_old  # and back: the old numbers again
    finally:
        databases.drop(edited_url)
        databases.drop(oracle_url)

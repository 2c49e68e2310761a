"""`deskboard standings --period ... --json` and `deskboard status --json`, through the real
commands: sync from the ConnectWise simulator over HTTP, then read the answers and check them
against numbers counted independently, from the simulator's own tickets or from `metrics
--json`, and against the text form."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import bot.cli_common
from bot.cli import app
from metrics.records import member_key
from psa.connectwise.mapping import map_ticket
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import to_epoch
from storage import outbox, repo
from storage.db import create_engine_for, session_scope
from tests.environment import connectwise_environment

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 13, 22, 0, tzinfo=UTC)  # Friday 13 Nov 2026, 16:00 in Chicago
BOARDS = ("Service Desk", "Escalations")
CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk", "Escalations"]
[members]
exclude = ["dispatch"]
[categories.urgent]
priority = ["Priority 1*", "Priority 2*"]
[[scores]]
name = "Points"
weights = { resolved = 1, reopened = -2 }
[[contests]]
name = "Weekly resolved"
metric = "resolved"
period = "weekly"
kind = "places"
[[contests]]
name = "Quick answers"
metric = "avg_response_minutes"
period = "monthly"
kind = "winner_takes_all"
[[contests]]
name = "Urgent answers"
metric = "avg_response_minutes@urgent"
period = "monthly"
kind = "one_goal"
goal = 60
min_resolved = 1
[[contests]]
name = "Points race"
metric = "Points"
period = "monthly"
kind = "multi_goal"
goals = [5, 10]
[[contests]]
name = "November sprint"
metric = "resolved"
start = "2026-11-01"
end = "2026-12-01"
"""
ALL = ["Weekly resolved", "Quick answers", "Urgent answers", "Points race", "November sprint"]
RECURRING = ALL[:-1]

WEEK_OF_2_NOV = {"from": "2026-11-02T00:00:00-06:00", "to": "2026-11-09T00:00:00-06:00"}
WEEK_OF_9_NOV = {"from": "2026-11-09T00:00:00-06:00", "to": "2026-11-16T00:00:00-06:00"}
# Daylight saving time ends at 02:00 on 1 Nov 2026 in Chicago: November starts at -05:00.
NOVEMBER = {"from": "2026-11-01T00:00:00-05:00", "to": "2026-12-01T00:00:00-06:00"}
OCTOBER = {"from": "2026-10-01T00:00:00-05:00", "to": "2026-11-01T00:00:00-05:00"}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=5, start=START, end=END, tickets_per_workday=12)
    with SimulatorServer(msp, clock=END) as running:
        yield running


@pytest.fixture
def env(server, tmp_path, monkeypatch, database_url) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    return {
        **connectwise_environment(server),
        "DESKBOARD_DATABASE_URL": database_url,
    }


@pytest.fixture
def synced(env, monkeypatch) -> dict[str, str]:
    """The simulator's tickets in the database; the command line's clock then at NOW."""
    run(env, "sync", "--since", "2026-11-02")
    monkeypatch.setattr(bot.cli_common, "now", lambda: NOW)
    return env


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == "", result.stderr
    return result.stdout


def run_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    return json.loads(run(env, *args, "--json"))  # the whole of stdout is the one object


def contests_by_name(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert set(out) == {"contests"}
    return {c["name"]: c for c in out["contests"]}


def display_names(msp: SimulatedMSP) -> dict[str, str]:
    """Member key → "First Last", from the simulator's member records."""
    names = {}
    for m in msp.members:
        full = " ".join(p for p in (m.get("firstName"), m.get("lastName")) if p)
        names[m["identifier"].casefold()] = full or m["identifier"]
    return names


def counted_by_hand(msp: SimulatedMSP, start: datetime, end: datetime) -> dict[str, int]:
    """Resolved in-scope tickets per member in ``[start, end)``, from the simulator's own
    tickets; members who only responded in the window count 0."""
    resolved: dict[str, int] = {}
    for ticket in msp.tickets:
        record = map_ticket(ticket.render(to_epoch(END), "http://sim/apis/3.0"))
        if record.board not in BOARDS:
            continue
        responder = member_key(record.responder)
        if responder not in (None, "dispatch") and start <= record.responded_at < end:
            resolved.setdefault(responder, 0)
        resolver = member_key(record.resolver)
        if resolver in (None, "dispatch") or record.resolved_at is None:
            continue
        if start <= record.resolved_at < end:
            resolved[resolver] = resolved.get(resolver, 0) + 1
    return resolved


def ranked_by_hand(values: dict[str, float], *, higher: bool) -> list[tuple[int, str, float]]:
    """(rank, member, value): best first, equal values sharing a rank (1, 1, 3), listed by
    member key."""
    order = sorted(values, key=lambda m: (-values[m] if higher else values[m], m))
    return [
        (1 + sum(1 for v in values.values() if (v > values[m] if higher else v < values[m])), m,
         values[m])
        for m in order
    ]  # fmt: skip


def window_instants(window: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(window["from"]), datetime.fromisoformat(window["to"])


def check_resolved_contest(contest: dict[str, Any], msp: SimulatedMSP, places: int) -> None:
    """A `resolved` places contest against the count from the simulator's tickets."""
    counts = counted_by_hand(msp, *window_instants(contest["window"]))
    assert sum(counts.values()) > 10  # a window with real data: the check means something
    names = display_names(msp)
    qualified = {m: float(n) for m, n in counts.items() if n >= 1}
    expected = [
        {"rank": rank, "member": m, "name": names[m], "value": v, "winner": rank <= places}
        for rank, m, v in ranked_by_hand(qualified, higher=True)
    ]
    assert contest["ranked"] == expected
    assert contest["not_qualified"] == [
        {"member": m, "value": 0.0, "resolved": 0} for m in sorted(counts) if counts[m] == 0
    ]


def test_standings_json_matches_the_tickets_counted_by_hand(synced, server):
    out = contests_by_name(run_json(synced, "standings", "weekly RESOLVED"))
    assert list(out) == ["Weekly resolved"]  # the name matches without regard to case
    weekly = out["Weekly resolved"]
    assert weekly["metric"] == "resolved"
    assert weekly["kind"] == "places"
    assert weekly["window"] == WEEK_OF_9_NOV  # the week containing NOW, Monday to Monday
    engine = create_engine_for(synced["DESKBOARD_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            as_of = repo.data_as_of(session)
    finally:
        engine.dispose()
    assert as_of is not None
    assert weekly["data_as_of"] == as_of.isoformat()
    check_resolved_contest(weekly, server.msp, places=3)
    assert all(isinstance(s["value"], float) for s in weekly["ranked"])
    assert all(isinstance(s["rank"], int) for s in weekly["ranked"])


def test_rates_are_ranked_unrounded_as_metrics_computes_them(synced):
    contest = contests_by_name(run_json(synced, "standings", "Quick answers"))["Quick answers"]
    assert contest["window"] == NOVEMBER
    assert contest["kind"] == "winner_takes_all"
    assert contest["metric"] == "avg_response_minutes"
    members = run_json(synced, "metrics", "--from", "2026-11-01", "--to", "2026-12-01")["members"]
    qualified = {
        m: v["avg_response_minutes"]
        for m, v in members.items()
        if v["resolved"] >= 5 and v["avg_response_minutes"] is not None  # rates need 5
    }
    assert 2 <= len(qualified) < len(members)  # some rank, some do not qualify yet
    ranked = [(s["rank"], s["member"], s["value"]) for s in contest["ranked"]]
    assert ranked == ranked_by_hand(qualified, higher=False)  # lower is better; exact values
    assert [s["winner"] for s in contest["ranked"]] == [s["rank"] == 1 for s in contest["ranked"]]
    assert any(round(v, 2) != v for v in qualified.values())  # rounding would have shown
    assert contest["not_qualified"] == [
        {"member": m, "value": v["avg_response_minutes"], "resolved": v["resolved"]}
        for m, v in members.items()
        if m not in qualified
    ]


def test_category_metrics_and_scores_are_named_as_configured(synced):
    out = contests_by_name(run_json(synced, "standings"))
    assert list(out) == ALL
    assert [(c["metric"], c["kind"]) for c in out.values()] == [
        ("resolved", "places"),
        ("avg_response_minutes", "winner_takes_all"),
        ("avg_response_minutes@urgent", "one_goal"),
        ("Points", "multi_goal"),
        ("resolved", "places"),
    ]
    members = run_json(synced, "metrics", "--from", "2026-11-01", "--to", "2026-12-01")["members"]
    points = {m: v["resolved"] - 2 * v["reopened"] for m, v in members.items()}
    race = out["Points race"]
    assert race["window"] == NOVEMBER
    assert [(s["rank"], s["member"], s["value"]) for s in race["ranked"]] == ranked_by_hand(
        {m: float(p) for m, p in points.items() if members[m]["resolved"] >= 1}, higher=True
    )
    assert [s["winner"] for s in race["ranked"]] == [s["value"] >= 5 for s in race["ranked"]]
    urgent = out["Urgent answers"]
    assert urgent["ranked"]
    assert [s["winner"] for s in urgent["ranked"]] == [s["value"] <= 60 for s in urgent["ranked"]]
    assert out["November sprint"]["window"] == NOVEMBER


def test_previous_period_and_a_date_give_those_windows(synced, server):
    result = CliRunner().invoke(app, ["standings", "--period", "previous", "--json"], env=synced)
    assert result.exit_code == 0, result.output
    out = contests_by_name(json.loads(result.stdout))
    assert list(out) == RECURRING  # the fixed-date contest has no previous period
    assert result.stderr == (
        "note: contest 'November sprint' runs from 2026-11-01 to 2026-12-01 (end exclusive); "
        "it has no previous period; left out\n"
    )
    assert out["Weekly resolved"]["window"] == WEEK_OF_2_NOV
    for name in RECURRING[1:]:
        assert out[name]["window"] == OCTOBER
        assert out[name]["ranked"] == []  # the simulator's tickets start in November
    check_resolved_contest(out["Weekly resolved"], server.msp, places=3)

    # A Monday: the period containing local noon of that date, not UTC midnight (a Sunday
    # evening in Chicago, in the week before).
    monday = contests_by_name(run_json(synced, "standings", "--period", "2026-11-09"))
    assert list(monday) == ALL
    assert monday["Weekly resolved"]["window"] == WEEK_OF_9_NOV
    assert monday["November sprint"]["window"] == NOVEMBER
    sunday = contests_by_name(run_json(synced, "standings", "--period", "2026-11-08"))
    assert sunday["Weekly resolved"]["window"] == WEEK_OF_2_NOV
    assert sunday["Weekly resolved"]["ranked"] == out["Weekly resolved"]["ranked"]
    assert sunday["Quick answers"]["window"] == NOVEMBER

    assert run_json(synced, "standings", "--period", "current") == run_json(synced, "standings")


def test_a_date_outside_a_fixed_contest_leaves_it_out_or_fails_when_named(synced):
    result = CliRunner().invoke(app, ["standings", "--period", "2026-10-15", "--json"], env=synced)
    assert result.exit_code == 0, result.output
    out = contests_by_name(json.loads(result.stdout))
    assert list(out) == RECURRING
    assert out["Quick answers"]["window"] == OCTOBER
    assert result.stderr.count("\n") == 1
    assert "'November sprint'" in result.stderr
    assert "2026-10-15 is outside it; left out" in result.stderr

    last_day = run_json(synced, "standings", "November sprint", "--period", "2026-11-30")
    assert contests_by_name(last_day)["November sprint"]["window"] == NOVEMBER
    for period in ("previous", "2026-12-01"):  # the end date is exclusive
        named = CliRunner().invoke(
            app, ["standings", "November sprint", "--period", period, "--json"], env=synced
        )
        assert named.exit_code == 2
        assert named.stdout == ""
        assert named.stderr.startswith("error: contest 'November sprint' runs from 2026-11-01")
        assert named.stderr.count("\n") == 1


def test_nothing_left_to_show_is_an_error(env, tmp_path):
    only_fixed = tmp_path / "sprint.toml"
    only_fixed.write_text(
        '[[contests]]\nname = "Sprint"\nmetric = "resolved"\n'
        'start = "2026-11-01"\nend = "2026-12-01"\n'
    )
    result = CliRunner().invoke(
        app, ["standings", "-c", str(only_fixed), "--period", "previous", "--json"], env=env
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "note: contest 'Sprint' runs from 2026-11-01 to 2026-12-01 (end exclusive); "
        "it has no previous period; left out",
        "error: no contest has a previous period; try --period current",
    ]


@pytest.mark.parametrize("period", ["last-week", "2026-13-01", "", "Nov 2026"])
def test_a_bad_period_is_a_usage_error(env, period):
    result = CliRunner().invoke(app, ["standings", "--period", period], env=env)
    assert result.exit_code == 2
    words = " ".join(result.output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
    assert f"Invalid value for --period: {period!r} is not current, previous or a date" in words


def test_the_text_form_names_the_period(synced):
    shown = run(synced, "standings", "Weekly resolved", "--period", "previous")
    assert "Previous period (weekly): 2026-11-02 00:00 CST → 2026-11-09 00:00 CST" in shown
    assert "Week of 2 Nov 2026" in shown
    fixed = run(synced, "standings", "November sprint")
    assert "Fixed dates: 2026-11-01 00:00 CDT → 2026-12-01 00:00 CST" in fixed
    dated = run(synced, "standings", "Quick answers", "--period", "2026-10-31")
    assert "Period containing 2026-10-31 (monthly): 2026-10-01 00:00 CDT" in dated
    assert "October 2026" in dated


def text_status(env: dict[str, str]) -> dict[str, str]:
    """`deskboard status` as {label: text}."""
    lines = run(env, "status").splitlines()
    return {label.strip(): value.strip() for label, _, value in (s.partition(":") for s in lines)}


def shown(at: str | None) -> str:
    """How the text form shows an instant of the JSON form."""
    if at is None:
        return "never"
    return f"{datetime.fromisoformat(at).astimezone(CHICAGO):%Y-%m-%d %H:%M %Z}"


def test_status_json_of_a_new_database(env):
    assert run_json(env, "status") == {
        "tickets_stored": 0,
        "last_sync": None,
        "last_sync_failed": False,
        "watermark": None,
        "last_error": None,
        "messages_waiting": 0,
        "given_up": 0,
        "delivery_error": None,
    }
    assert text_status(env) == {
        "Tickets stored": "0",
        "Last sync": "never",
        "Watermark": "never",
        "Messages waiting": "0",
    }


def test_status_json_says_what_the_text_says(env):
    run(env, "sync", "--since", "2026-11-02")
    failed = CliRunner().invoke(app, ["sync"], env={**env, "CW_PRIVATE_KEY": "wrong"})
    assert failed.exit_code == 1
    engine = create_engine_for(env["DESKBOARD_DATABASE_URL"])
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    try:
        with session_scope(engine) as session:
            for key in ("waits", "retries", "gave-up"):
                outbox.enqueue(session, key=key, kind="post", target="#floor",
                               message={"text": key}, now=at)  # fmt: skip
        with session_scope(engine) as session:
            retries = outbox.get_item(session, key="retries")
            gave_up = outbox.get_item(session, key="gave-up")
            assert retries is not None
            assert gave_up is not None
            outbox.mark_failed(session, item_id=gave_up.id, at=at, error="channel_not_found",
                               retry_at=None)  # fmt: skip
            outbox.mark_failed(session, item_id=retries.id, at=at + timedelta(minutes=5),
                               error="ratelimited", retry_at=at + timedelta(hours=1))  # fmt: skip
        with session_scope(engine) as session:
            state = repo.get_sync_state(session)
            stored = repo.count_tickets(session)
    finally:
        engine.dispose()

    out = run_json(env, "status")
    assert set(out) == {
        "tickets_stored", "last_sync", "last_sync_failed", "watermark", "last_error",
        "messages_waiting", "given_up", "delivery_error",
    }  # fmt: skip
    assert out["tickets_stored"] == stored > 50
    assert out["last_sync"] == state.last_sync_finished_at.isoformat()
    assert out["watermark"] == state.watermark.isoformat()
    assert out["last_sync_failed"] is True
    assert out["last_error"] == {
        "at": state.last_error_at.isoformat(),
        "message": state.last_error,
    }
    assert "CW_PRIVATE_KEY" in out["last_error"]["message"]
    assert out["messages_waiting"] == 2
    assert out["given_up"] == 1
    assert out["delivery_error"] == {
        "at": (at + timedelta(minutes=5)).isoformat(),
        "message": "ratelimited",
        "key": "retries",
    }

    text = text_status(env)
    assert text["Tickets stored"] == str(out["tickets_stored"])
    assert text["Last sync"] == f"{shown(out['last_sync'])} (the latest sync failed)"
    assert text["Watermark"] == shown(out["watermark"])
    last_error = out["last_error"]
    assert text["Last error"] == f"{shown(last_error['at'])}: {last_error['message']}"
    assert text["Messages waiting"] == str(out["messages_waiting"])
    assert text["Messages given up"] == str(out["given_up"])
    delivery = out["delivery_error"]
    assert text["Delivery error"] == (
        f"{shown(delivery['at'])}: {delivery['message']} ({delivery['key']})"
    )

"""`deskboard alerts --json` against the ConnectWise simulator with its clock moved: the
tickets each rule flags, checked against a count made from the simulator's own tickets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import bot.cli_common
from bot.cli import app
from bot.config import parse_config
from metrics.records import TicketRecord
from psa.connectwise.mapping import map_ticket
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import to_epoch
from tests.environment import connectwise_environment

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 10, 26, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
BOARDS = ("Service Desk", "Escalations")
CONFIG = """
timezone = "America/Chicago"
[business_hours]
holidays = "US"
[connectwise]
boards = ["Service Desk", "Escalations"]
sync_notes = false
[csat]
surveys = false
[categories.emergency]
priority = ["*Emergency*"]

[[alerts]]
name = "Emergency unanswered"
category = "emergency"
when = "unanswered"
after = "15m"
clock = "calendar"
notify = ["owner", "channel"]
channel = "C0123ALERTS"

[[alerts]]
name = "Resolution due"
when = "unresolved"
before_due = "30m"

[[alerts]]
name = "Stale"
when = "unresolved"
after = "3d"
"""
CALENDAR = parse_config(
    {"timezone": "America/Chicago", "business_hours": {"holidays": "US"}}
).calendar()


@pytest.fixture(scope="module")
def msp() -> SimulatedMSP:
    return generate_msp(
        seed=23, start=START, end=END, tickets_per_workday=14, night_emergencies=True
    )


@pytest.fixture
def server(msp: SimulatedMSP) -> Iterator[SimulatorServer]:
    with SimulatorServer(msp, clock=START) as running:
        yield running


def records_at(msp: SimulatedMSP, clock: datetime) -> list[TicketRecord]:
    """Every ticket as ConnectWise shows it at ``clock``, on the configured boards."""
    found = []
    for ticket in msp.tickets:
        raw = ticket.render(to_epoch(clock), "http://sim/apis/3.0")
        if raw is not None and raw.get("board", {}).get("name") in BOARDS:
            found.append(map_ticket(raw))
    return found


def still_open(t: TicketRecord) -> bool:
    return not t.closed and t.resolved_at is None and t.entered_at is not None


def truth(msp: SimulatedMSP, clock: datetime) -> dict[str, set[int]]:
    """Each rule's tickets, counted plainly from the simulator's tickets at ``clock``."""
    tickets = [t for t in records_at(msp, clock) if still_open(t)]
    open_now = CALENDAR.is_open(clock)
    emergencies = {
        t.id
        for t in tickets
        if "Emergency" in (t.priority or "")
        and t.responded_at is None
        and t.entered_at is not None
        and clock - t.entered_at >= timedelta(minutes=15)
    }
    due = {
        t.id
        for t in tickets
        if open_now
        and (t.sla_stage or "") == "resolve"
        and t.sla_due_at is not None
        and clock >= t.sla_due_at - timedelta(minutes=30)
    }
    stale = {
        t.id
        for t in tickets
        if open_now
        and t.entered_at is not None
        and CALENDAR.working_minutes(t.entered_at, clock) >= 3 * 9 * 60
    }
    return {"Emergency unanswered": emergencies, "Resolution due": due, "Stale": stale}


def test_alerts_follow_the_simulator_as_its_clock_moves(server, msp, tmp_path, monkeypatch,
                                                         database_url):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    env = {**connectwise_environment(server), "DESKBOARD_DATABASE_URL": database_url}
    runner = CliRunner()
    seen = {"Emergency unanswered": set(), "Resolution due": set(), "Stale": set()}
    night_emergencies = 0
    # 20 minutes after each of the first night emergencies, and a few times of day
    nights = sorted(
        t.entered_at + timedelta(minutes=20)
        for t in records_at(msp, END)
        if "Emergency" in (t.priority or "")
        and t.entered_at is not None
        and not CALENDAR.is_open(t.entered_at)
    )[:3]
    days = [
        datetime(2026, 11, 4, 10, 30), datetime(2026, 11, 6, 16, 45),
        datetime(2026, 11, 10, 9, 15), datetime(2026, 11, 17, 14, 0),
        datetime(2026, 11, 26, 12, 0),  # Thanksgiving: the desk is closed
        datetime(2026, 11, 27, 8, 30),  # and open again the day after
    ]  # fmt: skip
    # the night the clocks fall back: 01:30 CDT, then 01:30 CST an hour later
    fall_back = [
        datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO),
    ]
    moments = sorted(
        [
            *nights,
            *(d.replace(tzinfo=CHICAGO).astimezone(UTC) for d in days),
            *(d.astimezone(UTC) for d in fall_back),
        ]
    )
    for clock in moments:
        moment = clock.astimezone(CHICAGO)
        server.clock = clock
        monkeypatch.setattr(bot.cli_common, "now", lambda clock=clock: clock)
        synced = runner.invoke(app, ["sync", "--since", "2026-10-26"], env=env)
        assert synced.exit_code == 0, synced.output
        result = runner.invoke(app, ["alerts", "--json"], env=env)
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["as_of"] == clock.isoformat()
        got = {rule["name"]: {t["id"] for t in rule["tickets"]} for rule in out["rules"]}
        expected = truth(msp, clock)
        assert got == expected, moment
        for name, ids in got.items():
            seen[name] |= ids
        if not CALENDAR.is_open(clock):  # nights, weekends, Thanksgiving
            night_emergencies += len(got["Emergency unanswered"])
            assert got["Resolution due"] == got["Stale"] == set()  # quiet while closed
        for rule in out["rules"]:
            ages = [t["age_minutes"] for t in rule["tickets"]]
            assert ages == sorted(ages, reverse=True)  # the oldest first
    # every rule flagged something somewhere, and an emergency was flagged at night
    assert all(seen.values()), {k: len(v) for k, v in seen.items()}
    assert night_emergencies > 0
    # the two 01:30s of 1 November were two instants an hour apart, both checked
    first, second = (d.astimezone(UTC) for d in fall_back)
    assert second - first == timedelta(hours=1)
    assert {first, second} <= set(moments)


def test_the_table_lists_each_rule(server, tmp_path, monkeypatch, database_url):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    env = {**connectwise_environment(server), "DESKBOARD_DATABASE_URL": database_url}
    clock = datetime(2026, 11, 10, 3, 0, tzinfo=CHICAGO).astimezone(UTC)
    server.clock = clock
    monkeypatch.setattr(bot.cli_common, "now", lambda: clock)
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--since", "2026-10-26"], env=env).exit_code == 0
    result = runner.invoke(app, ["alerts"], env=env)
    assert result.exit_code == 0, result.output
    assert "Emergency unanswered: unanswered, calendar clock" in result.output
    assert "Stale: unresolved, business clock: no ticket at risk" in result.output  # night

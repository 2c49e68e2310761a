"""`deskboard metrics --tickets FILE --json` on a small hand-computed ticket set.

November 2026 in America/Chicago (CST, UTC-6), business hours Mon-Fri 08:00-17:00, no public
holidays configured: November has 21 weekdays. Every expected number is worked out in a comment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.bot.tickets import ref, ticket

CONFIG = """
timezone = "America/Chicago"
[connectwise]
boards = ["Service Desk"]
catchall_company = "Catchall"
[business_hours]
start = "08:00"
end = "17:00"
[members]
exclude = ["dispatch"]
"""

TICKETS = [
    # T1: JSmith responds and resolves (no escalation), fully categorized, on an agreement.
    # Mon 2 Nov 08:00 CST entered, 08:30 responded, 10:00 resolved → 30 min / 2 h both ways.
    ticket(
        1,
        entered="2026-11-02T14:00:00Z",
        respondedBy="JSmith",
        dateResponded="2026-11-02T14:30:00Z",
        resolvedBy="jsmith",
        dateResolved="2026-11-02T16:00:00Z",
        closedFlag=True,
        type=ref("Hardware"),
        subType=ref("Laptop"),
        item=ref("Battery"),
        agreement=ref("Managed Services"),
        actualHours=1.5,
        respondMinutes=30,
        resPlanMinutes=0,
        resolveMinutes=60,
    ),
    # T2: Dispatch responds, JSmith resolves (an escalation); no item, no agreement, Catchall.
    # Mon 14:00 CST → Tue 10:00 CST: calendar 20 h; business 180 + 120 = 300 min = 5 h;
    # SLA 10 + (no resplan) + 200 = 210 min.
    ticket(
        2,
        entered="2026-11-02T20:00:00Z",
        company="catchall",
        status="In Progress",
        respondedBy="Dispatch",
        dateResponded="2026-11-02T20:10:00Z",
        resolvedBy="JSmith",
        dateResolved="2026-11-03T16:00:00Z",
        type=ref("Software"),
        subType=ref("Office"),
        actualHours=0.5,
        respondMinutes=10,
        resolveMinutes=200,
    ),
    # T3: closed by akhan (closedBy/closedDate stand in for resolvedBy/dateResolved), no
    # responder (not judgeable), no type, no company (counts as Catchall), no actualHours (0).
    # Thu 5 Nov 09:00 → 11:00 CST: 2 h both ways; no SLA fields → null on the sla basis.
    ticket(
        3,
        entered="2026-11-05T15:00:00Z",
        company=None,
        closedFlag=True,
        closedBy="akhan",
        closedDate="2026-11-05T17:00:00Z",
        agreement=ref("Block hours"),
    ),
    # T4: AKhan's October work: outside the window, counts for nothing.
    ticket(
        4,
        entered="2026-10-30T14:00:00Z",
        respondedBy="AKhan",
        dateResponded="2026-10-30T14:05:00Z",
        resolvedBy="AKhan",
        dateResolved="2026-10-30T15:00:00Z",
    ),
    # T5: open, owned by JSmith, responded by AKhan Tue 10 Nov 08:00 → 09:00 CST: 60 min;
    # ConnectWise's SLA clock says 45.
    ticket(
        5,
        entered="2026-11-10T14:00:00Z",
        status="In Progress",
        owner={"id": 3, "identifier": "JSmith", "name": "Jane Smith"},
        respondedBy="AKhan",
        dateResponded="2026-11-10T15:00:00Z",
        respondMinutes=45,
    ),
    # T6, T7: unreadable (non-integer id; unparseable timestamp): skipped, the rest stored.
    ticket("abc", entered="2026-11-03T10:00:00Z"),
    ticket(7, entered="yesterday-ish", resolvedBy="JSmith", dateResolved="2026-11-04T10:00:00Z"),
    # T8: a board outside [connectwise] boards counts for nothing.
    ticket(
        8,
        entered="2026-11-04T14:00:00Z",
        board="Projects",
        respondedBy="JSmith",
        dateResponded="2026-11-04T14:01:00Z",
        resolvedBy="JSmith",
        dateResolved="2026-11-04T15:00:00Z",
    ),
]

# Values that do not depend on the time basis. 21 working days in November 2026.
COMMON = {
    "jsmith": {
        "resolved": 2,
        "categorized_pct": 50.0,  # T1 of {T1, T2}
        "type_categorized": 2,
        "subtype_categorized": 2,
        "item_categorized": 1,
        "no_agreement_resolved": 1,  # T2
        "catchall_resolved": 1,  # T2 ("catchall" matches "Catchall" case-insensitively)
        "escalated_resolved": 1,  # T2: Dispatch → JSmith
        "resolved_without_escalation": 1,  # T1
        "pct_without_escalation": 50.0,
        "avg_handle_hours": 1.0,  # (1.5 + 0.5) / 2
        "tickets_per_day": 2 / 21,
    },
    "akhan": {
        "resolved": 1,
        "categorized_pct": 0.0,
        "type_categorized": 0,
        "subtype_categorized": 0,
        "item_categorized": 0,
        "no_agreement_resolved": 0,
        "catchall_resolved": 1,  # T3 has no company
        "escalated_resolved": 0,
        "resolved_without_escalation": 0,
        "pct_without_escalation": None,  # no judgeable ticket: null, never 0
        "avg_handle_hours": 0.0,
        "tickets_per_day": 1 / 21,
    },
}

BY_BASIS = {
    "calendar": {
        "jsmith": {"avg_resolution_hours": (2 + 20) / 2, "avg_response_minutes": 30.0},
        "akhan": {"avg_resolution_hours": 2.0, "avg_response_minutes": 60.0},
    },
    "business": {
        "jsmith": {"avg_resolution_hours": (120 + 300) / 2 / 60, "avg_response_minutes": 30.0},
        "akhan": {"avg_resolution_hours": 2.0, "avg_response_minutes": 60.0},
    },
    "sla": {
        "jsmith": {"avg_resolution_hours": (90 + 210) / 2 / 60, "avg_response_minutes": 30.0},
        "akhan": {"avg_resolution_hours": None, "avg_response_minutes": 45.0},
    },
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESKBOARD_DATABASE_URL", database_url)
    tickets = tmp_path / "tickets.json"
    tickets.write_text(json.dumps(TICKETS))
    config = tmp_path / "deskboard.toml"
    config.write_text(CONFIG)
    return tickets, config


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["metrics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("basis", ["calendar", "business", "sla"])
def test_every_metric_matches_the_hand_computed_values(files, basis):
    tickets, config = files
    out = run_json(
        "--tickets", str(tickets), "-c", str(config),
        "--from", "2026-11-01", "--to", "2026-12-01", "--time-basis", basis,
    )  # fmt: skip
    assert set(out["members"]) == {"jsmith", "akhan"}  # dispatch is excluded
    for member, expected in COMMON.items():
        expected = {**expected, **BY_BASIS[basis][member]}
        got = out["members"][member]
        for key, value in expected.items():
            assert got[key] == pytest.approx(value) if value is not None else got[key] is None, key


def test_json_shape_is_the_one_metrics_md_specifies(files):
    tickets, config = files
    out = run_json(
        "--tickets", str(tickets), "-c", str(config), "--from", "2026-11-01", "--to", "2026-12-01"
    )
    assert out["from"] == "2026-11-01T00:00:00-05:00"  # CDT until 1 Nov 02:00
    assert out["to"] == "2026-12-01T00:00:00-06:00"
    assert out["timezone"] == "America/Chicago"
    assert out["time_basis"] == "business"
    metric_keys = set(out["members"]["jsmith"])
    # from a file: no backlog or reopened (need the database), no first_contact_pct (notes)
    assert metric_keys == set(COMMON["jsmith"]) | {"avg_resolution_hours", "avg_response_minutes"}


def test_unreadable_tickets_are_skipped_and_named(files):
    tickets, config = files
    result = CliRunner().invoke(
        app,
        [
            "metrics",
            "--tickets",
            str(tickets),
            "-c",
            str(config),
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 unreadable ticket(s) skipped" in result.output
    assert "ticket 7: dateEntered" in result.output
    assert "ticket abc: id" in result.output


def plain(output: str) -> str:
    """Usage errors come in a box that wraps lines; keep only the words."""
    return " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def test_bad_arguments_get_a_clear_error(files):
    tickets, _config = files
    runner = CliRunner()
    bad_date = runner.invoke(app, ["metrics", "--tickets", str(tickets), "--from", "1 Nov"])
    assert bad_date.exit_code == 2
    assert "Invalid value for --from: '1 Nov' is not a date YYYY-MM-DD" in plain(bad_date.output)
    bad_basis = runner.invoke(app, ["metrics", "--tickets", str(tickets), "--time-basis", "wall"])
    assert bad_basis.exit_code == 2
    assert "'wall' is not one of business | sla | calendar" in plain(bad_basis.output)
    not_array = tickets.parent / "one.json"
    not_array.write_text('{"id": 1}')
    result = runner.invoke(app, ["metrics", "--tickets", str(not_array)])
    assert result.exit_code == 2
    assert "expected a JSON array of tickets" in result.output


def test_the_console_script_runs(files):
    """The installed `deskboard` entry point, as a user runs it."""
    tickets, config = files
    exe = Path(sys.executable).with_name("deskboard")
    proc = subprocess.run(
        [str(exe), "metrics", "--tickets", str(tickets), "-c", str(config),
         "--from", "2026-11-01", "--to", "2026-12-01", "--json"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["members"]["jsmith"]["resolved"] == 2

"""The numbers on ConnectWise responses captured from real servers (data we did not write).

The samples live in ../shared/connectwise/samples beside the checkout (as on CI); they are read
in place, never copied into the project. Two closed tickets from a ConnectWise sandbox, an
open one and a new unresponded one from a staging server:

- 3186: entered Thu 2018-08-09 15:22:36Z, closed by "User" 2018-08-10 17:39:12Z (dateResolved;
  no resolvedBy, so closedBy on a closed ticket); type only; no agreement; 1.07 h logged;
  SLA minutes 0 + 0 + 306.
- 3204: entered Thu 2018-08-09 16:09:55Z, closed by "Jleopard" Mon 2018-08-13 12:56:34Z; type
  and subtype, no item; no agreement; 0.27 h; SLA minutes 0 + 141 + 119.
- 200 (open, dateResponded but no respondedBy: an old API version) and 493 (new): no resolver,
  no responder: they count for nobody.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "connectwise" / "samples"
FILES = [
    "tickets_list__two_closed__rapid7_sandbox.json",
    "ticket_by_id__with_agreement_type_subtype__rapid7_sandbox.json",
    "ticket_new_unresponded__pipedream_staging.json",
]
CONFIG = 'timezone = "UTC"\n[business_hours]\nstart = "08:00"\nend = "17:00"\n'

# August 2018 starts on a Wednesday: 23 weekdays.
COMMON = {
    "user": {
        "resolved": 1, "categorized_pct": 0.0, "type_categorized": 1, "subtype_categorized": 0,
        "item_categorized": 0, "no_agreement_resolved": 1, "catchall_resolved": 0,
        "escalated_resolved": 0, "resolved_without_escalation": 0,
        "pct_without_escalation": None, "avg_handle_hours": 1.07, "tickets_per_day": 1 / 23,
        "avg_response_minutes": None,
    },
    "jleopard": {
        "resolved": 1, "categorized_pct": 0.0, "type_categorized": 1, "subtype_categorized": 1,
        "item_categorized": 0, "no_agreement_resolved": 1, "catchall_resolved": 0,
        "escalated_resolved": 0, "resolved_without_escalation": 0,
        "pct_without_escalation": None, "avg_handle_hours": 0.27, "tickets_per_day": 1 / 23,
        "avg_response_minutes": None,
    },
}  # fmt: skip
RESOLUTION_HOURS = {
    # 26 h 16 min 36 s; 3 days 20 h 46 min 39 s
    "calendar": {"user": 26 + 16 / 60 + 36 / 3600, "jleopard": 92 + 46 / 60 + 39 / 3600},
    # 3186: Thu 15:22:36-17:00 (97.4 min) + Fri 08:00-17:00 (540) = 637.4 min
    # 3204: Thu 16:09:55-17:00 (50.0833) + Fri 540 + Mon 08:00-12:56:34 (296.5667) = 886.65 min
    "business": {"user": 637.4 / 60, "jleopard": 886.65 / 60},
    "sla": {"user": 306 / 60, "jleopard": 260 / 60},
}


@pytest.fixture
def tickets(tmp_path: Path) -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"ConnectWise samples not found at {SAMPLES} (shared/ beside the checkout)")
    combined: list[object] = []
    for name in FILES:
        data = json.loads((SAMPLES / name).read_text())
        combined.extend(data if isinstance(data, list) else [data])
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(combined))
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    return path


@pytest.mark.parametrize("basis", ["calendar", "business", "sla"])
def test_metrics_on_real_connectwise_responses(tickets, basis, monkeypatch):
    monkeypatch.chdir(tickets.parent)
    result = CliRunner().invoke(
        app,
        ["metrics", "--tickets", str(tickets), "--from", "2018-08-01", "--to", "2018-09-01",
         "--time-basis", basis, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    members = json.loads(result.stdout)["members"]
    assert set(members) == {"user", "jleopard"}
    for member, expected in COMMON.items():
        expected = {**expected, "avg_resolution_hours": RESOLUTION_HOURS[basis][member]}
        for key, value in expected.items():
            got = members[member][key]
            assert got is None if value is None else got == pytest.approx(value), (member, key)

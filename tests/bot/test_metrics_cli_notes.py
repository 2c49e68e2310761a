"""`deskboard metrics --tickets FILE --notes NOTES.json --json`: first contact and the
conversation metrics from files, on a hand-computed set.

America/Chicago (CST, UTC-6 in these weeks), business hours Mon-Fri 08:00-17:00. Every
expected number is worked out in a comment; times are UTC in the data, CST in the comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.bot.tickets import ticket

CONFIG = """
timezone = "America/Chicago"
[business_hours]
start = "08:00"
end = "17:00"
"""

TICKETS = [
    # T1, Mon 2 Nov: entered 09:00, resolved by jsmith 15:00, closed Tue 10:00.
    ticket(
        1,
        entered="2026-11-02T15:00:00Z",
        resolvedBy="JSmith",
        dateResolved="2026-11-02T21:00:00Z",
        closedFlag=True,
        closedDate="2026-11-03T16:00:00Z",
    ),
    # T2, Mon 2 Nov: entered 16:00, resolved by jsmith Tue 11:00, not closed.
    ticket(
        2,
        entered="2026-11-02T22:00:00Z",
        status="Resolved",
        resolvedBy="jsmith",
        dateResolved="2026-11-03T17:00:00Z",
    ),
    # T3, Wed 4 Nov: entered 10:00, open; akhan answered it.
    ticket(
        3,
        entered="2026-11-04T16:00:00Z",
        status="In Progress",
        respondedBy="AKhan",
        dateResponded="2026-11-04T16:20:00Z",
    ),
    # T4: resolved by akhan, closed, but its notes are not in the file: notes not read.
    ticket(
        4,
        entered="2026-11-05T15:00:00Z",
        resolvedBy="akhan",
        dateResolved="2026-11-05T16:00:00Z",
        closedFlag=True,
        closedDate="2026-11-05T17:00:00Z",
    ),
]


def note(note_id: int, created: str, *, member: str | None = None, contact: bool = False,
         flag: str = "detailDescriptionFlag") -> dict:  # fmt: skip
    raw: dict = {"id": note_id, "dateCreated": created, "text": "not kept", flag: True}
    if member is not None:
        raw["member"] = {"id": 1, "identifier": member}
    if contact:
        raw["contact"] = {"id": 9, "name": "Pat Lee"}
    return raw


NOTES = {
    "1": [
        note(11, "2026-11-02T15:00:00Z", contact=True),  # the initial description: the entry
        note(12, "2026-11-02T15:30:00Z", member="JSmith"),  # reply 1: 30 min after entry
        note(13, "2026-11-02T16:00:00Z", contact=True),  # customer writes back, 10:00
        note(14, "2026-11-02T16:15:00Z", contact=True),  # and again, 10:15
        note(15, "2026-11-02T17:00:00Z", member="jsmith", flag="internalAnalysisFlag"),
        note(16, "2026-11-02T18:00:00Z", member="jsmith"),  # reply 2: 12:00 - 10:00 = 120 min
        note(17, "2026-11-02T21:00:00Z", member="jsmith", flag="resolutionFlag"),  # no reply
        note(18, "2026-11-03T15:00:00Z", member="jsmith"),  # follow-up Tue 09:00, before close
    ],
    "2": [
        # entered Mon 16:00; answered Tue 09:00: calendar 17 h = 1020 min, business 60 + 60
        note(21, "2026-11-03T15:00:00Z", member="jsmith"),
        note(22, "2026-11-03T17:00:00Z", member="jsmith", flag="resolutionFlag"),
    ],
    "3": [
        note(31, "2026-11-04T16:20:00Z", member="akhan"),  # reply: 20 min
        note(32, "2026-11-04T16:40:00Z", contact=True),
    ],
}

# jsmith, R = {T1, T2}; replies 30, 120 (T1) and T2's
#   calendar: (30 + 120 + 1020) / 3 = 390; business: (30 + 120 + 120) / 3 = 90
#   responses: T1 = 2 customer messages after the entry + 4 responses (12, 16, 17 and none
#     after the resolution) ... 12, 16, 17 are visible responses up to 21:00 = 3 → 2 + 3 = 5;
#     T2 = 0 + 2 = 2 → mean 3.5
#   responses_to_close: T1 3, T2 2 → 2.5
#   follow_up_pct: closed tickets in R = {T1}, followed up → 100
#   first_contact_pct: T1 has 4 technician notes by the resolution, T2 has 2 → 0 %
# akhan, R = {T4} (notes not read), P = {T3}; one reply of 20 minutes on an open ticket
#   avg_reply_minutes 20; per-ticket values over no read ticket: null; first contact 0 of 1
EXPECTED = {
    "calendar": {
        "jsmith": {
            "avg_reply_minutes": 390.0,
            "responses_per_ticket": 3.5,
            "responses_to_close": 2.5,
            "follow_up_pct": 100.0,
            "first_contact_pct": 0.0,
        },
        "akhan": {
            "avg_reply_minutes": 20.0,
            "responses_per_ticket": None,
            "responses_to_close": None,
            "follow_up_pct": None,
            "first_contact_pct": 0.0,
        },
    },
    "business": {"jsmith": {"avg_reply_minutes": 90.0}, "akhan": {"avg_reply_minutes": 20.0}},
    # ConnectWise keeps no SLA clock per reply: the SLA basis measures replies in business time
    "sla": {"jsmith": {"avg_reply_minutes": 90.0}, "akhan": {"avg_reply_minutes": 20.0}},
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    monkeypatch.chdir(tmp_path)
    tickets, notes, config = (tmp_path / n for n in ("t.json", "n.json", "deskboard.toml"))
    tickets.write_text(json.dumps(TICKETS))
    notes.write_text(json.dumps(NOTES))
    config.write_text(CONFIG)
    return tickets, notes, config


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["metrics", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("basis", ["calendar", "business", "sla"])
def test_conversation_metrics_from_files_match_the_hand_computed_values(files, basis):
    tickets, notes, config = files
    code, output = run(
        "--tickets", str(tickets), "--notes", str(notes), "-c", str(config),
        "--from", "2026-11-01", "--to", "2026-12-01", "--time-basis", basis, "--json",
    )  # fmt: skip
    assert code == 0, output
    members = json.loads(output)["members"]
    assert set(members) == {"jsmith", "akhan"}
    for member, expected in EXPECTED[basis].items():
        for key, value in expected.items():
            got = members[member][key]
            assert got is None if value is None else got == pytest.approx(value), (member, key)


def test_without_notes_the_note_metrics_are_left_out(files):
    tickets, _notes, config = files
    code, output = run("--tickets", str(tickets), "-c", str(config), "--from", "2026-11-01",
                       "--to", "2026-12-01", "--json")  # fmt: skip
    assert code == 0, output
    keys = set(json.loads(output)["members"]["jsmith"])
    assert not keys & {"first_contact_pct", "avg_reply_minutes", "follow_up_pct"}


def test_the_table_shows_the_conversation_columns(files):
    tickets, notes, config = files
    code, output = run("--tickets", str(tickets), "--notes", str(notes), "-c", str(config),
                       "--from", "2026-11-01", "--to", "2026-12-01")  # fmt: skip
    assert code == 0, output
    assert "Avg reply" in output
    assert "Follow-up" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a JSON object mapping ticket ids to arrays of notes"),
        ('{"abc": []}', "'abc' is not a ticket id"),
        ('{"1": {"id": 5}}', "ticket 1: expected an array of notes"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_notes_file_gets_a_clear_error(files, content, message):
    tickets, notes, config = files
    notes.write_text(content)
    code, output = run("--tickets", str(tickets), "--notes", str(notes), "-c", str(config))
    assert code == 2
    assert message in output


def test_notes_without_tickets_is_refused(files):
    _tickets, notes, config = files
    code, output = run("--notes", str(notes), "-c", str(config))
    assert code == 2
    assert "--notes needs --tickets" in output

"""Note sync: after the tickets, the notes of every new or changed ticket are read and stored,
and decide the resolved ones' first_contact.

Against the simulator, the stored values are checked against a count made independently from
the simulator's own note timelines. Against the scripted fake, the failure paths: a deleted
ticket, a failing request, a ConnectWise that keeps failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from bot.config import parse_config
from bot.core.reports import metrics_from_database
from bot.core.sync import NOTES_FAILURES_IN_A_ROW, run_sync
from metrics.definitions import TimeBasis
from metrics.windows import Window
from psa.connectwise.client import ConnectWiseClient, RetryPolicy
from psa.connectwise.mapping import map_ticket
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import to_epoch
from storage import repo
from storage.db import create_engine_for, session_scope
from tests.bot.core.test_sync_faults import MEMBERS, STATUSES
from tests.databases import sqlite_only
from tests.psa.connectwise.conftest import make_client as make_client
from tests.psa.connectwise.conftest import sleeps as sleeps
from tests.psa.connectwise.fake_connectwise import FakeConnectWise, Scripted, ticket
from tests.psa.connectwise.fake_connectwise import fake_cw as fake_cw

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)
CONFIG = parse_config({"timezone": "America/Chicago"})


@pytest.fixture(scope="module")
def msp() -> SimulatedMSP:
    return generate_msp(seed=11, start=START, end=END, tickets_per_workday=12)  # 6 reopens


@pytest.fixture
def server(msp: SimulatedMSP) -> Iterator[SimulatorServer]:
    with SimulatorServer(msp, clock=END) as running:
        yield running


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[ConnectWiseClient]:
    with server.connectwise_client() as client:
        yield client


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def stored_first_contact(engine) -> dict[int, bool | None]:
    """first_contact of every stored ticket that can be in someone's R(m)."""
    query = text(
        "SELECT id, first_contact FROM tickets WHERE in_scope AND resolver_key IS NOT NULL "
        "AND resolved_at IS NOT NULL"
    )
    with engine.connect() as conn:
        return {i: None if value is None else bool(value) for i, value in conn.execute(query).all()}


def simulator_truth(msp: SimulatedMSP, clock: datetime) -> dict[int, bool]:
    """From the simulator's own timelines: for each ticket resolved (with a resolver) at
    ``clock``, whether at most one member-written note is dated at or before its resolution.
    Contact notes (the customer) and notes without an author (the RMM) are not counted."""
    truth: dict[int, bool] = {}
    for ticket_ in msp.tickets:
        raw = ticket_.render(to_epoch(clock), "http://sim/apis/3.0")
        if raw is None:
            continue
        record = map_ticket(raw)
        if record.resolver is None or record.resolved_at is None:
            continue
        cutoff = to_epoch(record.resolved_at)
        technician_notes = [n for n in ticket_.notes if n.role == "member" and n.at <= cutoff]
        truth[ticket_.id] = len(technician_notes) <= 1
    return truth


def notes_asked(server: SimulatorServer) -> list[int]:
    return [
        int(r.path.split("/")[3])
        for r in server.requests
        if r.method == "GET" and r.path.endswith("/notes")
    ]


def stored_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return [i for (i,) in conn.execute(text("SELECT id FROM tickets ORDER BY id"))]


def test_a_sync_decides_first_contact_for_every_resolved_ticket(msp, server, client, engine):
    report = run_sync(client=client, engine=engine, config=CONFIG, now=END, since=START.date())

    truth = simulator_truth(msp, END)
    stored = stored_first_contact(engine)
    assert stored == truth
    # both outcomes occur, so the comparison is not trivially all True or all False
    assert 5 <= sum(truth.values()) <= len(truth) - 5
    # one request per stored ticket, open ones too (their replies count)
    assert report.notes_read == len(stored_ids(engine)) > len(truth)
    assert sorted(notes_asked(server)) == stored_ids(engine)

    server.clear_requests()
    again = run_sync(client=client, engine=engine, config=CONFIG, now=END)
    assert again.notes_read == 0
    assert notes_asked(server) == []  # nothing is owed: nothing is asked again


def test_syncing_every_six_hours_follows_reopens_and_new_resolutions(msp, server, client, engine):
    clock, first = START, True
    while clock < END + timedelta(hours=6):
        server.clock = min(clock, END)
        since = START.date() if first else None
        report = run_sync(
            client=client, engine=engine, config=CONFIG, now=server.clock, since=since
        )
        # exactly the tickets stored new or changed have their notes read (again)
        assert report.notes_read == report.inserted + report.updated
        clock, first = clock + timedelta(hours=6), False

    assert stored_first_contact(engine) == simulator_truth(msp, END)
    # some tickets had their notes read more than once: they changed between two syncs
    asked = notes_asked(server)
    assert len(asked) > len(set(asked))


def test_sync_notes_false_reads_no_notes(server, client, engine):
    config = parse_config({"timezone": "America/Chicago", "connectwise": {"sync_notes": False}})
    report = run_sync(client=client, engine=engine, config=config, now=END, since=START.date())
    assert report.notes_read == 0
    assert notes_asked(server) == []
    stored = stored_first_contact(engine)
    assert stored
    assert set(stored.values()) == {None}
    # and the metric is left out, rather than shown as 0 % for everyone
    window = Window(START, END)
    off = metrics_from_database(engine, config=config, window=window, basis=TimeBasis.CALENDAR)
    on = metrics_from_database(engine, config=CONFIG, window=window, basis=TimeBasis.CALENDAR)
    assert "first_contact_pct" not in {m.key for m in off.metrics}
    assert "first_contact_pct" in {m.key for m in on.metrics}


# ---- failures, against the scripted fake ---------------------------------------------------

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
# One request at a time: these tests check which requests are made in which order.
FAKE_CONFIG = parse_config({"connectwise": {"boards": ["Service Desk"], "max_concurrency": 1}})


def resolved_ticket(ticket_id: int, resolved: str) -> dict:
    return ticket(
        ticket_id,
        status={"id": 12, "name": ">Closed"},
        closedFlag=True,
        dateResolved=resolved,
        resolvedBy="AGarcia",
        _info={"dateEntered": "2026-11-02T14:05:00Z", "lastUpdated": resolved},
    )


def member_note(note_id: int, created: str) -> dict:
    return {
        "id": note_id,
        "member": {"id": 176, "identifier": "AGarcia"},
        "dateCreated": created,
        "resolutionFlag": True,
    }


def script_sync(fake: FakeConnectWise, tickets: list[dict], *, reference: bool) -> None:
    if reference:
        fake.reply("GET", "/service/boards", [{"id": 1, "name": "Service Desk"}])
        fake.reply("GET", "/service/boards/1/statuses", STATUSES)
        fake.reply("GET", "/system/members", MEMBERS)
    fake.reply("GET", "/service/tickets/count", {"count": len(tickets)})
    fake.reply("GET", "/service/tickets", tickets)


def notes_requests(fake: FakeConnectWise) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith("/notes")]


def stored(engine) -> dict[int, bool | None]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, first_contact FROM tickets ORDER BY id")).all()
    return {i: None if value is None else bool(value) for i, value in rows}


def test_a_deleted_ticket_counts_as_not_first_contact_and_a_failure_is_retried_next_sync(
    fake_cw, make_client, engine
):
    client = make_client(retry=RetryPolicy(attempts=2))
    tickets = [
        resolved_ticket(1, "2026-11-10T10:00:00Z"),
        resolved_ticket(2, "2026-11-11T10:00:00Z"),
        resolved_ticket(3, "2026-11-12T10:00:00Z"),
    ]
    script_sync(fake_cw, tickets, reference=True)
    # most recently updated first: 3 was deleted, 2 fails twice (both attempts), 1 has one note
    gone = {"code": "NotFound", "message": "Ticket with id 3 was not found."}
    fake_cw.reply("GET", "/service/tickets/3/notes", gone, status=404)
    boom = Scripted(status=500, body={"code": "x", "message": "boom"})
    fake_cw.script("GET", "/service/tickets/2/notes", boom, boom)
    fake_cw.reply("GET", "/service/tickets/1/notes", [member_note(7, "2026-11-10T10:00:00Z")])

    report = run_sync(client=client, engine=engine, config=FAKE_CONFIG, now=NOW)

    assert (report.inserted, report.notes_read) == (3, 1)
    assert (report.notes_gone, report.notes_failed) == ([3], [2])
    assert "RetriesExhausted" in (report.notes_error or "")
    assert stored(engine) == {1: True, 2: None, 3: False}
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
    assert state.watermark == datetime(2026, 11, 12, 10, 0, tzinfo=UTC)  # tickets synced
    assert "reading notes: RetriesExhausted" in (state.last_error or "")
    assert not state.failing  # the sync itself finished

    # The next sync asks only for ticket 2's notes: 3 is settled, 1 was read.
    fake_cw.requests.clear()
    script_sync(fake_cw, tickets, reference=False)
    fake_cw.reply("GET", "/service/tickets/2/notes", [])
    again = run_sync(client=client, engine=engine, config=FAKE_CONFIG, now=NOW)

    assert notes_requests(fake_cw) == ["/service/tickets/2/notes"]
    assert (again.notes_read, again.notes_failed, again.notes_error) == (1, [], None)
    assert stored(engine) == {1: True, 2: True, 3: False}


def test_reading_stops_after_failures_in_a_row_and_keeps_what_it_had(fake_cw, make_client, engine):
    client = make_client(retry=RetryPolicy(attempts=1))
    # tickets 1..5, resolved a day apart: notes are read 5, 4, 3, 2, 1
    tickets = [resolved_ticket(i, f"2026-11-1{i}T10:00:00Z") for i in range(1, 6)]
    script_sync(fake_cw, tickets, reference=True)
    fake_cw.reply("GET", "/service/tickets/5/notes", [])
    unavailable = Scripted(status=503, body={"code": "x", "message": "down"})
    for ticket_id in (4, 3, 2):
        fake_cw.script("GET", f"/service/tickets/{ticket_id}/notes", unavailable)

    report = run_sync(client=client, engine=engine, config=FAKE_CONFIG, now=NOW)

    assert NOTES_FAILURES_IN_A_ROW == 3
    assert notes_requests(fake_cw) == [f"/service/tickets/{i}/notes" for i in (5, 4, 3, 2)]
    assert (report.notes_read, report.notes_failed) == (1, [4, 3, 2])  # 1 was not asked
    assert stored(engine) == {1: None, 2: None, 3: None, 4: None, 5: True}


# ---- bounded concurrency ---------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 4])
def test_notes_are_read_max_concurrency_at_a_time_and_all_stored(
    fake_cw, make_client, engine, limit
):
    config = parse_config({"connectwise": {"boards": ["Service Desk"], "max_concurrency": limit}})
    tickets = [resolved_ticket(i, f"2026-11-1{i % 10}T{i:02d}:00:00Z") for i in range(1, 13)]
    script_sync(fake_cw, tickets, reference=True)
    for i in range(1, 13):
        notes = [member_note(100 + i, "2026-11-10T09:00:00Z")] * (1 + i % 2)
        fake_cw.reply("GET", f"/service/tickets/{i}/notes", notes, delay=0.05)

    report = run_sync(client=make_client(), engine=engine, config=config, now=NOW)

    assert report.notes_read == 12
    assert fake_cw.most_in_flight == limit  # reached, never passed
    # odd tickets have one technician note (first contact), even ones two
    assert stored(engine) == {i: i % 2 == 0 for i in range(1, 13)}


def test_a_429_holds_back_every_thread_of_the_client(fake_cw, make_client, sleeps):
    client = make_client(retry=RetryPolicy(attempts=3))
    slow_down = Scripted(status=429, headers={"Retry-After": "2"}, body={"code": "x"})
    fake_cw.script("GET", "/service/tickets/1/notes", slow_down, Scripted(body=[]))
    fake_cw.reply("GET", "/service/tickets/3/notes", [])
    fake_cw.reply("GET", "/service/tickets/2/notes", [])

    assert client.notes(1) == []  # told to wait 2 s: slept them, then read
    assert client.notes(3) == []  # the same thread does not wait twice
    assert sleeps == [2.0]
    other = threading.Thread(target=client.notes, args=(2,))
    other.start()
    other.join()
    # another thread sending within the 2 s waits out the rest of them first
    assert len(sleeps) == 2
    assert 1.0 < sleeps[1] <= 2.0


@sqlite_only("SQLite refuses a write to a transaction that read before another one committed")
def test_the_notes_are_stored_even_when_another_writer_commits_meanwhile(
    msp, server, client, engine
):
    """A push or a rating may commit while the note sync stores a batch, between the batch's
    reads and its first write: the batch must still be stored (on SQLite a deferred
    transaction that read is refused its write then, ``SQLITE_BUSY_SNAPSHOT``)."""
    quiet = parse_config({"timezone": "America/Chicago", "connectwise": {"sync_notes": False}})
    run_sync(client=client, engine=engine, config=quiet, now=END, since=START.date())
    with session_scope(engine) as session:
        owed = repo.count_tickets_needing_notes(session)
    assert owed > 0
    meanwhile: list[str] = []

    def another_writer(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("DELETE FROM ticket_notes") and not meanwhile:
            other = sqlite3.connect(engine.url.database, timeout=0.2)
            try:
                with other:
                    other.execute(
                        "INSERT INTO member_prefs (member_key, opted_out, updated_at) "
                        "VALUES ('someone', 0, '2026-11-20 00:00:00.000000')"
                    )
                meanwhile.append("committed")
            except sqlite3.OperationalError as exc:  # the store holds the write lock: fine
                meanwhile.append(str(exc))
            finally:
                other.close()

    event.listen(engine, "before_cursor_execute", another_writer)
    try:
        report = run_sync(client=client, engine=engine, config=CONFIG, now=END)
    finally:
        event.remove(engine, "before_cursor_execute", another_writer)
    assert meanwhile  # the other writer did come in between
    assert report.notes_read == owed
    with session_scope(engine) as session:
        assert repo.count_tickets_needing_notes(session) == 0
    assert stored_first_contact(engine) == simulator_truth(msp, END)

"""The sync job against the ConnectWise simulator over HTTP: complete, idempotent, incremental,
and it sees reopened tickets the way a scheduler polling every few hours would."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.config import parse_config
from bot.core.sync import run_sync
from metrics.categories import category_bits
from metrics.definitions import METRICS, MetricRef, Population
from metrics.records import member_key
from metrics.windows import Window, window_for_dates
from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.mapping import map_ticket
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import to_epoch
from storage import repo, rollups, standings
from storage.db import create_engine_for, session_scope

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
CONFIG = parse_config({"timezone": "America/Chicago"})


@pytest.fixture(scope="module")
def msp() -> SimulatedMSP:
    return generate_msp(seed=11, start=START, end=END, tickets_per_workday=15)


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


def dump(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        tickets = conn.execute(text("SELECT * FROM tickets ORDER BY id")).all()
        changes = conn.execute(text("SELECT * FROM status_changes ORDER BY id")).all()
    return tickets, changes


def test_sync_stores_every_changed_ticket_and_a_rerun_changes_nothing(msp, server, client, engine):
    since = START.date()
    first = run_sync(client=client, engine=engine, config=CONFIG, now=END, since=since)

    backfill_from = datetime(2026, 11, 2, tzinfo=CONFIG.tz)  # local midnight of --since
    expected = {
        raw["id"]
        for raw in msp.snapshot(END)
        if map_ticket(raw).updated_at > backfill_from  # type: ignore[operator]
    }
    with session_scope(engine) as session:
        stored = {t.id for t in repo.get_tickets(session, ids=sorted(expected))}
        assert repo.count_tickets(session) == len(expected)
    assert stored == expected
    assert first.inserted == len(expected)
    assert first.pages >= 1

    before = dump(engine)
    again = run_sync(client=client, engine=engine, config=CONFIG, now=END)
    assert (again.inserted, again.updated, again.status_changes) == (0, 0, 0)
    assert dump(engine) == before  # not one row written or changed


def test_later_syncs_ask_only_for_what_changed_since_the_watermark(server, client, engine):
    server.clock = END - timedelta(days=3)
    run_sync(client=client, engine=engine, config=CONFIG, now=server.clock, since=START.date())
    with session_scope(engine) as session:
        watermark = repo.get_sync_state(session).watermark
    assert watermark is not None
    server.clear_requests()
    server.clock = END
    report = run_sync(client=client, engine=engine, config=CONFIG, now=END)

    asked = [r for r in server.requests if r.path.endswith("/service/tickets")]
    cutoff = (watermark - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert asked
    assert all(r.query["conditions"] == f"lastUpdated > [{cutoff}]" for r in asked)
    assert report.inserted > 0  # three days of new tickets
    assert report.updated > 0  # and old ones that moved on


def _resolved_at(msp: SimulatedMSP, ticket_id: int, clock: datetime) -> tuple[bool, str | None]:
    raw = msp.ticket(ticket_id).render(to_epoch(clock), "http://sim/apis/3.0")
    if raw is None:
        return False, None
    record = map_ticket(raw)
    resolved = record.closed or (record.resolved_at is not None and record.resolver is not None)
    return resolved, member_key(record.resolver)


def test_reopened_tickets_are_detected_and_charged_to_their_resolver(msp, server, client, engine):
    clocks = []
    clock = START
    while clock <= END:
        clocks.append(clock)
        clock += timedelta(hours=2)
    for i, clock in enumerate(clocks):
        server.clock = clock
        since = START.date() if i == 0 else None
        run_sync(client=client, engine=engine, config=CONFIG, now=clock, since=since)

    # Ground truth from the simulator's timelines: a reopen is observable when the sync just
    # before it saw the ticket resolved; it is charged to whoever had resolved it.
    observable: dict[int, str | None] = {}
    for ticket in msp.tickets:
        for event in ticket.events:
            status = event.changes.get("status")
            if not (isinstance(status, dict) and status.get("name") == "Re-opened"):
                continue
            seen_before = [c for c in clocks if to_epoch(c) < event.at]
            if not seen_before or to_epoch(clocks[-1]) < event.at:
                continue
            resolved, resolver = _resolved_at(msp, ticket.id, seen_before[-1])
            if resolved:
                observable[ticket.id] = resolver

    with session_scope(engine) as session:
        events = standings.reopen_events(session, window=Window(START - timedelta(days=60), END))
    detected = {e.ticket_id: e.resolver_key for e in events}
    assert len(observable) >= 2  # the simulator reopens a few percent of tickets
    assert detected == observable


def test_boards_and_members_are_refreshed_once_a_day_or_on_full(server, client, engine):
    def asked_for_members() -> int:
        return sum(r.path.endswith("/system/members") for r in server.requests)

    server.clock = END - timedelta(days=2)
    run_sync(client=client, engine=engine, config=CONFIG, now=server.clock, since=START.date())
    assert asked_for_members() == 1
    with session_scope(engine) as session:
        assert {m.key for m in repo.list_members(session)} >= {"dispatch"}
        assert repo.list_boards(session)
    server.clock = END - timedelta(days=2) + timedelta(hours=20)
    run_sync(client=client, engine=engine, config=CONFIG, now=server.clock)
    assert asked_for_members() == 1  # still fresh: not asked again
    run_sync(client=client, engine=engine, config=CONFIG, now=server.clock, full=True)
    assert asked_for_members() == 2  # --full refreshes
    server.clock = END
    run_sync(client=client, engine=engine, config=CONFIG, now=END)
    assert asked_for_members() == 3  # a day later: refreshed again


@pytest.mark.parametrize(
    ("contests", "first_day"),
    [
        ([], datetime(2026, 11, 1)),  # no contest: the first of the month
        ([{"name": "Week", "metric": "resolved", "period": "weekly"}], datetime(2026, 11, 1)),
        ([{"name": "Year", "metric": "resolved", "period": "yearly"}], datetime(2026, 1, 1)),
        (
            [{"name": "Fall", "metric": "resolved", "start": "2026-10-15", "end": "2026-11-15"}],
            datetime(2026, 10, 15),
        ),
    ],
)
def test_a_first_sync_backfills_every_configured_contest_window(
    server, client, engine, contests, first_day
):
    config = parse_config({"timezone": "America/Chicago", "contests": contests})
    report = run_sync(client=client, engine=engine, config=config, now=END)
    assert report.updated_after == first_day.replace(tzinfo=config.tz).astimezone(UTC)
    with session_scope(engine) as session:
        assert repo.get_sync_state(session).watermark is not None
    # Once there is a watermark, the next sync starts from it, not from the backfill day.
    later = run_sync(client=client, engine=engine, config=config, now=END + timedelta(hours=1))
    assert later.updated_after > END - timedelta(days=1)


def test_a_sync_leaves_the_day_totals_current_and_equal_to_the_tickets(server, client, engine):
    run_sync(client=client, engine=engine, config=CONFIG, now=END, since=START.date())
    window = window_for_dates(START.date(), END.date(), CONFIG.tz)
    refs = [MetricRef(m) for m in METRICS if m.population is not Population.RATED]
    calendar = CONFIG.calendar()
    read: dict[bool, dict] = {}
    with session_scope(engine) as session:
        assert rollups.usable_days(session, window) is not None  # nothing left to refresh
        for day_totals in (True, False):
            read[day_totals] = standings.member_values(
                session,
                window=window,
                refs=refs,
                basis=CONFIG.metrics.time_basis,
                working_days=calendar.working_days(window.start, window.end),
                category_bits=category_bits(CONFIG.category_list()),
                day_totals=day_totals,
            )
    assert len(read[True]) > 3
    assert list(read[True]) == list(read[False])
    for member, values in read[True].items():
        expected = read[False][member]
        assert values.resolved == expected.resolved
        for key, value in values.values.items():
            other = expected.values[key]
            assert (value is None) == (other is None), (member, key)
            assert value is None or math.isclose(value, other, rel_tol=1e-12), (member, key)

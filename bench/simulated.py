"""What the ingest and memory cases share: the configuration, a simulated MSP of an exact
size, and one ``sync`` from it over HTTP into a fresh SQLite file.

The MSP comes from the simulator's own timeline generator
(``psa.connectwise.simulator.generate_msp``):
tickets entered over 2025 in Chicago, each with its full life (responses, hand-offs, waiting,
reopens), served as ConnectWise JSON by ``SimulatorServer`` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from bot.config import DeskboardConfig, parse_config
from bot.core.sync import SyncReport, run_sync
from psa.connectwise.client import ConnectWiseClient, TicketPage, build_http_client
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from storage.db import create_engine_for, migrate

CONFIG: DeskboardConfig = parse_config(
    {
        "timezone": "America/Chicago",
        "connectwise": {"sync_notes": False},  # the ticket sync only: notes are a separate pass
        "csat": {"surveys": False},  # and survey results too
        "business_hours": {"holidays": "US"},
    }
)
START = datetime(2025, 1, 1, 6, tzinfo=UTC)  # local midnight in Chicago
END = datetime(2026, 1, 1, 6, tzinfo=UTC)
SINCE = date(2024, 12, 1)  # the backfill starts before the first ticket: every one is read
# 2025 in weekdays' worth of tickets: 261 weekdays, and 104 weekend days at 12% of one.
_WEEKDAYS_OF_TICKETS = 261 + 104 * 0.12


def simulated_msp(tickets: int, *, seed: int) -> SimulatedMSP:
    """Exactly ``tickets`` tickets: the generator's arrivals are random in number, so it is
    asked for a few more and the latest ones are left out."""
    margin = 1.03
    while True:
        per_workday = tickets * margin / _WEEKDAYS_OF_TICKETS
        msp = generate_msp(seed=seed, start=START, end=END, tickets_per_workday=per_workday)
        if len(msp.tickets) >= tickets:
            msp.tickets = msp.tickets[:tickets]
            return msp
        margin += 0.05


def fresh_engine(path: Path) -> Engine:
    """A new, migrated SQLite database at ``path`` (which must not exist yet)."""
    if path.exists():
        raise FileExistsError(path)
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    return engine


class RecordingClient(ConnectWiseClient):
    """A ConnectWise client that keeps each mapped page of tickets it yields, so the store
    step can be timed again, alone, on exactly what the sync stored."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__(http)
        self.pages: list[TicketPage] = []

    def iter_ticket_pages(
        self, *, updated_after: datetime | None = None, board_ids: Sequence[int] = ()
    ) -> Iterator[TicketPage]:
        for page in super().iter_ticket_pages(updated_after=updated_after, board_ids=board_ids):
            self.pages.append(page)
            yield page


@dataclass
class SyncRun:
    report: SyncReport
    pages: list[TicketPage]


@dataclass(frozen=True)
class Address:
    """Where a running simulator answers and the credentials it accepts (picklable, so a
    simulator in another process can hand it over)."""

    url: str
    company: str
    public_key: str
    private_key: str
    client_id: str

    @classmethod
    def of(cls, server: SimulatorServer) -> Address:
        return cls(
            server.url, server.company, server.public_key, server.private_key, server.client_id
        )


def started_server(msp: SimulatedMSP) -> SimulatorServer:
    """A running simulator at the end of the MSP's history, its event index already built
    (the server builds it in the background anyway; building it first keeps it out of the
    sync's time and memory)."""
    server = SimulatorServer(msp, clock=END).start()
    server.state.build_event_index()
    return server


def sync_from(address: Address, engine: Engine, *, record_pages: bool) -> SyncRun:
    """One ``deskboard sync`` as the scheduler runs it: every ticket since ``SINCE``."""
    http = build_http_client(
        api_url=address.url,
        company=address.company,
        public_key=address.public_key,
        private_key=address.private_key,
        client_id=address.client_id,
    )
    with http:
        client = RecordingClient(http) if record_pages else ConnectWiseClient(http)
        report = run_sync(client=client, engine=engine, config=CONFIG, now=END, since=SINCE)
    pages = client.pages if isinstance(client, RecordingClient) else []
    return SyncRun(report, pages)

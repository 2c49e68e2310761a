"""Notes reading: the notes of resolved tickets from a ConnectWise that answers each notes
request after a delay (100 ms at full size), read by the note sync with
``[connectwise] max_concurrency = 4`` against the same reading one request at a time.

- Deskboard: ``bot.core.sync.sync_notes`` with ``max_concurrency = 4``: a sliding window of
  four requests in flight, stored 100 tickets a transaction.
- Baseline: the same with ``max_concurrency = 1``, the note sync as it was (one request in
  flight, as ConnectWise's guidance has it when nothing else is known).

The server here is a small one of the bench's own (``_NotesServer``): it answers only
``/service/tickets/{id}/notes``, always with the same three notes, after the delay, and
counts the requests in flight. The goal is at least 3.5× faster with four in flight, and
never more than four in flight. ``numbers_agree``: both runs read every ticket and stored
the same values (first contact, responses, replies) for each.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.core import CaseResult, Figure, Size
from bench.progress import step
from bot.config import parse_config
from bot.core.sync import sync_notes
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from psa.connectwise.client import ConnectWiseClient, build_http_client
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import TICKETS

SIZES: dict[str, tuple[int, float]] = {"small": (200, 0.02), "full": (5_000, 0.1)}
CONCURRENCY = 4
GOAL = 3.5
API = "/v4_6_release/apis/3.0"
NOW = datetime(2026, 11, 30, 18, tzinfo=UTC)
_NOTES_PATH = re.compile(rf"^{API}/service/tickets/(\d+)/notes")


def _notes(ticket_id: int, resolved: datetime) -> list[dict[str, Any]]:
    def note(n: int, at: datetime, **who: Any) -> dict[str, Any]:
        return {"id": ticket_id * 10 + n, "dateCreated": at.isoformat(), **who}

    tech = {"member": {"id": 1, "identifier": "jsmith"}}
    return [
        note(1, resolved - timedelta(hours=2), detailDescriptionFlag=True, **tech),
        note(
            2,
            resolved - timedelta(hours=1),
            detailDescriptionFlag=True,
            contact={"id": 5, "name": "Pat"},
        ),
        note(3, resolved, resolutionFlag=True, **tech),
    ]


class _NotesServer:
    """ConnectWise's notes route, answering after ``delay`` seconds; counts what is in flight."""

    def __init__(self, delay: float, resolved: dict[int, datetime]) -> None:
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0
        self.requests = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                match = _NOTES_PATH.match(self.path)
                with lock:
                    server.in_flight += 1
                    server.requests += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                finally:  # answered from here on: the client may send its next request
                    with lock:
                        server.in_flight -= 1
                ticket_id = int(match.group(1)) if match else 0
                body = json.dumps(_notes(ticket_id, resolved[ticket_id])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return f"http://{host!s}:{port}{API}"

    def __enter__(self) -> _NotesServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def _tickets(count: int) -> list[TicketRecord]:
    start = datetime(2026, 11, 2, 14, tzinfo=UTC)
    tickets = []
    for i in range(count):
        entered = start + timedelta(minutes=7 * i)
        resolved = entered + timedelta(hours=3)
        tickets.append(
            TicketRecord(
                id=1 + i,
                board="Service Desk",
                status=">Resolved",
                entered_at=entered,
                updated_at=resolved,
                resolved_at=resolved,
                resolver="JSmith",
                responder="JSmith",
                responded_at=entered + timedelta(minutes=20),
            )
        )
    return tickets


def _read(path: Path, tickets: list[TicketRecord], server: _NotesServer, limit: int) -> float:
    """Store ``tickets`` in a new database at ``path``, then time the note sync over them."""
    config = parse_config({"connectwise": {"max_concurrency": limit}})
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        repo.upsert_tickets(
            session, records=tickets, params=config.derive_params(), waiting_rule=WaitingRule()
        )
    http = build_http_client(
        api_url=server.url, company="bench", public_key="p", private_key="k", client_id="c"
    )
    try:
        with http:
            started = time.perf_counter()
            result = sync_notes(
                client=ConnectWiseClient(http),
                engine=engine,
                config=config,
                now=NOW,
                limit=len(tickets),
            )
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if result.read != len(tickets):
        raise RuntimeError(f"read {result.read} of {len(tickets)} tickets: {result.error}")
    return seconds


def _stored(path: Path) -> list[tuple[Any, ...]]:
    engine = create_engine_for(f"sqlite:///{path}")
    c = TICKETS.c
    query = select(c.id, c.notes_read, c.first_contact, c.responses, c.responses_to_close)
    try:
        with session_scope(engine) as session:
            return [tuple(row) for row in session.execute(query.order_by(c.id))]
    finally:
        engine.dispose()


def run(size: Size) -> CaseResult:
    count, delay = SIZES[size]
    tickets = _tickets(count)
    resolved = {t.id: t.resolved_at for t in tickets if t.resolved_at is not None}
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-notes-") as folder:
        step(f"notes: {count:,} tickets, {delay * 1000:.0f} ms a request, one at a time")
        with _NotesServer(delay, resolved) as baseline_server:
            baseline = _read(Path(folder) / "one.db", tickets, baseline_server, 1)
        step(f"notes: the same, {CONCURRENCY} at a time")
        with _NotesServer(delay, resolved) as server:
            deskboard = _read(Path(folder) / "four.db", tickets, server, CONCURRENCY)
        one, four = _stored(Path(folder) / "one.db"), _stored(Path(folder) / "four.db")
    speedup = baseline / deskboard
    bounded = server.most_in_flight <= CONCURRENCY and baseline_server.most_in_flight == 1
    figure = Figure(
        f"notes of {count:,} tickets, {delay * 1000:.0f} ms a request, {CONCURRENCY} in flight",
        deskboard,
        baseline,
        "s",
        f"≥ {GOAL:g}× faster, ≤ {CONCURRENCY} in flight",
        speedup >= GOAL and bounded,
    )
    details = {
        "tickets": count,
        "delay_ms": delay * 1000,
        "speedup": speedup,
        "most_in_flight": server.most_in_flight,
        "baseline_most_in_flight": baseline_server.most_in_flight,
        "requests": {"deskboard": server.requests, "baseline": baseline_server.requests},
    }
    agree = one == four and all(row[1] for row in four) and len(four) == count
    return CaseResult("notes", size, [figure], numbers_agree=agree, details=details)

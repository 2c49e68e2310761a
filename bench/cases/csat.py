"""CSAT link: customers' rating clicks on Deskboard's own links (``bot.web.csat``), 20 at a
time, against one plain ``INSERT`` of a rating row.

The real HTTP app (``bot.web.routes.http_app`` with ``RatingLinks``) is served by uvicorn on
127.0.0.1 over a fresh SQLite file holding tickets resolved yesterday (stored by
``bot.core.sync.store_records``). Each click is what a customer's browser does with a link
from the ticket-closed email: GET the link (a page that records nothing, as a mail scanner
may open it), POST its form token (this records the rating: 303), GET the thanks page. The
figures time the POST, the request that records; the whole click is in the details.

The clicks come from a process of their own (as customers' browsers are not the server's
process). Every customer comes from an address of its own (``X-Forwarded-For``, which uvicorn trusts
from 127.0.0.1 as from a reverse proxy), so the flood limit of five answers a minute per
address applies as in production and refuses nothing here. Among the clicks:

- most tickets are rated once;
- some customers change their mind: a second click with another face after the first was
  answered (the latest wins, ``storage.ratings``);
- some click twice at once with the same face (two tabs, a double click): both POSTs leave
  together.

Baseline: one plain ``INSERT`` of a rating row with ``sqlite3``, committed, on the same file
with Deskboard's pragmas (WAL, ``synchronous=NORMAL``); the median of as many as there are
clicks. Before the clock starts, as many link pages as clicks go at once are opened (they
record nothing): a server that has been up a while has compiled its templates and statements
and opened its connections. The goal is a POST p99 of 100 ms. ``numbers_agree``: every
POST answered 303, and the ratings table holds exactly one row per ticket clicked, with the
face expected (the latest for a changed mind); the answers acted on (``on_answer``) are the
first answers and the changes, once each.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import sqlite3
import ssl
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select

from bench.core import CaseResult, Figure, Size, median, percentile
from bench.progress import step
from bench.web import served
from bot.config import parse_config
from bot.core.push import PushReceiver
from bot.core.rating_links import FACES, RatingLinks, ticket_links
from bot.core.sync import store_records
from bot.web.routes import http_app
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import RATINGS
from storage.utc import sqlite_text

# clicks, at a time, changes of mind, double clicks
SIZES: dict[Size, tuple[int, int, int, int]] = {
    "full": (200, 20, 20, 20),
    "small": (40, 8, 4, 4),
}
P99_GOAL_MS = 100.0
SECRET = "bench-csat-link-secret-0123456789"
CONFIG = parse_config({"timezone": "America/Chicago"})
TECHNICIANS = ("jsmith", "apatel", "bokafor", "mgarcia", "lchen")
FIRST_TICKET = 70_001
BASELINE_TICKET = 9_000_000  # the baseline's rows, removed before the clicks
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass(frozen=True)
class Click:
    ticket: int
    face: str
    address: str
    together: asyncio.Barrier | None = None  # the other click of a double click


@dataclass
class Customer:
    """One customer's clicks, one after another (two for a change of mind)."""

    clicks: list[Click]


@dataclass
class Outcome:
    """What one click got: the POST's status (0: no answer at all, None: not sent) and time."""

    click: Click
    get_status: int = 0
    post_status: int | None = None
    post_ms: float | None = None
    click_ms: float | None = None  # page, record and thanks page, when recorded
    thanked: bool = False  # the thanks page showed the answer as recorded
    error: str | None = None


def plan(clicks: int, changes: int, doubles: int) -> tuple[list[Customer], dict[int, str]]:
    """The customers in the order they arrive, and the face each ticket must end with.

    ``clicks`` POSTs in all: ``changes`` tickets clicked twice one after the other (another
    face the second time), ``doubles`` tickets clicked twice at once (the same face), the
    rest once each."""
    singles = clicks - 2 * changes - 2 * doubles
    if singles < 0:
        raise ValueError("more repeated clicks than clicks")
    customers: list[Customer] = []
    expected: dict[int, str] = {}
    ticket = FIRST_TICKET
    kinds = ["single"] * singles + ["change"] * changes + ["double"] * doubles
    # spread the repeats through the arrivals: every few customers, deterministically
    order = sorted(range(len(kinds)), key=lambda i: (i * 7919) % len(kinds))
    for n, i in enumerate(order):
        kind = kinds[i]
        face = FACES[n % len(FACES)]
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        if kind == "single":
            customers.append(Customer([Click(ticket, face, address)]))
            expected[ticket] = face
        elif kind == "change":
            later = FACES[(n + 1) % len(FACES)]
            customers.append(
                Customer([Click(ticket, face, address), Click(ticket, later, address)])
            )
            expected[ticket] = later
        else:
            barrier = asyncio.Barrier(2)
            # one customer's two tabs: two arrivals next to each other, POSTing together
            customers.append(Customer([Click(ticket, face, address, barrier)]))
            customers.append(Customer([Click(ticket, face, address, barrier)]))
            expected[ticket] = face
        ticket += 1
    return customers, expected


def _tickets(ids: list[int], now: datetime) -> list[TicketRecord]:
    records = []
    for n, ticket in enumerate(ids):
        resolved = now - timedelta(hours=20, minutes=n)
        records.append(
            TicketRecord(
                id=ticket,
                board="Service Desk",
                status=">Closed",
                closed=True,
                summary=f"Printer on floor {n % 9 + 1} offline",
                entered_at=resolved - timedelta(hours=3),
                updated_at=resolved,
                resolved_at=resolved,
                resolver=TECHNICIANS[n % len(TECHNICIANS)],
                responder=TECHNICIANS[n % len(TECHNICIANS)],
                responded_at=resolved - timedelta(hours=2),
            )
        )
    return records


class _NoCallbacks:
    def verify(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the CSAT case sends no PSA callback")


async def _click(client: httpx.AsyncClient, url: str, click: Click) -> Outcome:
    """A customer's browser following a link: the page, its confirmation, the thanks page."""
    outcome = Outcome(click)
    link = ticket_links(public_url=url, secret=SECRET, ticket_id=click.ticket)[click.face]
    headers = {"X-Forwarded-For": click.address}
    try:
        began = time.perf_counter()
        page = await client.get(link, headers=headers)
        outcome.get_status = page.status_code
        found = _TOKEN.search(page.text)
        if page.status_code != 200 or found is None:
            return outcome
        if click.together is not None:
            await asyncio.wait_for(click.together.wait(), timeout=30)
        posted_at = time.perf_counter()
        outcome.post_status = 0
        answer = await client.post(link, data={"token": found.group(1)}, headers=headers)
        outcome.post_ms = (time.perf_counter() - posted_at) * 1000
        outcome.post_status = answer.status_code
        if answer.status_code != 303:
            return outcome
        thanks = await client.get(link + "?done=1", headers=headers)
        outcome.click_ms = (time.perf_counter() - began) * 1000
        outcome.thanked = thanks.status_code == 200 and "Thank you for your feedback" in thanks.text
    except httpx.TransportError as exc:  # the customer saw no answer
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


async def _fire(url: str, customers: list[Customer], at_a_time: int) -> tuple[list[Outcome], float]:
    """``at_a_time`` workers take the customers in order; each customer is a browser of its
    own (its own connection), clicking its links one after another."""
    outcomes: list[Outcome] = []
    queue: asyncio.Queue[Customer] = asyncio.Queue()
    for customer in customers:
        queue.put_nowait(customer)
    tls = ssl.create_default_context()  # unused over http; made once, not per client

    async def worker() -> None:
        while not queue.empty():
            customer = queue.get_nowait()
            async with httpx.AsyncClient(timeout=30, verify=tls) as client:
                for click in customer.clicks:
                    outcomes.append(await _click(client, url, click))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(at_a_time)))
    return outcomes, time.perf_counter() - began


async def _warm_up(url: str, customers: list[Customer], at_a_time: int) -> None:
    """``at_a_time`` link pages opened at once before the clock starts (a page records
    nothing): the server's first requests compile its templates and statements and open its
    connections, which a server that has been up a while has done."""
    firsts = [c.clicks[0] for c in customers[:at_a_time]]
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(
            *(
                client.get(ticket_links(public_url=url, secret=SECRET, ticket_id=c.ticket)[c.face])
                for c in firsts
            )
        )


def clicks_elsewhere(url: str, sizes: tuple[int, int, int, int]) -> tuple[list[Outcome], float]:
    """The customers' clicks from a process of their own (as browsers are), so the
    server's latencies are not the client's share of one interpreter."""
    clicks, at_a_time, changes, doubles = sizes
    customers, _ = plan(clicks, changes, doubles)
    asyncio.run(_warm_up(url, customers, at_a_time))
    outcomes, seconds = asyncio.run(_fire(url, customers, at_a_time))
    plain = [replace(o, click=replace(o.click, together=None)) for o in outcomes]
    return plain, seconds


def baseline_inserts(path: Path, count: int, now: datetime) -> list[float]:
    """Milliseconds of each of ``count`` single-row ``INSERT``s, each its own transaction, with
    Deskboard's pragmas; the rows are deleted afterwards."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        stamp = sqlite_text(now)
        sql = (
            "INSERT INTO ratings (ticket_id, respondent, rating, rated_at, source, source_ref,"
            " received_at, first_received_at) VALUES (?, 'link', ?, ?, 'link', ?, ?, ?)"
        )
        times = []
        for i in range(count):
            ticket = BASELINE_TICKET + i
            row = (ticket, FACES[i % 3], stamp, f"link:{ticket}", stamp, stamp)
            began = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute(sql, row)
            conn.execute("COMMIT")
            times.append((time.perf_counter() - began) * 1000)
        conn.execute("DELETE FROM ratings WHERE ticket_id >= ?", (BASELINE_TICKET,))
    finally:
        conn.close()
    return times


def stored(engine: Engine) -> list[tuple[int, str, str]]:
    c = RATINGS.c
    with session_scope(engine) as session:
        rows = session.execute(select(c.ticket_id, c.respondent, c.rating).order_by(c.id))
        return [(int(t), str(who), str(face)) for t, who, face in rows]


@dataclass(frozen=True)
class Accounts:
    """The clicks against the ratings table."""

    recorded: dict[int, str]  # ticket -> the face of its last click answered 303
    failed: list[Outcome]  # clicks whose POST was not answered 303 (or never sent)
    doubled: list[int]  # tickets with more than one row
    silently_lost: list[int]  # a 303, but no row or another face
    unasked: list[int]  # rows of tickets no click recorded

    @property
    def honest(self) -> bool:
        """Every 303 is held once with its face, and nothing else is held."""
        return not (self.doubled or self.silently_lost or self.unasked)


def account(outcomes: list[Outcome], held: list[tuple[int, str, str]]) -> Accounts:
    recorded: dict[int, str] = {}
    for outcome in outcomes:  # in the order answered: a customer's later click comes later
        if outcome.post_status == 303:
            recorded[outcome.click.ticket] = outcome.click.face
    rows: dict[int, list[str]] = {}
    for ticket, respondent, face in held:
        rows.setdefault(ticket, []).append(face if respondent == "link" else f"{respondent}?")
    return Accounts(
        recorded=recorded,
        failed=[o for o in outcomes if o.post_status != 303],
        doubled=sorted(t for t, faces in rows.items() if len(faces) > 1),
        silently_lost=sorted(t for t, face in recorded.items() if rows.get(t) != [face]),
        unasked=sorted(t for t in rows if t not in recorded),
    )


def run(size: Size) -> CaseResult:
    clicks, at_a_time, changes, doubles = SIZES[size]
    customers, expected = plan(clicks, changes, doubles)
    now = datetime.now(UTC)
    acted: list[int] = []
    lock = threading.Lock()

    def on_answer() -> None:
        with lock:
            acted.append(1)

    with tempfile.TemporaryDirectory(prefix="deskboard-bench-csat-") as folder:
        path = Path(folder) / "deskboard.db"
        engine = create_engine_for(f"sqlite:///{path}")
        try:
            migrate(engine)
            store_records(
                engine,
                records=_tickets(sorted(expected), now),
                params=CONFIG.derive_params(),
                waiting_rule=WaitingRule(),
            )
            step(f"csat: baseline, {clicks} single-row INSERTs")
            baseline_ms = baseline_inserts(path, clicks, now)
            links = RatingLinks(
                engine=engine,
                config=CONFIG,
                secret=SECRET,
                clock=lambda: datetime.now(UTC),
                on_answer=on_answer,
            )
            receiver = PushReceiver(
                verifier=_NoCallbacks(), sync_ticket=print, clock=lambda: datetime.now(UTC)
            )
            app = http_app(callbacks=receiver, rating_links=links)
            step(f"csat: {clicks} clicks over {len(expected)} tickets, {at_a_time} at a time")
            spawn = multiprocessing.get_context("spawn")
            with served(app) as url, ProcessPoolExecutor(1, mp_context=spawn) as client:
                outcomes, seconds = client.submit(clicks_elsewhere, url, SIZES[size]).result()
            held = stored(engine)
        finally:
            engine.dispose()

    books = account(outcomes, held)
    sent = sum(len(c.clicks) for c in customers)
    statuses = Counter(o.post_status for o in outcomes)
    # none lost or doubled: every click recorded, each ticket once with the face it ended on
    agree = (
        len(outcomes) == sent
        and statuses == Counter({303: sent})
        and books.honest
        and books.recorded == expected
        and len(acted) == len(expected) + changes  # first answers, and each change once
    )
    post_ms = [o.post_ms for o in outcomes if o.post_ms is not None]
    click_ms = [o.click_ms for o in outcomes if o.click_ms is not None]
    mid, p99 = median(post_ms), percentile(post_ms, 99)
    base = median(baseline_ms)
    label = f"{sent} clicks, {at_a_time} at a time"
    figures = [
        Figure(f"record (POST) p50, {label}", mid, base, "ms", "reported", True),
        Figure(
            f"record (POST) p99, {label}",
            p99,
            base,
            "ms",
            f"≤ {P99_GOAL_MS:g} ms, none lost or doubled",
            p99 <= P99_GOAL_MS and agree,
        ),
    ]
    details = {
        "clicks": sent,
        "at_a_time": at_a_time,
        "tickets": len(expected),
        "changes_of_mind": changes,
        "double_clicks": doubles,
        "post_statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "failed": [
            f"{o.click.ticket}/{o.click.face}: GET {o.get_status}, POST {o.post_status}"
            + (f" ({o.error})" if o.error else "")
            for o in books.failed[:20]
        ],
        "ratings_stored": len(held),
        "lost": sorted(set(expected) - set(books.recorded)),  # no rating held at all
        # held, but not the face the customer ended on (their change of mind was lost)
        "change_lost": sorted(t for t, face in books.recorded.items() if expected[t] != face),
        "doubled": books.doubled,
        "silently_lost": books.silently_lost,
        "unasked": books.unasked,
        "thanks_pages": sum(o.thanked for o in outcomes),
        "acted_on": len(acted),
        "acted_on_expected": len(expected) + changes,
        "post_max_ms": round(max(post_ms, default=0.0), 1),
        "click_p50_ms": round(median(click_ms), 1),
        "click_p99_ms": round(percentile(click_ms, 99), 1),
        "seconds": round(seconds, 2),
        "baseline_p99_ms": round(percentile(baseline_ms, 99), 3),
    }
    return CaseResult("csat", size, figures, numbers_agree=agree, details=details)

"""Ingest: ``sync`` of 200,000 tickets from the simulator over HTTP, and the store step alone.

1. **sync** (reported, no baseline): ``bot.core.sync.run_sync`` against ``SimulatorServer`` on
   127.0.0.1, into a fresh SQLite file: HTTP paging (1,000 tickets a page), JSON, mapping,
   the upserts, the watermark. The simulator answers from a thread of the same process, so
   its rendering shares the CPU (and the GIL) with the sync: the figure is an upper bound.
2. **store step** against its baseline, both on exactly the pages the sync mapped (kept by
   a recording client), one transaction per page, each run into a fresh database:
   - Deskboard: ``storage.repo.upsert_tickets`` page by page, as the sync calls it (read the
     stored versions, compare, derive, record the status history, upsert);
   - baseline: plain ``sqlite3`` ``executemany`` of the same rows into the same schema:
     ``INSERT ... ON CONFLICT(id) DO UPDATE`` of every ticket column, and the insert of the
     same first-sight ``status_changes`` rows. Its rows are prepared *before* its clock
     starts: the derived values come from ``metrics.derive`` and every value is converted by
     SQLAlchemy's own column types, exactly as Deskboard stores it. So the baseline is what
     SQLite itself needs to hold these rows; the goal is a store step within 2× of it.
   The time of each is the fastest of five runs (three at the small size), the two taking
   turns so that a slow spell of the machine hits both.

Everything the benchmark itself holds (the simulator's 200,000 timelines, the pages, the
baseline's rows) is frozen out of the garbage collector while a run is timed
(``gc.freeze``): a Deskboard process holds none of it, and every full collection would
otherwise walk it at Deskboard's expense.

``numbers_agree``: the sync's database, Deskboard's store and the baseline's hold the same
ticket rows and status changes (a checksum of each table read in order).
"""

from __future__ import annotations

import gc
import hashlib
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from bench.core import CaseResult, Figure, Size
from bench.progress import step
from bench.simulated import (
    CONFIG,
    Address,
    SyncRun,
    fresh_engine,
    simulated_msp,
    started_server,
    sync_from,
)
from metrics.derive import DeriveParams, derive
from metrics.records import StatusChange, TicketRecord
from metrics.waiting import WaitingRule, waiting_intervals
from storage import repo
from storage.db import session_scope
from storage.tables import STATUS_CHANGES, TICKETS
from storage.tickets import NOTE_FIELDS, UNREAD_NOTES

SEED = 7
TICKETS_BY_SIZE: dict[str, int] = {"small": 2_000, "full": 200_000}
REPEATS: dict[str, int] = {"small": 3, "full": 5}
STORE_GOAL = 2.0

_RECORD_FIELDS = frozenset(TicketRecord.__dataclass_fields__)
# Every ticket column but those only the note sync and the judging write.
TICKET_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in TICKETS.columns if c.name not in NOTE_FIELDS
)
CHANGE_COLUMNS = ("ticket_id", "at", "from_status", "to_status", "reopened", "resolver_key")
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")

Row = tuple[Any, ...]
Pages = list[list[TicketRecord]]


def _processors(
    table_columns: Sequence[Any], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    """SQLAlchemy's own conversion of each column's values for ``dialect``."""
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in table_columns]


def _stored(values: Sequence[Any], processors: Sequence[Callable[[Any], Any] | None]) -> Row:
    return tuple(v if p is None else p(v) for v, p in zip(values, processors, strict=True))


def baseline_rows(
    pages: Pages, *, params: DeriveParams, rule: WaitingRule, dialect: Dialect | None = None
) -> list[tuple[list[Row], list[Row]]]:
    """Per page, the ticket rows and status-change rows the baseline writes, converted for
    ``dialect`` (default SQLite's)."""
    dialect = dialect or sqlite_dialect.dialect()
    ticket_processors = _processors([TICKETS.c[name] for name in TICKET_COLUMNS], dialect)
    change_processors = _processors([STATUS_CHANGES.c[name] for name in CHANGE_COLUMNS], dialect)
    prepared = []
    for page in pages:
        tickets: list[Row] = []
        changes: list[Row] = []
        for record in page:
            at = record.updated_at or record.entered_at
            history = [] if at is None else [StatusChange(record.id, at, None, record.status)]
            derived = derive(record, params=params, waiting=waiting_intervals(history, rule))
            values = [
                UNREAD_NOTES[name]
                if name in UNREAD_NOTES
                else getattr(record if name in _RECORD_FIELDS else derived, name)
                for name in TICKET_COLUMNS
            ]
            tickets.append(_stored(values, ticket_processors))
            if at is not None:
                changes.append(
                    _stored((record.id, at, None, record.status, False, None), change_processors)
                )
        prepared.append((tickets, changes))
    return prepared


def _baseline_sql() -> tuple[str, str]:
    columns = ", ".join(TICKET_COLUMNS)
    marks = ", ".join("?" for _ in TICKET_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in TICKET_COLUMNS if name != "id")
    upsert = (
        f"INSERT INTO tickets ({columns}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}"
    )
    insert = (
        f"INSERT INTO status_changes ({', '.join(CHANGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in CHANGE_COLUMNS)})"
    )
    return upsert, insert


def time_baseline(prepared: list[tuple[list[Row], list[Row]]], path: Path) -> float:
    """Seconds to write the prepared rows with plain ``sqlite3``, one transaction a page.

    The tables are Deskboard's, through the same migrations (no trigger on the tables it
    writes: the day totals' dates are marked by Deskboard's store step, ``storage.rollup_marks``,
    and timed there, not part of a hand-written upsert)."""
    fresh_engine(path).dispose()
    upsert, insert = _baseline_sql()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in _PRAGMAS:
            connection.execute(pragma)
        began = time.perf_counter()
        for tickets, changes in prepared:
            connection.execute("BEGIN")
            connection.executemany(upsert, tickets)
            connection.executemany(insert, changes)
            connection.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        connection.close()


def time_store(pages: Pages, path: Path, *, params: DeriveParams, rule: WaitingRule) -> float:
    """Seconds for Deskboard's store step: ``upsert_tickets`` a page per transaction."""
    engine = fresh_engine(path)
    try:
        began = time.perf_counter()
        for records in pages:
            with session_scope(engine) as session:
                repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)
        return time.perf_counter() - began
    finally:
        engine.dispose()


def outside_the_harness(work: Callable[[], float]) -> float:
    """Run ``work`` with everything the benchmark already holds (the simulator, the pages,
    the baseline's prepared rows) frozen out of the garbage collector.

    A sync process holds none of that; left in, every full collection during the timed
    run would walk it, and Deskboard (which allocates) would pay for it, not the baseline.
    """
    gc.collect()
    gc.freeze()
    try:
        return work()
    finally:
        gc.unfreeze()


def interleaved(
    repeats: int, folder: Path, runs: dict[str, Callable[[Path], float]]
) -> dict[str, tuple[list[float], Path]]:
    """Every run's seconds, ``repeats`` of each, taking turns (so that a slow spell of the
    machine hits both), each into a new database; the last database of each is kept."""
    done: dict[str, tuple[list[float], Path]] = {}
    for attempt in range(repeats):
        for name, timed in runs.items():
            path = folder / f"{name}-{attempt}.db"
            seconds = outside_the_harness(lambda: timed(path))  # noqa: B023 (called at once)
            times, previous = done.get(name, ([], None))
            if previous is not None:
                _remove_database(previous)
            done[name] = ([*times, seconds], path)
    return done


def _remove_database(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def table_checksum(path: Path) -> tuple[int, str]:
    """How many tickets and a hash of the ticket rows and status changes, in order."""
    digest = hashlib.sha256()
    connection = sqlite3.connect(path)
    try:
        columns = ", ".join(TICKET_COLUMNS)
        count = 0
        for row in connection.execute(f"SELECT {columns} FROM tickets ORDER BY id"):
            digest.update(repr(row).encode())
            count += 1
        changes = ", ".join(CHANGE_COLUMNS)
        query = f"SELECT {changes} FROM status_changes ORDER BY ticket_id, at, id"
        for row in connection.execute(query):
            digest.update(repr(row).encode())
    finally:
        connection.close()
    return count, digest.hexdigest()


def _waiting_rule(engine: Engine) -> WaitingRule:
    """The rule the sync used: configured patterns plus the boards' NoEscalation statuses."""
    with session_scope(engine) as session:
        statuses = repo.list_board_statuses(session)
    return WaitingRule.from_statuses(CONFIG.business_hours.waiting_statuses, statuses)


def run(size: Size) -> CaseResult:
    count = TICKETS_BY_SIZE[size]
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-ingest-") as name:
        folder = Path(name)
        step(f"ingest: generating {count:,} tickets with the simulator")
        msp = simulated_msp(count, seed=SEED)
        server = started_server(msp)
        try:
            engine = fresh_engine(folder / "sync.db")
            step("ingest: sync over HTTP")
            synced: list[SyncRun] = []
            address = Address.of(server)

            def sync() -> float:
                began = time.perf_counter()
                synced.append(sync_from(address, engine, record_pages=True))
                return time.perf_counter() - began

            sync_seconds = outside_the_harness(sync)
        finally:
            server.stop()
        del msp, server
        rule = _waiting_rule(engine)
        engine.dispose()
        params = CONFIG.derive_params()
        pages = [page.records for page in synced[0].pages]

        step("ingest: the baseline's rows prepared (untimed)")
        prepared = baseline_rows(pages, params=params, rule=rule)
        step(f"ingest: store step and baseline, best of {REPEATS[size]} each, taking turns")
        best = interleaved(
            REPEATS[size],
            folder,
            {
                "store": lambda path: time_store(pages, path, params=params, rule=rule),
                "baseline": lambda path: time_baseline(prepared, path),
            },
        )
        (store_runs, store_path), (baseline_runs, baseline_path) = best["store"], best["baseline"]
        store_seconds, baseline_seconds = min(store_runs), min(baseline_runs)
        sums = [table_checksum(path) for path in (folder / "sync.db", store_path, baseline_path)]

    agree = len(set(sums)) == 1 and sums[0][0] == count and synced[0].report.inserted == count
    label = f"{count:,} tickets"
    store = Figure(
        f"store step, {label}",
        store_seconds,
        baseline_seconds,
        "s",
        f"≤ {STORE_GOAL:g}× baseline",
        store_seconds <= STORE_GOAL * baseline_seconds,
    )
    return CaseResult(
        case="ingest",
        size=size,
        figures=[
            Figure(f"sync {label} over HTTP", sync_seconds, None, "s", "reported", True),
            store,
        ],
        numbers_agree=agree,
        details={
            "tickets": count,
            "pages": len(pages),
            "sync_tickets_per_second": round(count / sync_seconds),
            "store_tickets_per_second": round(count / store_seconds),
            "baseline_tickets_per_second": round(count / baseline_seconds),
            "runs_seconds": {
                "store": [round(t, 3) for t in store_runs],
                "baseline": [round(t, 3) for t in baseline_runs],
            },
            "rows": {"sync": sums[0][0], "store": sums[1][0], "baseline": sums[2][0]},
            "checksums_equal": len(set(sums)) == 1,
            "baseline": (
                "plain sqlite3 executemany: INSERT ... ON CONFLICT(id) DO UPDATE of every ticket "
                "column plus the first-sight status_changes rows, one transaction per page; its "
                "rows (derived values included) are prepared before its clock starts"
            ),
        },
    )

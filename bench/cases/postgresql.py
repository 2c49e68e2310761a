"""PostgreSQL: the store step, the standings (month and year) and ``/leaderboard month`` on
the PostgreSQL server at ``DESKBOARD_BENCH_POSTGRES_URL`` (default 127.0.0.1:5432), each
against hand-written SQL on the same server.

1. **store step**: ``storage.repo.upsert_tickets`` a page (1,000 tickets) per transaction
   into a fresh database, 200,000 tickets, against the baseline: psycopg's ``executemany``
   (pipelined) of ``INSERT ... ON CONFLICT (id) DO UPDATE`` of every ticket column plus the
   first-sight ``status_changes`` rows, its rows derived and converted by SQLAlchemy's own
   PostgreSQL types before its clock starts (as the SQLite ingest case's baseline). Goal
   ≤ 2×. ``numbers_agree``: both databases hold the same ticket rows.
2. **standings**: the SQLite standings case's 1,000,000 tickets (its cached file), copied
   table by table into a PostgreSQL database with ``COPY`` (kept between runs, like the
   SQLite cache), then every metric for 200 technicians over November 2025 and over 2025:
   ``storage.standings.member_values`` against the same hand-written ``GROUP BY`` queries as
   the SQLite case, in PostgreSQL's dialect. Goal ≤ 1.5×; every member's every value equal.
3. **command**: the command case's 1,000,000 tickets copied into PostgreSQL, and its 50
   signed ``/leaderboard month`` requests through Bolt over them (median and p99; goal p99
   ≤ 1 s; the numbers shown equal the plain SQL counts).

When no PostgreSQL answers, the case is reported as not run, with the reason.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Json
from psycopg.types.numeric import FloatLoader
from sqlalchemy import JSON, Engine, create_engine, select, text
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect
from sqlalchemy.engine import URL, make_url
from sqlmodel import SQLModel

from bench.cases import command, ingest, standings
from bench.core import CaseResult, Figure, Size, best_of
from bench.data import (
    CONFIG,
    DATA_VERSION,
    END,
    START,
    cached_database,
    waiting_rule,
    write_database,
)
from bench.progress import step
from metrics.records import TicketRecord
from psa.connectwise.simulator.bulk import generate_records
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import TICKETS

URL_VARIABLE = "DESKBOARD_BENCH_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STORE_TICKETS: dict[str, int] = {"small": 2_000, "full": 200_000}
PAGE = 1_000
REPEATS: dict[str, int] = {"small": 2, "full": 3}
STORE_GOAL = 2.0
STANDINGS_GOAL = 1.5
COPY_ROWS = 20_000


def server_url() -> URL:
    return make_url(os.environ.get(URL_VARIABLE, DEFAULT_URL))


def unreachable(url: URL) -> str | None:
    """Why no PostgreSQL answers at ``url``, or None when one does."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return (
            f"no PostgreSQL at {url.render_as_string()}: {type(exc).__name__} (set {URL_VARIABLE})"
        )
    finally:
        engine.dispose()
    return None


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _exists(url: URL, name: str) -> bool:
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def _drop(url: URL, name: str) -> None:
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(url: URL, name: str) -> Iterator[URL]:
    """A new, empty database ``name`` on the server (dropped afterwards)."""
    _drop(url, name)
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name)
    finally:
        _drop(url, name)


def _connect(url: URL) -> psycopg.Connection[Any]:
    connection = psycopg.connect(_conninfo(url))
    connection.execute("SET TIME ZONE 'UTC'")
    connection.adapters.register_loader("numeric", FloatLoader)  # AVG of integers: a float
    return connection


def copy_database(source: Engine, target: URL) -> dict[str, int]:
    """Every Deskboard table of ``source`` into the migrated, empty database ``target``,
    with ``COPY``; rows read through SQLAlchemy's types (so as Deskboard reads them)."""
    _migrated(target)
    copied: dict[str, int] = {}
    with _connect(target) as connection, source.connect() as reader:
        for table in SQLModel.metadata.sorted_tables:
            with connection.cursor() as cursor:
                cursor.execute(f'TRUNCATE "{table.name}" CASCADE')
            names = [column.name for column in table.columns]
            wrap = [isinstance(column.type, JSON) for column in table.columns]
            quoted = ", ".join(f'"{name}"' for name in names)
            count = 0
            statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
            # the day totals come with the tickets, current: no date to mark while copying
            connection.execute(f'ALTER TABLE "{table.name}" DISABLE TRIGGER USER')
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                rows = reader.execution_options(yield_per=COPY_ROWS).execute(select(table))
                for row in rows:
                    copy.write_row(
                        [
                            Json(v) if w and v is not None else v
                            for v, w in zip(row, wrap, strict=True)
                        ]
                    )
                    count += 1
            copied[table.name] = count
            connection.execute(f'ALTER TABLE "{table.name}" ENABLE TRIGGER USER')
            for column in table.primary_key.columns:
                if column.autoincrement is True or (
                    column.autoincrement == "auto" and column.type.python_type is int
                ):
                    connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                        f"'{column.name}'), COALESCE(MAX(\"{column.name}\"), 0) + 1, false) "
                        f'FROM "{table.name}"'
                    )
        connection.commit()
    with psycopg.connect(_conninfo(target), autocommit=True) as connection:
        connection.execute("ANALYZE")
    return copied


# ---- 1. the store step -------------------------------------------------------------------------


def _pages(count: int) -> list[list[TicketRecord]]:
    return [
        page
        for page in generate_records(
            seed=ingest.SEED,
            tickets=count,
            members=200,
            start=START,
            end=END,
            timezone="America/Chicago",
            batch=PAGE,
        )
    ]


def _upsert_sql() -> tuple[str, str]:
    columns = ", ".join(f'"{name}"' for name in ingest.TICKET_COLUMNS)
    marks = ", ".join("%s" for _ in ingest.TICKET_COLUMNS)
    updates = ", ".join(
        f'"{name}" = excluded."{name}"' for name in ingest.TICKET_COLUMNS if name != "id"
    )
    upsert = (
        f"INSERT INTO tickets ({columns}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {updates}"
    )
    changes = ", ".join(ingest.CHANGE_COLUMNS)
    insert = (
        f"INSERT INTO status_changes ({changes}) "
        f"VALUES ({', '.join('%s' for _ in ingest.CHANGE_COLUMNS)})"
    )
    return upsert, insert


def _migrated(url: URL) -> None:
    engine = create_engine_for(url.render_as_string(hide_password=False))
    try:
        migrate(engine)
    finally:
        engine.dispose()


def time_store(pages: list[list[TicketRecord]], url: URL) -> float:
    _migrated(url)
    engine = create_engine_for(url.render_as_string(hide_password=False))
    params, rule = CONFIG.derive_params(), waiting_rule()
    try:
        began = time.perf_counter()
        for records in pages:
            with session_scope(engine) as session:
                repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)
        return time.perf_counter() - began
    finally:
        engine.dispose()


def time_baseline(prepared: list[tuple[list[Any], list[Any]]], url: URL) -> float:
    """Deskboard's tables (no trigger on those it writes; the day totals' marks are
    Deskboard's store step's work, timed there), written by the hand-written upsert."""
    _migrated(url)
    upsert, insert = _upsert_sql()
    with _connect(url) as connection:
        began = time.perf_counter()
        for tickets, changes in prepared:
            with connection.cursor() as cursor:
                cursor.executemany(upsert, tickets)
                cursor.executemany(insert, changes)
            connection.commit()
        return time.perf_counter() - began


def ticket_checksum(url: URL) -> tuple[int, str]:
    digest = hashlib.sha256()
    engine = create_engine_for(url.render_as_string(hide_password=False))
    count = 0
    try:
        with engine.connect() as connection:
            columns = [TICKETS.c[name] for name in ingest.TICKET_COLUMNS]
            for row in connection.execute(select(*columns).order_by(TICKETS.c.id)):
                digest.update(repr(tuple(row)).encode())
                count += 1
    finally:
        engine.dispose()
    return count, digest.hexdigest()


def store_step(url: URL, size: Size) -> tuple[Figure, bool, dict[str, Any]]:
    count = STORE_TICKETS[size]
    step(f"postgresql: generating {count:,} tickets")
    pages = _pages(count)
    prepared = ingest.baseline_rows(
        pages, params=CONFIG.derive_params(), rule=waiting_rule(), dialect=pg_dialect.dialect()
    )
    runs: dict[str, list[float]] = {"store": [], "baseline": []}
    sums: dict[str, tuple[int, str]] = {}
    step(f"postgresql: store step and baseline, best of {REPEATS[size]} each, taking turns")
    for _ in range(REPEATS[size]):
        for name in runs:
            with fresh_database(url, f"deskboard_bench_{name}_{os.getpid()}") as target:
                work = (
                    (lambda: time_store(pages, target))
                    if name == "store"
                    else (lambda: time_baseline(prepared, target))
                )
                runs[name].append(ingest.outside_the_harness(work))
                sums[name] = ticket_checksum(target)
    mine, theirs = min(runs["store"]), min(runs["baseline"])
    agree = sums["store"] == sums["baseline"] and sums["store"][0] == count
    figure = Figure(
        f"PostgreSQL store step, {count:,} tickets",
        mine,
        theirs,
        "s",
        f"≤ {STORE_GOAL:g}× baseline",
        mine <= STORE_GOAL * theirs,
    )
    details = {
        "tickets": count,
        "runs_seconds": {k: [round(t, 3) for t in v] for k, v in runs.items()},
        "rows": {k: v[0] for k, v in sums.items()},
        "baseline": "psycopg executemany (pipelined) INSERT ... ON CONFLICT (id) DO UPDATE",
    }
    return figure, agree, details


# ---- 2. the standings --------------------------------------------------------------------------


class _PgAsSqlite:
    """The SQLite standings baseline's queries run on PostgreSQL: its ``?`` become ``%s``,
    its 0/1 flags booleans (summed as integers), its timestamps read as UTC."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    @staticmethod
    def translate(sql: str) -> str:
        sql = re.sub(r"SUM\((\w+)\)", r"SUM(\1::int)", sql)
        return sql.replace(" = 1", " = true").replace("?", "%s")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.connection.execute(self.translate(sql), params)


def _cached_copy(url: URL, spec: standings.DataSpec) -> URL:
    """The standings case's tickets in PostgreSQL, copied once and kept."""
    name = f"deskboard_bench_v{DATA_VERSION}_seed{spec.seed}_{spec.tickets}_{spec.members}m"
    target = url.set(database=name)
    if _exists(url, name):
        with _connect(target) as connection:
            done = connection.execute("SELECT to_regclass('bench_complete')").fetchone()
        if done is not None and done[0] is not None:
            step(f"postgresql: reusing database {name}")
            _migrated(target)
            return target
    _drop(url, name)
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    path = cached_database(spec) if spec.tickets >= 1_000_000 else None
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-pg-") as folder:
        if path is None:
            path = Path(folder) / spec.file_name
            write_database(path, spec)
        step(f"postgresql: copying {spec.tickets:,} tickets into {name}")
        source = create_engine_for(f"sqlite:///{path}")
        try:
            copy_database(source, target)
        finally:
            source.dispose()
    with psycopg.connect(_conninfo(target), autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_complete (at timestamptz)")
    return target


def standings_figures(url: URL, size: Size) -> tuple[list[Figure], bool, dict[str, Any]]:
    spec = standings.SPECS[size]
    target = _cached_copy(url, spec)
    engine = create_engine_for(target.render_as_string(hide_password=False))
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    agree = True
    calendar = CONFIG.calendar()
    try:
        with _connect(target) as raw:
            connection = _PgAsSqlite(raw)
            total = raw.execute("SELECT COUNT(*) FROM tickets").fetchone()
            tickets = int(total[0]) if total else 0
            for name, window in standings._windows().items():
                days = calendar.working_days(window.start, window.end)

                def mine(window: Any = window, days: int = days) -> Any:
                    return standings.deskboard_values(engine, window, days)

                def theirs(window: Any = window, days: int = days) -> Any:
                    result = standings.baseline_values(connection, window, days)  # type: ignore[arg-type]
                    raw.rollback()  # end the read's transaction, as the SQLite baseline does
                    return result

                step(f"postgresql: standings, {name}, best of {standings.REPEATS[size]} each")
                mine()
                theirs()
                mine_seconds, deskboard = best_of(standings.REPEATS[size], mine)
                their_seconds, baseline = best_of(standings.REPEATS[size], theirs)
                problems = standings.disagreements(deskboard, baseline)
                agree = agree and not problems
                details[name] = {"members": len(baseline), "disagreements": problems[:20]}
                figures.append(
                    Figure(
                        f"PostgreSQL standings, {name}: {len(standings.METRICS)} metrics × "
                        f"{len(baseline)} members, {tickets:,} tickets",
                        mine_seconds * 1000,
                        their_seconds * 1000,
                        "ms",
                        f"≤ {STANDINGS_GOAL:g}× baseline",
                        mine_seconds <= STANDINGS_GOAL * their_seconds,
                    )
                )
    finally:
        engine.dispose()
    return figures, agree, details


# ---- 3. /leaderboard month ---------------------------------------------------------------------


def command_figures(url: URL, size: Size) -> tuple[list[Figure], bool, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="deskboard-bench-pg-command-") as folder:
        step("postgresql: the command case's tickets, built on SQLite")
        source = command.stored_tickets(Path(folder), size)
        with fresh_database(url, f"deskboard_bench_command_{os.getpid()}") as target:
            step("postgresql: copying them into PostgreSQL")
            try:
                copied = copy_database(source, target)
            finally:
                source.dispose()
            engine = create_engine_for(target.render_as_string(hide_password=False))
            try:
                step("postgresql: signed /leaderboard month through Bolt")
                result = command.measure(engine, size=size, now=command.NOW)
            finally:
                engine.dispose()
    figures = [
        Figure(
            f"PostgreSQL `/leaderboard month`, {copied['tickets']:,} tickets: {f.label}",
            f.deskboard,
            f.baseline,
            f.unit,
            f.goal,
            f.met,
        )
        for f in result.figures
    ]
    return figures, result.numbers_agree, result.details


def run(size: Size) -> CaseResult:
    url = server_url()
    reason = unreachable(url)
    if reason is not None:
        step(f"postgresql: not run: {reason}")
        return CaseResult("postgresql", size, [], details={"not_run": reason})
    began = datetime.now()
    store, store_agree, store_details = store_step(url, size)
    standing, standings_agree, standings_details = standings_figures(url, size)
    commands, command_agree, command_details = command_figures(url, size)
    with _connect(url) as connection:
        version = connection.execute("SHOW server_version").fetchone()
    return CaseResult(
        "postgresql",
        size,
        [store, *standing, *commands],
        numbers_agree=store_agree and standings_agree and command_agree,
        details={
            "server": version[0] if version else None,
            "started": began.isoformat(timespec="seconds"),
            "store": store_details,
            "standings": standings_details,
            "command": command_details,
        },
    )

"""The big cases' data: generated tickets written straight into a fresh database.

Tickets come from the simulator's bulk generator
(``psa.connectwise.simulator.bulk.generate_records``,
deterministic by seed: the event-timeline generator is too slow for a million tickets) and
are stored through storage's normal path, ``repo.upsert_tickets``, one transaction per
generated batch of about 5,000, exactly as a sync stores its pages: derived values, status
history and reopens included. Resolved tickets then get a first-contact decision (60% yes,
drawn from the seed) through ``repo.set_first_contact``, as the note sync would store it, so
that every metric of docs/metrics.md has data.

A database of the full size takes minutes to write, so ``cached_database`` keeps it under
``bench/.cache`` by seed and size; the file is migrated to the newest schema when reused.
"""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.progress import step
from bot.config import DeskboardConfig, parse_config
from metrics.waiting import WaitingRule
from psa.connectwise.simulator.bulk import generate_records
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import TICKETS

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DATA_VERSION = 1  # bump when the generator or what is stored changes: old caches are ignored
TIMEZONE = "America/Chicago"
CHICAGO = ZoneInfo(TIMEZONE)
START = datetime(2024, 1, 1, tzinfo=CHICAGO)  # two years of history ...
END = datetime(2026, 1, 1, tzinfo=CHICAGO)  # ... seen at the turn of the year
BATCH = 5_000
FIRST_CONTACT_SHARE = 0.6

CONFIG: DeskboardConfig = parse_config({"timezone": TIMEZONE, "business_hours": {"holidays": "US"}})


@dataclass(frozen=True, slots=True)
class DataSpec:
    seed: int
    tickets: int
    members: int

    @property
    def file_name(self) -> str:
        return f"tickets-v{DATA_VERSION}-seed{self.seed}-{self.tickets}-{self.members}m.db"


def waiting_rule() -> WaitingRule:
    """The configured waiting patterns: the bulk data has no board statuses of its own."""
    return WaitingRule(patterns=tuple(CONFIG.business_hours.waiting_statuses))


def _store_first_contact(path: Path, *, seed: int) -> int:
    """Decide first contact for every resolved in-scope ticket, in id order, from the seed."""
    engine = create_engine_for(f"sqlite:///{path}")
    rng = random.Random(seed * 7919 + 1)
    decided = 0
    try:
        with session_scope(engine) as session:
            query = (
                select(TICKETS.c.id)
                .where(TICKETS.c.resolver_key.is_not(None), TICKETS.c.resolved_at.is_not(None))
                .order_by(TICKETS.c.id)
            )
            ids = list(session.execute(query).scalars())
        for start in range(0, len(ids), BATCH * 4):
            chunk = ids[start : start + BATCH * 4]
            values = {ticket_id: rng.random() < FIRST_CONTACT_SHARE for ticket_id in chunk}
            with session_scope(engine) as session:
                repo.set_first_contact(session, values=values)
            decided += len(values)
    finally:
        engine.dispose()
    return decided


def write_database(path: Path, spec: DataSpec) -> None:
    """Generate ``spec`` and store it into a new database at ``path``."""
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    params, rule = CONFIG.derive_params(), waiting_rule()
    stored = 0
    try:
        batches = generate_records(
            seed=spec.seed,
            tickets=spec.tickets,
            members=spec.members,
            start=START,
            end=END,
            timezone=TIMEZONE,
            batch=BATCH,
        )
        for records in batches:
            with session_scope(engine) as session:
                repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)
            stored += len(records)
            if stored // 100_000 != (stored - len(records)) // 100_000:
                step(f"data: {stored:,} ticket versions stored")
    finally:
        engine.dispose()
    _store_first_contact(path, seed=spec.seed)
    # Fold the write-ahead log into the file, so the file alone is the database.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def cached_database(spec: DataSpec, *, cache_dir: Path = CACHE_DIR) -> Path:
    """The database of ``spec``, written once and then reused from ``cache_dir``."""
    path = cache_dir / spec.file_name
    if path.exists():
        step(f"data: reusing {path}")
    else:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".partial-{os.getpid()}")
        for leftover in (partial, *(Path(f"{partial}{end}") for end in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        step(f"data: writing {spec.tickets:,} tickets to {path} (once; cached after)")
        write_database(partial, spec)
        partial.replace(path)
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        migrate(engine)  # a cache written before a newer migration gets its indexes
    finally:
        engine.dispose()
    return path

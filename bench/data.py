"""The big cases' data: generated tickets written straight into a fresh database.

Tickets come from the simulator's bulk generator
(``psa.connectwise.simulator.bulk.generate_records``,
deterministic by seed: the event-timeline generator is too slow for a million tickets) and
are stored through storage's normal path, ``repo.upsert_tickets``, one transaction per
generated batch of about 5,000, exactly as a sync stores its pages: derived values, status
history and reopens included. Every in-scope ticket then gets notes drawn from the seed
(responses, customer messages, internal notes, a resolution note, some follow-ups), stored
through ``repo.store_notes`` as the note sync stores what it reads, so that every metric of
docs/metrics.md that notes feed has data.

A database of the full size takes minutes to write, so ``cached_database`` keeps it under
``bench/.cache`` by seed and size; the file is migrated to the newest schema when reused.
"""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.progress import step
from bot.config import DeskboardConfig, parse_config
from metrics.notes import TicketNote
from metrics.waiting import WaitingRule
from psa.connectwise.simulator.bulk import generate_records
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import TICKETS

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DATA_VERSION = 2  # bump when the generator or what is stored changes: old caches are ignored
TIMEZONE = "America/Chicago"
CHICAGO = ZoneInfo(TIMEZONE)
START = datetime(2024, 1, 1, tzinfo=CHICAGO)  # two years of history ...
END = datetime(2026, 1, 1, tzinfo=CHICAGO)  # ... seen at the turn of the year
BATCH = 5_000
FOLLOW_UP_SHARE = 0.2

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


def _notes_of(ticket_id: int, fact: Any, rng: random.Random) -> list[TicketNote]:
    """A plausible conversation for one ticket, drawn from ``rng``: a first response some
    minutes after entry, a customer message and another response on about half the tickets,
    a resolution note, and a follow-up on a fifth of the closed ones."""
    entered = fact.entered_at
    if entered is None:
        return []
    author = fact.resolver_key or fact.responder_key or fact.owner_key

    def at(minutes: float) -> datetime:
        return entered + timedelta(minutes=minutes)

    def response(when: datetime, flag: str = "detail") -> TicketNote:
        return TicketNote(ticket_id, when, author, True, None, False, flag != "internal")

    notes = [response(at(rng.uniform(5, 300)))]
    if rng.random() < 0.5:
        notes.append(TicketNote(ticket_id, at(rng.uniform(300, 900)), None, False, None, True))
        notes.append(response(at(rng.uniform(900, 1500))))
    if rng.random() < 0.3:
        notes.append(response(at(rng.uniform(10, 1500)), "internal"))
    if fact.resolved_at is not None:
        notes = [n for n in notes if n.created_at <= fact.resolved_at]
        notes.append(response(fact.resolved_at, "resolution"))
        if fact.closed and rng.random() < FOLLOW_UP_SHARE:
            notes.append(response(fact.resolved_at + timedelta(minutes=rng.uniform(1, 600))))
    return notes


def _store_notes(path: Path, *, seed: int) -> int:
    """Every in-scope ticket's notes, generated from the seed and stored through
    ``repo.store_notes`` as the note sync stores what it reads (first contact included)."""
    engine = create_engine_for(f"sqlite:///{path}")
    rng = random.Random(seed * 7919 + 1)
    calendar, rule = CONFIG.calendar(), waiting_rule()
    stored = 0
    try:
        while True:
            with session_scope(engine) as session:
                owed = repo.tickets_needing_notes(session, limit=BATCH)
                if not owed:
                    break
                facts = {
                    row.id: row
                    for row in session.execute(
                        select(
                            TICKETS.c.id,
                            TICKETS.c.entered_at,
                            TICKETS.c.resolved_at,
                            TICKETS.c.closed,
                            TICKETS.c.resolver_key,
                            TICKETS.c.responder_key,
                            TICKETS.c.owner_key,
                        ).where(TICKETS.c.id.in_([o.ticket_id for o in owed]))
                    )
                }
                read = [
                    repo.NotesRead(o, _notes_of(o.ticket_id, facts[o.ticket_id], rng)) for o in owed
                ]
                repo.store_notes(session, read=read, calendar=calendar, waiting_rule=rule)
            stored += len(owed)
            if stored // 100_000 != (stored - len(owed)) // 100_000:
                step(f"data: notes of {stored:,} tickets stored")
    finally:
        engine.dispose()
    return stored


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
    _store_notes(path, seed=spec.seed)
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

"""The PSA's own survey results into the ratings, at every sync (docs/metrics.md,
"Customer satisfaction"; ``[csat] surveys``).

Results arrive per survey in id order, not in change order, so the ratings watermark moves
to the newest change seen only after the last page has been stored, as the tickets' does:
a failure part-way leaves it where it was and the next sync reads the same results again.
Storing is idempotent (the latest answer per ticket and respondent wins), so nothing is lost
or doubled. A failure reading surveys never fails the ticket sync: it is logged and kept as
the report's ``ratings_error``.

With ``[csat] credit = "worked"``, the members who logged time on rated tickets are read
too, for tickets whose workers are not known yet, at most ``WORKERS_PER_SYNC`` a sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.ratings import store_ratings
from metrics.ratings import Credit
from psa.port import Psa, PsaError, SkippedTicket
from storage import ratings as rating_store
from storage.db import session_scope

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
"""Re-read results changed shortly before the watermark: clocks and commits are not exact."""

WORKERS_PER_SYNC = 500
"""Rated tickets whose time entries one sync reads at most (one request each)."""


@dataclass
class RatingSyncReport:
    read: int = 0
    changed: int = 0  # new answers, and changed ones
    skipped: list[SkippedTicket] = field(default_factory=list)
    workers_read: int = 0
    error: str | None = None


def sync_ratings(
    *, client: Psa, engine: Engine, config: DeskboardConfig, now: datetime
) -> RatingSyncReport:
    """Read the survey results changed since the last sync and store them as ratings."""
    report = RatingSyncReport()
    with session_scope(engine) as session:
        watermark = rating_store.get_ratings_watermark(session)
    updated_after = None if watermark is None else watermark - OVERLAP
    newest = watermark
    try:
        for page in client.iter_rating_pages(
            updated_after=updated_after,
            positive_at=config.csat.positive_at,
            negative_at=config.csat.negative_at,
        ):
            changes = store_ratings(engine, config=config, ratings=page.ratings, now=now)
            report.read += len(page.ratings)
            report.changed += len(changes)
            report.skipped.extend(page.skipped)
            if page.newest_update is not None and (newest is None or page.newest_update > newest):
                newest = page.newest_update
    except PsaError as exc:
        report.error = str(exc)
        log.warning("reading survey results failed (the next sync reads them again): %s", exc)
        return report
    for skipped in report.skipped:
        log.warning(
            "skipping survey result %s: %s: %s", skipped.ticket_id, skipped.field, skipped.reason
        )
    if newest is not None:
        with session_scope(engine) as session:
            rating_store.set_ratings_watermark(session, watermark=newest)
    if config.csat.credit is Credit.WORKED:
        report.workers_read = _read_workers(client=client, engine=engine)
    log.info("ratings: %d read, %d new or changed", report.read, report.changed)
    return report


def _read_workers(*, client: Psa, engine: Engine) -> int:
    with session_scope(engine) as session:
        ticket_ids = rating_store.rated_tickets_without_workers(session, limit=WORKERS_PER_SYNC)
    read = 0
    for ticket_id in ticket_ids:
        try:
            keys = client.ticket_workers(ticket_id)
        except PsaError as exc:
            log.warning("time entries of ticket %d not read: %s", ticket_id, exc)
            break
        with session_scope(engine) as session:
            rating_store.set_ticket_workers(session, ticket_id=ticket_id, member_keys=keys)
        read += 1
    return read

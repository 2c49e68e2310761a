"""Jobs: the sync from ConnectWise into the store (ARCHITECTURE.md, "How the pieces meet").

Sync safety: pages arrive in id order (forward-only paging), not in ``lastUpdated`` order, so
the watermark cannot move page by page. Each page is upserted in its own transaction; the
watermark moves to the newest ``lastUpdated`` seen only after the last page has committed.
A crash or a failed request part-way leaves the old watermark, and the next run fetches the
same tickets again; the upsert is idempotent, so nothing is skipped and nothing doubled.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from metrics.derive import DeriveParams
from metrics.records import Board
from metrics.waiting import WaitingRule
from psa.conditions import changed_tickets
from psa.connectwise import ConnectWiseClient, TicketPage
from psa.mapping import SkippedTicket
from storage import repo
from storage.db import session_scope

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
"""Re-read tickets updated shortly before the watermark: clocks and commits are not exact."""

REFRESH_EVERY = timedelta(days=1)
"""Boards, statuses and members change rarely; they are refreshed once a day (or --full)."""


class SyncConfigError(Exception):
    """The configuration names something ConnectWise does not have (e.g. a board)."""


@dataclass
class SyncReport:
    started_at: datetime
    updated_after: datetime
    pages: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    skipped: list[SkippedTicket] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    newly_resolved: list[int] = field(default_factory=list)
    refreshed_reference_data: bool = False
    rederived: int = 0
    watermark: datetime | None = None

    @property
    def stored(self) -> int:
        return self.inserted + self.updated


ProgressFn = Callable[[int, int | None], None]
"""Called with (tickets read so far, total expected or None)."""


def resolve_board_ids(config: DeskboardConfig, boards: list[Board]) -> list[int]:
    """The ids of the configured boards (names case-insensitive, or ids); [] means all."""
    wanted = config.connectwise.boards
    if not wanted:
        return []
    by_name = {b.name.casefold(): b.id for b in boards}
    by_id = {b.id for b in boards}
    ids: list[int] = []
    for entry in wanted:
        text = str(entry).strip()
        if text.isdigit() and int(text) in by_id:
            ids.append(int(text))
        elif text.casefold() in by_name:
            ids.append(by_name[text.casefold()])
        else:
            known = ", ".join(sorted(b.name for b in boards)) or "none"
            raise SyncConfigError(
                f"deskboard.toml: connectwise.boards: ConnectWise has no board {text!r}; "
                f"boards it has: {known}"
            )
    return sorted(set(ids))


def derive_fingerprint(params: DeriveParams, rule: WaitingRule) -> str:
    text = repr((params.fingerprint, rule.patterns, sorted(rule.no_escalation_names)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def backfill_start(since: date | None, *, config: DeskboardConfig, now: datetime) -> datetime:
    """Local midnight of ``since``, by default the first day of the current month (Crewhu's)."""
    local_now = now.astimezone(config.tz)
    day = since or local_now.date().replace(day=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=config.tz).astimezone(UTC)


def refresh_reference_data(client: ConnectWiseClient, engine: Engine, *, now: datetime) -> None:
    boards = client.boards()
    statuses = [s for b in boards for s in client.board_statuses(b.id)]
    members = client.members()
    with session_scope(engine) as session:
        repo.upsert_boards(session, boards=boards)
        repo.upsert_board_statuses(session, statuses=statuses)
        repo.upsert_members(session, members=members)
        repo.set_refreshed(session, boards_at=now, members_at=now)


def run_sync(
    *,
    client: ConnectWiseClient,
    engine: Engine,
    config: DeskboardConfig,
    now: datetime,
    since: date | None = None,
    full: bool = False,
    params: DeriveParams | None = None,
    progress: ProgressFn | None = None,
) -> SyncReport:
    """One sync cycle; errors are recorded in the sync state and raised again."""
    params = params or config.derive_params()
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        repo.record_sync_started(session, at=now)
    try:
        report = _sync(
            client=client,
            engine=engine,
            config=config,
            params=params,
            state=state,
            now=now,
            since=since,
            full=full,
            progress=progress,
        )
    except Exception as exc:
        with session_scope(engine) as session:
            repo.record_sync_error(session, at=now, message=f"{type(exc).__name__}: {exc}")
        raise
    with session_scope(engine) as session:
        repo.record_sync_finished(session, at=now)
    return report


def _sync(
    *,
    client: ConnectWiseClient,
    engine: Engine,
    config: DeskboardConfig,
    params: DeriveParams,
    state: repo.SyncStateView,
    now: datetime,
    since: date | None,
    full: bool,
    progress: ProgressFn | None,
) -> SyncReport:
    refreshed = False
    stale_at = now - REFRESH_EVERY
    if full or state.boards_refreshed_at is None or state.boards_refreshed_at < stale_at:
        refresh_reference_data(client, engine, now=now)
        refreshed = True
    with session_scope(engine) as session:
        boards = repo.list_boards(session)
        rule = WaitingRule.from_statuses(
            config.business_hours.waiting_statuses, repo.list_board_statuses(session)
        )
    board_ids = resolve_board_ids(config, boards)

    rederived = 0
    fingerprint = derive_fingerprint(params, rule)
    if state.derive_fingerprint != fingerprint:
        with session_scope(engine) as session:
            rederived = repo.rederive_all(
                session, params=params, waiting_rule=rule, fingerprint=fingerprint
            )

    if state.watermark is None or full or since is not None:
        updated_after = backfill_start(since, config=config, now=now)
    else:
        updated_after = state.watermark - OVERLAP
    report = SyncReport(
        started_at=now,
        updated_after=updated_after,
        refreshed_reference_data=refreshed,
        rederived=rederived,
    )
    total = client.count_tickets(conditions=changed_tickets(updated_after, board_ids))
    read = 0
    newest = state.watermark
    page: TicketPage
    for page in client.iter_ticket_pages(updated_after=updated_after, board_ids=board_ids):
        with session_scope(engine) as session:
            result = repo.upsert_tickets(
                session, records=page.records, params=params, waiting_rule=rule
            )
        report.pages += 1
        report.inserted += result.inserted
        report.updated += result.updated
        report.unchanged += result.unchanged
        report.status_changes += result.status_changes
        report.reopened.extend(result.reopened)
        report.newly_resolved.extend(result.newly_resolved)
        report.skipped.extend(page.skipped)
        if result.max_updated_at is not None and (newest is None or result.max_updated_at > newest):
            newest = result.max_updated_at
        read += page.raw_count
        if progress is not None:
            progress(read, total)
    if newest is not None:
        with session_scope(engine) as session:
            repo.set_watermark(session, watermark=newest)
    report.watermark = newest
    log.info(
        "sync: %d new, %d changed, %d unchanged, %d skipped, %d status changes",
        report.inserted,
        report.updated,
        report.unchanged,
        len(report.skipped),
        report.status_changes,
    )
    return report

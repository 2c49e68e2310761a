"""Jobs: the sync from ConnectWise into the store, and the judging of what it stored.

Every sync, whoever runs it (the bot's scheduler, ``/deskboard sync``, the ``deskboard sync``
command line), judges the fresh resolutions not judged yet for kudos and nudges right after
storing the tickets (``bot.core.judging``), so none is lost to the path that stored it.

Sync safety: pages arrive in id order (forward-only paging), not in ``lastUpdated`` order, so
the watermark cannot move page by page. Each page is upserted in its own transaction; the
watermark moves to the newest ``lastUpdated`` seen only after the last page has committed.
A crash or a failed request part-way leaves the old watermark, and the next run fetches the
same tickets again; the upsert is idempotent, so nothing is skipped and nothing doubled.

Survey results (``[csat] surveys``) are read last, into the ratings
(``bot.core.survey_sync``), with a watermark of their own.

Note sync (``[connectwise] sync_notes``): after the tickets, the notes of the tickets whose
notes are owed (new or changed since they were last read, ``storage.ticket_notes``) are read,
one request per ticket and ``[connectwise] max_concurrency`` at once, most recently updated
first, at most ``NOTES_PER_SYNC`` a run, and stored ``NOTES_BATCH`` tickets per transaction.
What is left (a long backfill, a failed request) stays owed and is read by the next sync.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.derived import rederive_if_stale, stored_waiting_rule
from bot.core.judging import NoticeReport, judge_resolutions
from bot.core.rating_notices import write_back_notes
from bot.core.survey_sync import RatingSyncReport, sync_ratings
from metrics.derive import DeriveParams
from metrics.notes import TicketNote
from metrics.records import Board, TicketRecord
from metrics.waiting import WaitingRule
from psa.port import Psa, PsaError, RecordNotFound, SkippedTicket, TicketPage
from storage import repo, rollups
from storage.db import session_scope, write_scope

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
"""Re-read tickets updated shortly before the watermark: clocks and commits are not exact."""

REFRESH_EVERY = timedelta(days=1)
"""Boards, statuses and members change rarely; they are refreshed once a day (or --full)."""

NOTES_PER_SYNC = 2000
"""Tickets whose notes one sync reads at most: one request each, so a backfill is spread out."""

NOTES_BATCH = 100
"""Tickets' notes stored per transaction: a failure loses at most this much work."""

NOTES_FAILURES_IN_A_ROW = 3
"""Failed notes requests in a row after which a sync stops reading notes: ConnectWise is down
(or refusing us), so the rest would fail too. A single failing ticket is skipped instead, so
that it cannot keep the tickets after it waiting for ever."""


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
    notes_read: int = 0  # tickets whose notes were read and judged
    notes_gone: list[int] = field(default_factory=list)  # tickets ConnectWise no longer has
    notes_failed: list[int] = field(default_factory=list)  # still owed, read again next sync
    notes_error: str | None = None  # the last notes request's error, if any failed
    notices: NoticeReport = field(default_factory=NoticeReport)  # the resolutions judged
    ratings: RatingSyncReport | None = None  # the PSA's survey results ([csat] surveys)
    notes_written: int = 0  # internal notes on badly rated tickets ([csat] write_back)

    @property
    def stored(self) -> int:
        return self.inserted + self.updated


ProgressFn = Callable[[int, int | None], None]
"""Called with (tickets read so far, total expected or None)."""


@dataclass
class NotesResult:
    read: int = 0
    gone: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    error: str | None = None


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


def backfill_start(since: date | None, *, config: DeskboardConfig, now: datetime) -> datetime:
    """Local midnight of ``since``; by default of the first day of the current month or, if
    earlier, of the start of any configured contest's window at ``now`` (a yearly contest's
    1 January, a fixed contest's first day), so that every contest counts all its tickets."""
    day = since or _default_backfill_day(config, now)
    return datetime.combine(day, datetime.min.time(), tzinfo=config.tz).astimezone(UTC)


def _default_backfill_day(config: DeskboardConfig, now: datetime) -> date:
    tz = config.tz
    starts = [
        contest.window(now=now, tz=tz, week_start=config.week_start_day).start.astimezone(tz)
        for contest in config.contest_list()
    ]
    return min([now.astimezone(tz).date().replace(day=1), *(s.date() for s in starts)])


def refresh_reference_data(client: Psa, engine: Engine, *, now: datetime) -> None:
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
    client: Psa,
    engine: Engine,
    config: DeskboardConfig,
    now: datetime,
    since: date | None = None,
    full: bool = False,
    params: DeriveParams | None = None,
    progress: ProgressFn | None = None,
    notes_progress: ProgressFn | None = None,
) -> SyncReport:
    """One sync cycle; errors are recorded in the sync state and raised again.

    A failure while reading notes does not fail the sync (the tickets are stored and current):
    it is recorded in the sync state as the last error and in ``SyncReport.notes_error``.
    """
    params = params or config.derive_params()
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        repo.record_sync_started(session, at=now)
        repo.start_judging(session, at=now)  # the first sync's start: bot.core.judging
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
            notes_progress=notes_progress,
        )
    except Exception as exc:
        with session_scope(engine) as session:
            repo.record_sync_error(session, at=now, message=f"{type(exc).__name__}: {exc}")
        raise
    with session_scope(engine) as session:
        repo.record_sync_finished(session, at=now)
    # the day totals follow what was stored, so the next standings read finds them current
    rollups.refresh(engine, tz=config.tz)
    return report


def _sync(
    *,
    client: Psa,
    engine: Engine,
    config: DeskboardConfig,
    params: DeriveParams,
    state: repo.SyncStateView,
    now: datetime,
    since: date | None,
    full: bool,
    progress: ProgressFn | None,
    notes_progress: ProgressFn | None,
) -> SyncReport:
    refreshed = False
    stale_at = now - REFRESH_EVERY
    if full or state.boards_refreshed_at is None or state.boards_refreshed_at < stale_at:
        refresh_reference_data(client, engine, now=now)
        refreshed = True
    with session_scope(engine) as session:
        boards = repo.list_boards(session)
        rule = stored_waiting_rule(session, config)
    board_ids = resolve_board_ids(config, boards)

    rederived = rederive_if_stale(engine, config=config, params=params)  # under the sync lock

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
    total = client.count_changed_tickets(updated_after=updated_after, board_ids=board_ids)
    read = 0
    newest = state.watermark
    page: TicketPage
    for page in client.iter_ticket_pages(updated_after=updated_after, board_ids=board_ids):
        result = store_records(engine, records=page.records, params=params, waiting_rule=rule)
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
    report.notices = judge_resolutions(engine, config=config, now=now)
    log.info(
        "sync: %d new, %d changed, %d unchanged, %d skipped, %d status changes",
        report.inserted,
        report.updated,
        report.unchanged,
        len(report.skipped),
        report.status_changes,
    )
    # Notes come after the watermark has moved, on purpose. Which notes are owed is kept in
    # the database (notes_read is false), not in the watermark, so a notes failure loses
    # nothing: the tickets are stored, and what is still owed is read by the next sync.
    # Holding the watermark back for notes would only make that sync read every ticket
    # page again, and a ticket whose notes keep failing would pin the watermark for ever.
    if config.connectwise.sync_notes:
        notes = sync_notes(
            client=client, engine=engine, config=config, now=now, progress=notes_progress
        )
        report.notes_read = notes.read
        report.notes_gone = notes.gone
        report.notes_failed = notes.failed
        report.notes_error = notes.error
    if config.csat.surveys:
        report.ratings = sync_ratings(client=client, engine=engine, config=config, now=now)
    report.notes_written = write_back_notes(engine, client=client, config=config)
    return report


def store_records(
    engine: Engine,
    *,
    records: Sequence[TicketRecord],
    params: DeriveParams,
    waiting_rule: WaitingRule,
) -> repo.UpsertResult:
    """The one way tickets read from the PSA enter the database, for the poll (a page at a
    time), a push and a nudge's fix alike: one transaction upserting them with their status
    history and derived values. Whoever stores then judges (``judge_resolutions``). It reads
    the stored versions before it writes, while a push, a rating or a click may write too:
    a write unit (``storage.db.write_scope``)."""
    with write_scope(engine) as session:
        return repo.upsert_tickets(
            session, records=records, params=params, waiting_rule=waiting_rule
        )


def store_and_judge(
    engine: Engine, *, config: DeskboardConfig, records: Sequence[TicketRecord], now: datetime
) -> tuple[repo.UpsertResult, NoticeReport]:
    """A few tickets stored outside a poll (a push, a fix) and their fresh resolutions judged
    at once, as the poll judges what it stores."""
    with session_scope(engine) as session:
        rule = stored_waiting_rule(session, config)
    stored = store_records(
        engine, records=records, params=config.derive_params(), waiting_rule=rule
    )
    return stored, judge_resolutions(engine, config=config, now=now)


def sync_notes(
    *,
    client: Psa,
    engine: Engine,
    config: DeskboardConfig,
    now: datetime,
    limit: int = NOTES_PER_SYNC,
    progress: ProgressFn | None = None,
) -> NotesResult:
    """Read the notes of up to ``limit`` tickets still owed them and store what they say.

    Up to ``[connectwise] max_concurrency`` requests are in flight at once (a thread each;
    the client backs every thread off together when ConnectWise answers 429), and what was
    read is stored ``NOTES_BATCH`` tickets per transaction, in the order listed. A ticket
    ConnectWise answers 404 for has been deleted: its notes can never be read, so it is
    stored as read with no notes (not first contact, nothing to converse about), which stops
    it from being asked for again at every sync. Any other ConnectWise error leaves the ticket
    owed, to be read again next sync, and is recorded as the sync's last error; after
    ``NOTES_FAILURES_IN_A_ROW`` failures in a row the reading stops for this sync.
    """
    with session_scope(engine) as session:
        owed = repo.tickets_needing_notes(session, limit=limit)
        rule = stored_waiting_rule(session, config)
    calendar = config.calendar()
    result = NotesResult()
    pending: list[repo.NotesRead] = []
    in_a_row = 0

    def store() -> None:
        if pending:  # reads, then writes, while a push or a rating may write: a write unit
            with write_scope(engine) as session:
                repo.store_notes(session, read=pending, calendar=calendar, waiting_rule=rule)
            pending.clear()

    def read(item: repo.NotesOwed) -> list[TicketNote]:
        return client.notes(item.ticket_id)

    # A sliding window: at most max_concurrency tickets are asked for ahead of the one being
    # stored, so a stop after failures in a row stops the asking too.
    ahead = config.connectwise.max_concurrency
    workers = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="psa-notes")
    queue = iter(owed)
    asked: deque[tuple[repo.NotesOwed, Future[list[TicketNote]]]] = deque(
        (item, workers.submit(read, item)) for item in islice(queue, ahead)
    )
    done = 0
    try:
        while asked:
            item, future = asked.popleft()
            done += 1
            ticket_id = item.ticket_id
            try:
                pending.append(repo.NotesRead(item, future.result()))
                result.read += 1
                in_a_row = 0
            except RecordNotFound:
                log.warning("notes: ticket %d is gone from ConnectWise; no notes", ticket_id)
                result.gone.append(ticket_id)
                pending.append(repo.NotesRead(item, None))
                in_a_row = 0
            except PsaError as exc:
                result.failed.append(ticket_id)
                result.error = f"{type(exc).__name__}: {exc}"
                log.warning("notes: ticket %d: read again next sync: %s", ticket_id, result.error)
                in_a_row += 1
            if len(pending) >= NOTES_BATCH:
                store()
            if progress is not None:
                progress(done, len(owed))
            if in_a_row >= NOTES_FAILURES_IN_A_ROW:
                log.warning(
                    "notes: %d failures in a row; the rest wait for the next sync", in_a_row
                )
                break
            following = next(queue, None)
            if following is not None:
                asked.append((following, workers.submit(read, following)))
    finally:
        workers.shutdown(wait=True, cancel_futures=True)
    store()
    if result.error is not None:
        with session_scope(engine) as session:
            repo.record_sync_error(session, at=now, message=f"reading notes: {result.error}")
    log.info("notes: %d tickets read, %d gone, %d owed", result.read, len(result.gone), len(owed))
    return result

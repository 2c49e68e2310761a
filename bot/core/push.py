"""Syncing one ticket now, because the PSA said it changed (a callback, "push").

The ticket is read from ConnectWise by id (the callback's ``Entity`` is not trusted for
data) and stored through the same upsert the poll uses, so status history, reopens and
derived values come out exactly as if the next poll had found it. The sync watermark is not
moved: it belongs to the poll, which still reads everything changed since it, so a push can
never make the poll skip a ticket.

``PushReceiver`` takes a callback request as the HTTP route received it (``bot.web.callbacks``),
and checks, in order (the first failure answers, and nothing is synced):

1. a body of at most ``MAX_BODY`` bytes (413);
2. the PSA's own checks, through the port's ``PushVerifier`` (for ConnectWise: the
   signature header 401, the body's shape 400, the key URL's site 401, the signature 401, a
   key that cannot be fetched 503, the time of the change 400;
   ``psa.connectwise.callbacks.ConnectWisePushVerifier``);
3. fresh, not replayed (403). *Stale* means the PSA's time of the change is more than
   ``STALE_AFTER`` away from our clock, either way (a body recorded and sent again later,
   or a clock far off). A *replay* is a body identical to one already accepted: the SHA-256
   of each accepted body is kept until its time of change is stale, so every replay is
   caught either as stale or as seen. The memory is per process; with several processes
   behind a load balancer a replay to another one costs one extra read of the ticket and
   nothing more, since the sync is idempotent and kudos are recorded once per ticket.

Then, answered at once with 200: a ticket added or updated is put on a queue; one worker
thread syncs queued tickets one at a time (``Runtime.sync_ticket``: read it from the PSA,
store it, record kudos and nudges, deliver), under the same lock as the poll. A ticket queued
twice before its turn is synced once. ``deleted`` changes nothing: the stored ticket stays,
as it would for the poll (which cannot see deletions either), and a callback of another type
is acknowledged and ignored. Polling stays on and reconciles anything a callback missed.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.judging import NoticeReport
from bot.core.sync import SyncConfigError, resolve_board_ids, store_and_judge
from psa.port import Psa, PsaError, PushRejected, PushVerifier, RecordNotFound
from storage import repo
from storage.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class TicketSyncResult:
    ticket_id: int
    stored: bool = False  # inserted or changed
    skipped: str | None = None  # why it was not stored
    newly_resolved: list[int] = field(default_factory=list)
    notices: NoticeReport = field(default_factory=NoticeReport)


def sync_ticket(
    *,
    client: Psa,
    engine: Engine,
    config: DeskboardConfig,
    ticket_id: int,
    now: datetime,
) -> TicketSyncResult:
    """Fetch ``ticket_id``, store it if it is on a selected board, and judge its resolution
    (``bot.core.judging``) like the poll judges what it stores.

    Before the first poll has stored the boards, nothing is stored (the poll will). A ticket
    ConnectWise no longer has is left as stored; the poll's reconciliation decides.
    ConnectWise errors are raised for the caller to log.
    """
    result = TicketSyncResult(ticket_id)
    with session_scope(engine) as session:
        boards = repo.list_boards(session)
    if not boards:
        result.skipped = "no boards stored yet; the first poll stores the ticket"
        return result
    try:
        board_ids = resolve_board_ids(config, boards)
    except SyncConfigError as exc:
        result.skipped = str(exc)
        return result
    try:
        record = client.get_ticket(ticket_id)
    except RecordNotFound:
        result.skipped = "ConnectWise no longer has it"
        return result
    except ValueError as exc:  # the ticket's JSON could not be mapped
        result.skipped = f"unreadable: {exc}"
        return result
    if board_ids and record.board_id not in board_ids:
        result.skipped = "not on a selected board"
        return result
    upserted, result.notices = store_and_judge(engine, config=config, records=[record], now=now)
    result.stored = upserted.inserted + upserted.updated > 0
    result.newly_resolved = list(upserted.newly_resolved)
    return result


def describe(result: TicketSyncResult, *, at: datetime) -> str:
    if result.skipped is not None:
        return f"ticket {result.ticket_id}: not stored ({result.skipped})"
    change = "stored" if result.stored else "unchanged"
    resolved = " (newly resolved)" if result.newly_resolved else ""
    return f"ticket {result.ticket_id}: {change}{resolved} at {at.isoformat()}"


MAX_BODY = 512 * 1024
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to a callback request: an HTTP status and a message."""

    status: int
    message: str  # safe to send back: never a secret, never a value from the body

    @property
    def ok(self) -> bool:
        return self.status < 300


class PushReceiver:
    """Checks callbacks (see the module docstring) and hands accepted ticket ids to a
    worker thread."""

    def __init__(
        self,
        *,
        verifier: PushVerifier,
        sync_ticket: Callable[[int], object],
        clock: Callable[[], datetime],
        source: str = "PSA",
        max_body: int = MAX_BODY,
    ) -> None:
        self._verifier = verifier
        self._sync_ticket = sync_ticket
        self._clock = clock
        self._source = source  # names the sender in the log: "ConnectWise callback refused"
        self._max_body = max_body
        self._seen: dict[bytes, datetime] = {}  # accepted body digest → when it goes stale
        self._seen_lock = threading.Lock()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending: set[int] = set()
        self._pending_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False

    # -- checking ------------------------------------------------------------------------
    def handle(self, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Check one request and, when it passes, queue its ticket. Never raises."""
        if len(body) > self._max_body:
            return self._refuse(413, "the body is too large")
        try:
            push = self._verifier.verify(headers, body)
        except PushRejected as exc:
            return self._refuse(exc.status, exc.reason)
        if not push.syncs_ticket:
            log.info(
                "%s callback: %s of %s %d ignored",
                self._source,
                push.action,
                push.kind,
                push.record_id,
            )
            return Outcome(200, "ignored")
        if push.changed_at is None:
            return self._refuse(400, "the push has no time of change: freshness unknown")
        now = self._clock()
        if abs(now - push.changed_at) > STALE_AFTER:
            return self._refuse(403, "stale: the change is not recent")
        if not self._first_sight(body, expires=push.changed_at + STALE_AFTER, now=now):
            return self._refuse(403, "replayed: this callback was already accepted")
        self.enqueue(push.record_id)
        return Outcome(200, "queued")

    def _first_sight(self, body: bytes, *, expires: datetime, now: datetime) -> bool:
        digest = hashlib.sha256(body).digest()
        with self._seen_lock:
            for old in [d for d, until in self._seen.items() if until < now]:
                del self._seen[old]
            if digest in self._seen:
                return False
            self._seen[digest] = expires
            return True

    def _refuse(self, status: int, why: str) -> Outcome:
        log.warning("%s callback refused (%d): %s", self._source, status, why)
        return Outcome(status, why)

    # -- syncing -------------------------------------------------------------------------
    def enqueue(self, ticket_id: int) -> None:
        with self._pending_lock:
            if self._closed or ticket_id in self._pending:
                return
            self._pending.add(ticket_id)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="psa-callbacks", daemon=True)
                self._worker.start()
        self._queue.put(ticket_id)

    def join(self) -> None:
        """Until every queued ticket has been synced (or has failed)."""
        self._queue.join()

    def close(self) -> None:
        with self._pending_lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=10)

    def _run(self) -> None:
        while True:
            ticket_id = self._queue.get()
            try:
                if ticket_id is None:
                    return
                with self._pending_lock:
                    self._pending.discard(ticket_id)
                self._sync(ticket_id)
            finally:
                self._queue.task_done()

    def _sync(self, ticket_id: int) -> None:
        try:
            result = self._sync_ticket(ticket_id)
        except PsaError as exc:
            log.warning(
                "callback sync of ticket %d failed, the poll catches up: %s", ticket_id, exc
            )
        except Exception:
            log.exception("callback sync of ticket %d failed (the poll catches up)", ticket_id)
        else:
            log.info("callback sync: %s", result)

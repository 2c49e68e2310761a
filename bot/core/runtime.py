"""The long-running jobs of ``deskboard run``, as one object the scheduler and CLI share.

Every job reads the clock through ``clock`` and talks to the PSA through ``psa`` (a factory
of context managers yielding a ``psa.port.Psa``: ConnectWise's client), so tests drive the
same code with a fake clock and the simulator. A job's failure is logged and recorded; it
never stops the process, and the next run catches up. The ``post_*`` jobs only queue
messages in the outbox; ``deliver`` sends them (the scheduler runs it right after each posting
job, and every 10 s), one delivery pass at a time per process.

Every store judges what it stored (``bot.core.judging``: in ``run_sync`` and ``sync_ticket``);
the runtime then queues the fresh kudos not posted yet (``bot.core.notices``), which includes
those a command-line sync or a nudge fix recorded, and delivers.

A sync that fails because the database itself is locked or away cannot record its error
there; the runtime keeps it and records it at the start of the next sync, so ``deskboard
status`` still shows it (as recovered, once that sync succeeds).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bot.chat.messenger import Messenger
from bot.config import DeskboardConfig
from bot.core.alerting import AlertReport, queue_alerts
from bot.core.delivery import DeliveryReport, deliver_due
from bot.core.derived import rederive_if_stale
from bot.core.links import TicketLink
from bot.core.notices import queue_instant_kudos
from bot.core.platforms import can_dm
from bot.core.posting import (
    queue_announcements,
    queue_kudos_digest,
    queue_standings,
    queue_winners,
)
from bot.core.program import FollowsProgram, LiveConfig
from bot.core.push import PushReceiver, TicketSyncResult, describe, sync_ticket
from bot.core.rating_notices import queue_rating_notices
from bot.core.sync import SyncReport, run_sync
from psa.port import Psa, PushVerifier
from storage import repo
from storage.db import SYNC_LOCK, one_at_a_time, session_scope

log = logging.getLogger(__name__)

ClientFactory = Callable[[], AbstractContextManager[Psa]]


@dataclass
class Runtime(FollowsProgram):
    engine: Engine
    config: DeskboardConfig
    messengers: tuple[Messenger, ...]
    psa: ClientFactory
    clock: Callable[[], datetime]
    ticket_link: TicketLink
    live: LiveConfig | None = None  # the program as it changes (None: ``config`` for ever)
    _sync_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _deliver_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _unrecorded_error: tuple[datetime, str] | None = field(default=None, init=False, repr=False)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(m.platform for m in self.messengers)

    def sync(self) -> SyncReport:
        """One sync and its kudos and nudges; a concurrent call (``/deskboard sync`` while
        the scheduled one runs) waits for the running one instead of racing it, in this
        process and in the others sharing a PostgreSQL database."""
        with self._sync_lock, one_at_a_time(self.engine, key=SYNC_LOCK):
            try:
                return self._sync()
            except DBAPIError as exc:
                message = f"database: {type(exc.orig).__name__}: {exc.orig}"
                self._unrecorded_error = (self.clock(), message)
                raise

    def _sync(self) -> SyncReport:
        now = self.clock()
        if self._unrecorded_error is not None:
            at, message = self._unrecorded_error
            self._unrecorded_error = None
            self._record_error(at, message)
        with self.psa() as client:
            report = run_sync(client=client, engine=self.engine, config=self.current, now=now)
        self.queue_instant_kudos()
        self._queue_alerts(lock_held=True)
        self.deliver()
        return report

    def sync_ticket(self, ticket_id: int) -> TicketSyncResult:
        """One ticket now (a ConnectWise callback), judged, its instant kudos queued, then
        delivery; serialized with ``sync`` by the same locks. A failure is kept as the last
        sync error; a push that dies between storing and judging leaves the resolution
        unjudged, for the next sync."""
        with self._sync_lock, one_at_a_time(self.engine, key=SYNC_LOCK):
            now = self.clock()
            try:
                with self.psa() as client:
                    result = sync_ticket(
                        client=client,
                        engine=self.engine,
                        config=self.current,
                        ticket_id=ticket_id,
                        now=now,
                    )
            except Exception as exc:
                self._record_error(now, f"push of ticket #{ticket_id}: {type(exc).__name__}: {exc}")
                raise
            self.queue_instant_kudos()
            self._queue_alerts(lock_held=True)  # an emergency's alert seconds after entry
        self.deliver()
        return result

    def push_receiver(self, verifier: PushVerifier, *, source: str = "PSA") -> PushReceiver:
        """A receiver of the callbacks ``verifier`` checks, each pushed ticket synced through
        ``sync_ticket``."""

        def sync(ticket_id: int) -> str:
            return describe(self.sync_ticket(ticket_id), at=self.clock())

        return PushReceiver(verifier=verifier, sync_ticket=sync, clock=self.clock, source=source)

    def queue_instant_kudos(self) -> int:
        """Queue the fresh kudos of resolutions, and act on customers' new answers (CSAT
        kudos, bad-rating alerts, recoveries: ``bot.core.rating_notices``)."""
        queued = queue_instant_kudos(
            self.engine,
            config=self.current,
            now=self.clock(),
            ticket_link=self.ticket_link,
            platforms=self.platforms,
        )
        queue_rating_notices(
            self.engine,
            config=self.current,
            now=self.clock(),
            ticket_link=self.ticket_link,
            platforms=self.platforms,
        )
        return queued

    def queue_alerts(self) -> AlertReport:
        """Raise the SLA-risk alerts due now and update those dealt with
        (``bot.core.alerting``), as the scheduler does every minute; never at the same time
        as this process's sync or push (another process's race is settled by the alerts'
        unique key: the second writer's transaction fails and sends nothing)."""
        with self._sync_lock:
            return self._queue_alerts(lock_held=False)

    def _queue_alerts(self, *, lock_held: bool) -> AlertReport:
        """``lock_held``: the caller holds the sync lock (a sync, a push), so the stored
        tickets are derived again here if need be, without taking the lock a second time
        (on PostgreSQL a second connection would wait for ever on its own process's lock)."""
        if lock_held:
            rederive_if_stale(self.engine, config=self.current, params=self.current.derive_params())
        return queue_alerts(
            self.engine,
            config=self.current,
            now=self.clock(),
            platforms=self.platforms,
            ticket_link=self.ticket_link,
            ensure_current=not lock_held,
        )

    def _record_error(self, at: datetime, message: str) -> None:
        """Keep ``message`` as the last sync error; while the database cannot take it (locked,
        away), hold it here for the next sync to record."""
        try:
            with session_scope(self.engine) as session:
                repo.record_sync_error(session, at=at, message=message)
        except DBAPIError:
            self._unrecorded_error = (at, message)

    def deliver(self) -> DeliveryReport:
        """Send what is due on every platform (each messenger takes only its own); a pass
        started meanwhile (the sync's, the 10-second job's) waits for the running one."""
        total = DeliveryReport()
        with self._deliver_lock:
            for messenger in self.messengers:
                report = deliver_due(self.engine, messenger, now=self.clock())
                total.sent += report.sent
                total.failed += report.failed
                total.dead += report.dead
                total.found += report.found
        return total

    def post_standings(self, contest_name: str, *, channel: str | None = None) -> int:
        contests = {c.name.casefold(): c for c in self.current.contest_list()}
        contest = contests.get(contest_name.casefold())
        if contest is None:
            raise KeyError(contest_name)
        return queue_standings(
            self.engine,
            config=self.current,
            contest=contest,
            now=self.clock(),
            platforms=self.platforms,
            channel=channel,
        )

    def post_winners(self) -> int:
        return queue_winners(
            self.engine, config=self.current, now=self.clock(), platforms=self.platforms
        )

    def post_announcements(self) -> int:
        """Announce the contests that start now (``bot.core.posting.queue_announcements``)."""
        return queue_announcements(
            self.engine, config=self.current, now=self.clock(), platforms=self.platforms
        )

    def post_kudos_digest(self) -> int:
        return queue_kudos_digest(
            self.engine,
            config=self.current,
            now=self.clock(),
            platforms=self.platforms,
            ticket_link=self.ticket_link,
        )

    def post_nudges(self) -> int:
        from bot.core.nudging import in_business_hours, queue_nudge_digests

        now = self.clock()
        can_send = any(can_dm(p) for p in self.platforms) and self.current.nudges.enabled
        if not can_send or not in_business_hours(self.current, now):
            return 0  # nothing to send: no need to ask ConnectWise for anything
        with self.psa() as client:
            return queue_nudge_digests(
                self.engine,
                config=self.current,
                client=client,
                now=self.clock(),
                platforms=self.platforms,
                ticket_link=self.ticket_link,
            )

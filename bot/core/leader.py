"""Running the scheduler only while this process leads (``storage.leadership``).

Every ``deskboard run`` serves Slack and Teams; of several sharing one PostgreSQL, only the
leader runs the scheduler (sync, delivery, posts). The others keep theirs paused and try to
take the lead every ``every`` seconds (15 by default, ``DESKBOARD_LEADER_POLL_SECONDS``), so
a dead leader's work resumes elsewhere within ``every`` plus the time PostgreSQL takes to end
its session: at once for a killed process, about 30 s for a vanished host. The leader checks
its lock as often and pauses its scheduler when its lock connection has dropped.

On taking the lead the scheduler syncs at once, as a starting process does. A job already
running when the lead is lost finishes; nothing new starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.base import STATE_PAUSED, STATE_STOPPED, BaseScheduler

from storage.leadership import Leadership

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 15.0


class SchedulerLeader:
    """Starts ``scheduler`` running or paused and keeps it matching this process's lead."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        leadership: Leadership,
        *,
        every: float = DEFAULT_POLL_SECONDS,
        clock: Callable[[], datetime],
    ) -> None:
        self._scheduler = scheduler
        self._leadership = leadership
        self._every = every
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._scheduler.state not in (STATE_PAUSED, STATE_STOPPED)

    def start(self) -> bool:
        """Start the scheduler (paused unless this process leads) and, when several processes
        may compete, the thread that polls the lead. Returns whether this process leads."""
        leads = self._leadership.poll()
        self._scheduler.start(paused=not leads)
        if leads:
            log.info("this process runs the scheduler")
        if self._leadership.shared:
            self._thread = threading.Thread(
                target=self._watch, name="scheduler-leader", daemon=True
            )
            self._thread.start()
        return leads

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._every + 5)
        if self._scheduler.state != STATE_STOPPED:
            self._scheduler.shutdown(wait=False)
        self._leadership.release()

    def _watch(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.check()
            except Exception:
                log.exception("scheduler leadership check failed; trying again")

    def check(self) -> None:
        """Poll the lead once and resume or pause the scheduler to match it."""
        leads = self._leadership.poll()
        if leads and not self.leading:
            log.warning("this process took over the scheduler (the previous leader stopped)")
            self._scheduler.resume()
            if self._scheduler.get_job("sync") is not None:
                self._scheduler.modify_job("sync", next_run_time=self._clock())
        elif not leads and self.leading:
            log.warning("this process no longer runs the scheduler; another may take over")
            self._scheduler.pause()

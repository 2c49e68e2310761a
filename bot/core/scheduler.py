"""APScheduler wiring: cron triggers in the configured time zone, one instance of each job.

Jobs: sync every ``[connectwise] poll_minutes``; deliver the outbox every 10 seconds; each
contest's standings on its ``post`` cron; winners of ended periods daily at 00:05; the kudos
digest at ``[kudos] digest_at`` (digest mode); nudge digests every 30 minutes, which only
go out in business hours and at most once a day per technician; SLA-risk alerts every
minute (with ``[[alerts]]``), so an alert fires on time when nothing in the PSA changed.
``coalesce`` folds missed runs into one and ``max_instances=1`` never runs a job twice at
once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.platforms import contest_target, kudos_target
from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

DELIVER_EVERY_SECONDS = 10
NUDGE_CHECK_MINUTES = 30
ALERTS_EVERY_SECONDS = 60


def _guarded(
    name: str, job: Callable[..., Any], *, then: Callable[[], Any] | None = None
) -> Callable[..., None]:
    """Run ``job`` (then ``then``, e.g. delivery) and log a failure instead of raising it."""

    def run(*args: Any) -> None:
        try:
            job(*args)
            if then is not None:
                then()
        except Exception:
            log.exception("job %s failed; it runs again on its next trigger", name)

    run.__name__ = f"deskboard_{name}"
    return run


def build_scheduler(
    runtime: Runtime, *, now: datetime, sync_every: timedelta | None = None
) -> BackgroundScheduler:
    """The scheduler of ``deskboard run``, not started. ``sync_every`` replaces
    ``[connectwise] poll_minutes`` (the freshness benchmark polls every 30 s)."""
    config = runtime.config
    tz = config.tz
    poll = (
        sync_every if sync_every is not None else timedelta(minutes=config.connectwise.poll_minutes)
    )
    scheduler = BackgroundScheduler(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
    )
    scheduler.add_job(
        _guarded("sync", runtime.sync),
        IntervalTrigger(seconds=poll.total_seconds(), timezone=tz),
        id="sync",
        next_run_time=now,
    )
    scheduler.add_job(
        _guarded("deliver", runtime.deliver),
        IntervalTrigger(seconds=DELIVER_EVERY_SECONDS, timezone=tz),
        id="deliver",
    )
    for contest in config.contest_list():
        post = config.delivery_of(contest).post
        if post and any(contest_target(p, config, contest) for p in runtime.platforms):
            scheduler.add_job(
                _guarded(f"standings {contest.name}", runtime.post_standings, then=runtime.deliver),
                CronTrigger.from_crontab(post, timezone=tz),
                args=[contest.name],
                id=f"standings:{contest.name}",
            )
    scheduler.add_job(
        _guarded("winners", runtime.post_winners, then=runtime.deliver),
        CronTrigger(hour=0, minute=5, timezone=tz),
        id="winners",
    )
    if config.kudos.mode == "digest" and any(kudos_target(p, config) for p in runtime.platforms):
        at = config.kudos.digest_at
        scheduler.add_job(
            _guarded("kudos digest", runtime.post_kudos_digest, then=runtime.deliver),
            CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
            id="kudos-digest",
        )
    if config.alerts:
        scheduler.add_job(
            _guarded("alerts", runtime.queue_alerts, then=runtime.deliver),
            IntervalTrigger(seconds=ALERTS_EVERY_SECONDS, timezone=tz),
            id="alerts",
        )
    if config.nudges.enabled:
        scheduler.add_job(
            _guarded("nudges", runtime.post_nudges, then=runtime.deliver),
            IntervalTrigger(minutes=NUDGE_CHECK_MINUTES, timezone=tz),
            id="nudges",
        )
    return scheduler

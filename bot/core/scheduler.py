"""APScheduler wiring: cron triggers in the configured time zone, one instance of each job.

Jobs: sync every ``[connectwise] poll_minutes``; deliver the outbox every 10 seconds; each
contest's standings on its ``post`` cron; winners of ended periods daily at 00:05; the kudos
digest at ``[kudos] digest_at`` (digest mode); nudge digests every 30 minutes, which only
go out in business hours and at most once a day per technician; SLA-risk alerts every
minute (with ``[[alerts]]``), so an alert fires on time when nothing in the PSA changed;
the program every 15 seconds: a change made from chat, here or in another process, reschedules
the jobs it touches, and a contest that starts is announced (``follow_program``).
``coalesce`` folds missed runs into one and ``max_instances=1`` never runs a job twice at
once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.platforms import contest_target, kudos_target
from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

DELIVER_EVERY_SECONDS = 10
NUDGE_CHECK_MINUTES = 30
ALERTS_EVERY_SECONDS = 60
PROGRAM_EVERY_SECONDS = 15


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
    config = runtime.current
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
    scheduler.add_job(
        _guarded("winners", runtime.post_winners, then=runtime.deliver),
        CronTrigger(hour=0, minute=5, timezone=tz),
        id="winners",
    )
    scheduler.add_job(
        _guarded("program", lambda: follow_program(scheduler, runtime)),
        IntervalTrigger(seconds=PROGRAM_EVERY_SECONDS, timezone=tz),
        id="program",
    )
    apply_program_jobs(scheduler, runtime)
    return scheduler


def follow_program(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """The ``program`` job: apply a change of the program made by any process (the jobs of
    posts, digests, alerts and nudges are rescheduled), then announce contests that start."""
    if runtime.live is not None:
        runtime.live.refresh()
    apply_program_jobs(scheduler, runtime)  # cheap; also after a refresh made by a listener
    if runtime.post_announcements():
        runtime.deliver()


def program_jobs(runtime: Runtime) -> dict[str, tuple[Callable[..., None], BaseTrigger, list[Any]]]:
    """The jobs the program asks for, by id: each contest's standings on its schedule, the
    kudos digest, the SLA-risk alerts and the nudges."""
    config = runtime.current
    tz = config.tz
    jobs: dict[str, tuple[Callable[..., None], BaseTrigger, list[Any]]] = {}
    for contest in config.contest_list():
        post = config.delivery_of(contest).post
        if post and any(contest_target(p, config, contest) for p in runtime.platforms):
            jobs[f"standings:{contest.name}"] = (
                _guarded(f"standings {contest.name}", runtime.post_standings, then=runtime.deliver),
                CronTrigger.from_crontab(post, timezone=tz),
                [contest.name],
            )
    if config.kudos.mode == "digest" and any(kudos_target(p, config) for p in runtime.platforms):
        at = config.kudos.digest_at
        jobs["kudos-digest"] = (
            _guarded("kudos digest", runtime.post_kudos_digest, then=runtime.deliver),
            CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
            [],
        )
    if config.alerts:
        jobs["alerts"] = (
            _guarded("alerts", runtime.queue_alerts, then=runtime.deliver),
            IntervalTrigger(seconds=ALERTS_EVERY_SECONDS, timezone=tz),
            [],
        )
    if config.nudges.enabled:
        jobs["nudges"] = (
            _guarded("nudges", runtime.post_nudges, then=runtime.deliver),
            IntervalTrigger(minutes=NUDGE_CHECK_MINUTES, timezone=tz),
            [],
        )
    return jobs


_PROGRAM_JOB_PREFIXES = ("standings:", "kudos-digest", "alerts", "nudges")


def apply_program_jobs(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """Make the scheduler's program jobs ``program_jobs``'s: new ones added, changed
    triggers replaced (a new posting time applies without a restart), gone ones removed."""
    wanted = program_jobs(runtime)
    for job in scheduler.get_jobs():
        if job.id.startswith(_PROGRAM_JOB_PREFIXES) and job.id not in wanted:
            scheduler.remove_job(job.id)
    for job_id, (func, trigger, args) in wanted.items():
        existing = scheduler.get_job(job_id)
        if existing is not None and str(existing.trigger) == str(trigger):
            continue
        scheduler.add_job(func, trigger, args=args, id=job_id, replace_existing=True)

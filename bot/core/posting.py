"""Scheduled posts: contest standings (with a chart), winners when a period ends, kudos digests.

Each post goes into the outbox, once per platform, under a key that names the event
(``bot.core.platforms.outbox_key``), so running a job twice (a restart, a retried cron, an
operator's ``deskboard post``) never posts twice:

- standings: ``standings:CONTEST:WINDOW-START:POST-TIME`` (POST-TIME to the minute);
- winners: ``winners:CONTEST:WINDOW-START`` for the period that just ended;
- kudos digest: ``kudos-digest:DATE:DIGEST`` where DIGEST is a short hash of the tickets it
  celebrates: the same digest again is the same event, while a second digest the same day
  (``deskboard post kudos`` after the scheduled one) is a new one, never swallowed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.chat.chart import standings_chart
from bot.chat.message import Message, message_to_json
from bot.chat.views import KudosItem, kudos_digest_message, leaderboard_message, winners_message
from bot.config import DeskboardConfig
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.platforms import contest_target, kudos_target, outbox_key
from bot.core.reports import standings_for_window
from metrics.contests import Contest
from metrics.standings import Standings
from storage import notices, outbox, repo
from storage.db import session_scope

log = logging.getLogger(__name__)

DIGEST_HORIZON = timedelta(days=7)
"""A kudos digest celebrates resolutions of the last week that were not posted yet: after a
week away (the bot stopped, kudos switched on late) old news stays unposted."""


def _slug(text: str) -> str:
    return "-".join(text.casefold().split())


def _members(standings: Standings) -> set[str]:
    return {s.member for s in standings.ranked + standings.not_qualified}


def enqueue_post(
    session: Session,
    *,
    platform: str,
    event: str,
    target: str,
    message: Message,
    now: datetime,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
) -> bool:
    """Queue ``message`` for ``target`` as the post of ``event`` on ``platform``, in the
    caller's transaction; False when that event was queued before (``storage.outbox``)."""
    return outbox.enqueue(
        session,
        key=outbox_key(platform, event),
        platform=platform,
        kind="post",
        target=target,
        message=message_to_json(message),
        now=now,
        attachment=attachment,
        attachment_name=attachment_name,
    )


def _enqueue(
    engine: Engine,
    *,
    platform: str,
    event: str,
    target: str,
    message: Message,
    now: datetime,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
) -> bool:
    """``enqueue_post`` in a transaction of its own."""
    with session_scope(engine) as session:
        return enqueue_post(
            session,
            platform=platform,
            event=event,
            target=target,
            message=message,
            now=now,
            attachment=attachment,
            attachment_name=attachment_name,
        )


def queue_standings(
    engine: Engine,
    *,
    config: DeskboardConfig,
    contest: Contest,
    now: datetime,
    platforms: Sequence[str],
    channel: str | None = None,
) -> int:
    """Queue the contest's current standings on every platform that has a target for it
    (``channel`` overrides the targets); return how many posts were queued."""
    window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
    standings = standings_for_window(engine, config=config, contest=contest, window=window)
    minute = now.astimezone(config.tz).strftime("%Y-%m-%dT%H:%M")
    event = f"standings:{_slug(contest.name)}:{window.start.date()}:{minute}"
    name = f"{_slug(contest.name)}-{window.start.date()}.png"
    queued = 0
    for platform in platforms:
        target = channel or contest_target(platform, config, contest)
        if not target:
            continue
        people = people_directory(engine, platform=platform).people(_members(standings))
        chart = standings_chart(standings, people=people) if standings.ranked else None
        queued += _enqueue(
            engine,
            platform=platform,
            event=event,
            target=target,
            message=leaderboard_message(standings, people=people, caller=None),
            now=now,
            attachment=chart,
            attachment_name=name if chart else None,
        )
    if not queued:
        log.info("standings of %r: nothing queued (already posted, or no channel)", contest.name)
    return queued


FIXED_WINNERS_GRACE = timedelta(days=7)
"""A contest with fixed dates is announced if it ended at most this long ago: the daily job
catches up after a week of downtime, and a contest that ended long before Deskboard was
installed (or before this was built) is not announced out of the blue."""


def queue_winners(
    engine: Engine, *, config: DeskboardConfig, now: datetime, platforms: Sequence[str]
) -> int:
    """Announce the winners of every recurring contest whose previous period has ended, and
    of every contest with fixed dates that ended within ``FIXED_WINNERS_GRACE``; once each
    (the outbox key names the contest and the window's start)."""
    queued = 0
    for contest in config.contest_list():
        targets = {p: contest_target(p, config, contest) for p in platforms}
        if not any(targets.values()):
            continue
        if contest.period is None:
            window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
            if not window.end <= now < window.end + FIXED_WINNERS_GRACE:
                continue  # still running, or over long ago
        else:
            window = contest.window(
                now=now, tz=config.tz, week_start=config.week_start_day, offset=-1
            )
        standings = standings_for_window(engine, config=config, contest=contest, window=window)
        event = f"winners:{_slug(contest.name)}:{window.start.date()}"
        for platform, target in targets.items():
            if not target:
                continue
            people = people_directory(engine, platform=platform).people(_members(standings))
            message = winners_message(standings, people=people)
            queued += _enqueue(
                engine, platform=platform, event=event, target=target, message=message, now=now
            )
    return queued


def queue_kudos_digest(
    engine: Engine,
    *,
    config: DeskboardConfig,
    now: datetime,
    platforms: Sequence[str],
    ticket_link: TicketLink,
) -> int:
    """One post per platform with the kudos not yet posted, at most ``daily_cap`` each."""
    targets = {p: kudos_target(p, config) for p in platforms}
    if not any(targets.values()):
        return 0
    day: date = now.astimezone(config.tz).date()
    with session_scope(engine) as session:
        rows = notices.unsent_kudos(session, resolved_since=now - DIGEST_HORIZON)
        records = {r.id: r for r in repo.get_tickets(session, ids=[k.ticket_id for k in rows])}
    if not rows:
        return 0
    per_member: dict[str, int] = {}
    chosen = []
    for row in sorted(rows, key=lambda r: r.resolved_at):
        per_member[row.member_key] = per_member.get(row.member_key, 0) + 1
        if per_member[row.member_key] <= config.kudos.daily_cap and row.ticket_id in records:
            chosen.append(row)
    celebrated = ",".join(str(r.ticket_id) for r in sorted(rows, key=lambda r: r.ticket_id))
    event = f"kudos-digest:{day.isoformat()}:{hashlib.sha256(celebrated.encode()).hexdigest()[:12]}"
    queued = 0
    for platform, target in targets.items():
        if not target:
            continue
        directory = people_directory(engine, platform=platform)
        items = [
            KudosItem(
                person=directory.person(row.member_key),
                ticket_id=row.ticket_id,
                summary=records[row.ticket_id].summary or "(no summary)",
                company=records[row.ticket_id].company_name
                or records[row.ticket_id].company
                or "no company",
                ticket_url=ticket_link(row.ticket_id),
            )
            for row in chosen
        ]
        message = kudos_digest_message(items, day=day)
        queued += _enqueue(
            engine, platform=platform, event=event, target=target, message=message, now=now
        )
    with session_scope(engine) as session:
        notices.mark_kudos_queued(session, ticket_ids=[r.ticket_id for r in rows], outbox_key=event)
    return queued

"""Scheduled posts: contest standings (with a chart), winners when a period ends, kudos digests.

Each post goes into the outbox under a key that names the event, so running a job twice
(a restart, a retried cron, an operator's ``deskboard post``) never posts twice:

- standings: ``standings:CONTEST:WINDOW-START:POST-TIME`` (POST-TIME to the minute);
- winners: ``winners:CONTEST:WINDOW-START`` for the period that just ended;
- kudos digest: ``kudos-digest:DATE``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import Engine

from bot.chart import standings_chart
from bot.chat import message_to_json
from bot.config import DeskboardConfig
from bot.links import TicketLink
from bot.people import people_directory
from bot.reports import standings_for_window
from bot.views import KudosItem, kudos_digest_message, leaderboard_message, winners_message
from metrics.contests import Contest
from storage import notices, outbox, repo
from storage.db import session_scope

log = logging.getLogger(__name__)


def _slug(text: str) -> str:
    return "-".join(text.casefold().split())


def queue_standings(
    engine: Engine,
    *,
    config: DeskboardConfig,
    contest: Contest,
    now: datetime,
    platform: str,
    channel: str | None = None,
) -> bool:
    """Queue the contest's current standings for its channel; False if already queued."""
    target = channel or contest.channel
    if not target:
        log.warning("contest %r has no channel to post to", contest.name)
        return False
    window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
    standings = standings_for_window(engine, config=config, contest=contest, window=window)
    directory = people_directory(engine, platform=platform)
    people = directory.people({s.member for s in standings.ranked + standings.not_qualified})
    message = leaderboard_message(standings, people=people, caller=None)
    chart = standings_chart(standings, people=people) if standings.ranked else None
    minute = now.astimezone(config.tz).strftime("%Y-%m-%dT%H:%M")
    key = f"standings:{_slug(contest.name)}:{window.start.date()}:{minute}"
    with session_scope(engine) as session:
        return outbox.enqueue(
            session,
            key=key,
            kind="post",
            target=target,
            message=message_to_json(message),
            now=now,
            attachment=chart,
            attachment_name=f"{_slug(contest.name)}-{window.start.date()}.png" if chart else None,
        )


def queue_winners(engine: Engine, *, config: DeskboardConfig, now: datetime, platform: str) -> int:
    """Announce the winners of every recurring contest whose previous period has ended."""
    queued = 0
    for contest in config.contest_list():
        if contest.period is None or not contest.channel:
            continue
        window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day, offset=-1)
        standings = standings_for_window(engine, config=config, contest=contest, window=window)
        directory = people_directory(engine, platform=platform)
        people = directory.people({s.member for s in standings.ranked})
        message = winners_message(standings, people=people)
        key = f"winners:{_slug(contest.name)}:{window.start.date()}"
        with session_scope(engine) as session:
            queued += outbox.enqueue(
                session,
                key=key,
                kind="post",
                target=contest.channel,
                message=message_to_json(message),
                now=now,
            )
    return queued


def queue_kudos_digest(
    engine: Engine,
    *,
    config: DeskboardConfig,
    now: datetime,
    platform: str,
    ticket_link: TicketLink,
) -> bool:
    """One post with the day's kudos not yet posted, at most ``daily_cap`` per technician."""
    channel = config.kudos.channel
    if not channel:
        return False
    day: date = now.astimezone(config.tz).date()
    with session_scope(engine) as session:
        rows = notices.unsent_kudos(session)
        records = {r.id: r for r in repo.get_tickets(session, ids=[k.ticket_id for k in rows])}
    if not rows:
        return False
    directory = people_directory(engine, platform=platform)
    per_member: dict[str, int] = {}
    items: list[KudosItem] = []
    for row in sorted(rows, key=lambda r: r.resolved_at):
        per_member[row.member_key] = per_member.get(row.member_key, 0) + 1
        record = records.get(row.ticket_id)
        if per_member[row.member_key] > config.kudos.daily_cap or record is None:
            continue
        items.append(
            KudosItem(
                person=directory.person(row.member_key),
                ticket_id=row.ticket_id,
                summary=record.summary or "(no summary)",
                company=record.company_name or record.company or "no company",
                ticket_url=ticket_link(row.ticket_id),
            )
        )
    key = f"kudos-digest:{day.isoformat()}"
    with session_scope(engine) as session:
        queued = outbox.enqueue(
            session,
            key=key,
            kind="post",
            target=channel,
            message=message_to_json(kudos_digest_message(items, day=day)),
            now=now,
        )
        notices.mark_kudos_queued(session, ticket_ids=[r.ticket_id for r in rows], outbox_key=key)
    return queued

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
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.chat.chart import standings_chart
from bot.chat.formatting import rule_text
from bot.chat.message import Message, message_to_json
from bot.chat.views import KudosItem, kudos_digest_message, leaderboard_message, winners_message
from bot.chat.views.program import contest_announcement_message
from bot.config import DeskboardConfig
from bot.config_schedule import post_words
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.platforms import contest_target, kudos_target, outbox_key
from bot.core.program import SEED_ACTOR
from bot.core.reports import standings_for_window
from metrics.contests import Contest
from metrics.standings import Standings
from metrics.windows import Window
from storage import notices, outbox, program, repo
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


def _winners_windows(config: DeskboardConfig, contest: Contest, *, now: datetime) -> list[Window]:
    """The windows whose winners are due now: a recurring contest's previous period; a fixed
    contest's dates once they are over; an ended contest's window up to its end, and the
    previous period of a recurring one ended before that period's winners were posted (each
    within ``FIXED_WINNERS_GRACE`` of its end, but a running contest's previous period)."""
    section = config.contest_section(contest.name)
    ended = section.ended if section is not None else None
    tz, week_start = config.tz, config.week_start_day

    def recent(window: Window) -> bool:
        return window.end <= now < window.end + FIXED_WINNERS_GRACE

    if ended is not None:
        window = contest.window(now=ended, tz=tz, week_start=week_start)
        due = []
        if contest.period is not None:
            previous = contest.window(now=ended, tz=tz, week_start=week_start, offset=-1)
            due += [previous] if recent(previous) else []
        if window.start < ended:  # not ended before it began
            cut = Window(window.start, min(window.end, ended.astimezone(window.start.tzinfo)))
            due += [cut] if recent(cut) else []
        return due
    if contest.period is None:
        window = contest.window(now=now, tz=tz, week_start=week_start)
        return [window] if recent(window) else []
    return [contest.window(now=now, tz=tz, week_start=week_start, offset=-1)]


def contest_rules(config: DeskboardConfig, contest: Contest) -> dict[str, object]:
    """The contest's rules as they stand, kept with its winners (``storage.program``)."""
    section = config.contest_section(contest.name)
    settings = (
        section.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        if section is not None
        else {"name": contest.name}
    )
    return {**settings, "rules": rule_text(contest), "label": contest.label}


def queue_winners(
    engine: Engine, *, config: DeskboardConfig, now: datetime, platforms: Sequence[str]
) -> int:
    """Announce the winners of every recurring contest whose previous period has ended, of
    every contest with fixed dates that ended within ``FIXED_WINNERS_GRACE``, and of every
    contest ended early ("End now"); once each (the outbox key names the contest and the
    window's start). The winners are kept with the rules they were decided under."""
    queued = 0
    for contest in config.all_contests():
        targets = {p: contest_target(p, config, contest) for p in platforms}
        for window in _winners_windows(config, contest, now=now):
            queued += _queue_window_winners(
                engine, config=config, contest=contest, window=window, targets=targets, now=now
            )
    return queued


def _queue_window_winners(
    engine: Engine,
    *,
    config: DeskboardConfig,
    contest: Contest,
    window: Window,
    targets: Mapping[str, str | None],
    now: datetime,
) -> int:
    """Keep one window's winners with the contest's rules, and queue their post."""
    queued = 0
    standings = standings_for_window(engine, config=config, contest=contest, window=window)
    with session_scope(engine) as session:
        program.record_result(
            session,
            contest=contest.name,
            window_start=window.start,
            window_end=window.end,
            rules=contest_rules(config, contest),
            winners=[s.member for s in standings.winners],
            now=now,
        )
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


ANNOUNCE_WITHIN = timedelta(days=1)
"""A contest is announced when it starts, or up to a day later (a bot that was down)."""


def queue_announcements(
    engine: Engine, *, config: DeskboardConfig, now: datetime, platforms: Sequence[str]
) -> int:
    """Announce each new contest in its channel once it starts (name, rules, prize, dates):
    at once for a recurring contest, on its first day for one with fixed dates. New means
    created after the database's program began: from chat, by ``deskboard config import``, or
    added to deskboard.toml later; the contests the database started with (its first start,
    or the upgrade that brought the program into the database) are not news."""
    with session_scope(engine) as session:
        items = {
            i.name: i
            for i in program.list_items(session)
            if i.kind == "contest" and i.created_by != SEED_ACTOR
        }
    queued = 0
    for contest in config.contest_list():
        item = items.get(contest.name)
        if item is None:
            continue
        starts = item.created_at
        if contest.start is not None:
            first_day = datetime.combine(contest.start, time(0), tzinfo=config.tz)
            starts = max(starts, first_day)
        if contest.end is not None and now.astimezone(config.tz).date() >= contest.end:
            continue
        if not starts <= now < starts + ANNOUNCE_WITHIN:
            continue
        section = config.contest_section(contest.name)
        event = f"announce:{_slug(contest.name)}:{item.created_at:%Y%m%dT%H%M%S}"
        for platform in platforms:
            target = contest_target(platform, config, contest)
            if not target:
                continue
            message = contest_announcement_message(
                name=contest.name,
                label=contest.label,
                rules=rule_text(contest),
                when=window_words(config, contest, now=now),
                prize=section.prize if section else None,
                posts=post_words(section.post) if section and section.post else None,
            )
            queued += _enqueue(
                engine, platform=platform, event=event, target=target, message=message, now=now
            )
    return queued


def window_words(config: DeskboardConfig, contest: Contest, *, now: datetime) -> str:
    """When a contest runs, in words: "monthly, now December 2026", "1 Dec to 14 Dec 2026"."""
    if contest.period is not None:
        window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day)
        return f"{contest.period.value}, now {window.label()}"
    assert contest.start is not None
    assert contest.end is not None
    last = contest.end - timedelta(days=1)
    return f"{contest.start:%a %d %b %Y} to {last:%a %d %b %Y}"


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

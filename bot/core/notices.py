"""Instant kudos: each fresh kudos posted on its own, as soon as a process that can post sees it.

Kudos are recorded by the judging of each resolution (``bot.core.judging``), whichever path
stored it. In ``instant`` mode a process that can post queues every fresh kudos not posted
yet (``queue_instant_kudos``, after each of its syncs and pushes), up to ``[kudos]
daily_cap`` per technician per local day; beyond the cap a kudos is marked and never posted.
Kudos a command-line sync recorded are queued by the bot's next sync, or by ``deskboard post
kudos`` (the digest of every kudos not posted yet). In ``digest`` mode they wait for the
digest (``bot.core.posting.queue_kudos_digest``). Nudges wait for the technician's daily digest
(``bot.core.nudging.queue_nudge_digests``), which only goes out in business hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from bot.chat.views import kudos_message
from bot.config import DeskboardConfig
from bot.core.judging import FRESH
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.platforms import kudos_target
from bot.core.posting import enqueue_post
from storage import notices, repo
from storage.db import session_scope

INSTANT_PREFIX = "kudos:"
"""Outbox event of a kudos posted on its own: ``kudos:TICKET``."""
OVER_CAP_PREFIX = "over-cap:"
"""What an instant kudos beyond the daily cap is marked with instead: never posted."""


def local_midnight(moment: datetime, config: DeskboardConfig) -> datetime:
    local = moment.astimezone(config.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def queue_instant_kudos(
    engine: Engine,
    *,
    config: DeskboardConfig,
    now: datetime,
    ticket_link: TicketLink,
    platforms: Sequence[str],
) -> int:
    """In ``instant`` mode, queue every fresh kudos not posted yet, each on its own, on every
    platform with a kudos target; return how many kudos were queued."""
    targets = {p: t for p in platforms if (t := kudos_target(p, config))}
    if config.kudos.mode != "instant" or not targets:
        return 0
    with session_scope(engine) as session:
        rows = notices.unsent_kudos(session, resolved_since=now - FRESH)
        records = {r.id: r for r in repo.get_tickets(session, ids=[k.ticket_id for k in rows])}
    if not rows:
        return 0
    directories = {p: people_directory(engine, platform=p) for p in targets}
    today = local_midnight(now, config)
    queued = 0
    for row in rows:
        record = records.get(row.ticket_id)
        with session_scope(engine) as session:
            given = notices.kudos_queued(
                session, member_key=row.member_key, since=today, prefix=INSTANT_PREFIX
            )
            if record is None or given >= config.kudos.daily_cap:
                event = f"{OVER_CAP_PREFIX}{today.date().isoformat()}"
                notices.mark_kudos_queued(session, ticket_ids=[row.ticket_id], outbox_key=event)
                continue
            event = f"{INSTANT_PREFIX}{record.id}"
            for platform, target in targets.items():
                message = kudos_message(
                    person=directories[platform].person(row.member_key),
                    ticket_id=record.id,
                    summary=record.summary or "(no summary)",
                    company=record.company_name or record.company or "no company",
                    ticket_url=ticket_link(record.id),
                )
                enqueue_post(
                    session, platform=platform, event=event, target=target, message=message, now=now
                )
            notices.mark_kudos_queued(session, ticket_ids=[record.id], outbox_key=event)
            queued += 1
    return queued

"""Nudge digests: one DM a day to each technician with the tickets they should fix.

Runs every half hour but sends only in business hours (the configured calendar), at most one
digest per technician per local day, and only for nudges still pending. Before a ticket goes
into a digest its reasons are checked again against the stored ticket (synced every few
minutes): a ticket someone already fixed in ConnectWise is closed as fixed instead of sent.
A digest shows as many tickets as fit a chat message; the rest stay pending for tomorrow.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from bot.chat.message import Option, message_to_json
from bot.chat.views import NudgeItem, nudge_digest_message, nudge_ticket_ids
from bot.config import DeskboardConfig
from bot.core.fixes import CatalogCache, build_nudge_item, company_shortlist
from bot.core.links import TicketLink
from bot.core.nudge_flow import close_nudges
from bot.core.people import people_directory
from bot.core.platforms import can_dm, outbox_key
from metrics.derive import derive
from metrics.triggers import NudgeReason, nudge_reasons
from psa.port import Psa, RecordNotFound
from storage import notices, outbox, people, repo
from storage.db import session_scope

log = logging.getLogger(__name__)


def in_business_hours(config: DeskboardConfig, now: datetime) -> bool:
    local = now.astimezone(config.tz)
    hours = config.business_hours
    calendar = config.calendar()
    return calendar.is_working_day(local.date()) and hours.start <= local.time() < hours.end


def queue_nudge_digests(
    engine: Engine,
    *,
    config: DeskboardConfig,
    client: Psa,
    now: datetime,
    ticket_link: TicketLink,
    platforms: Sequence[str],
    catalogs: CatalogCache | None = None,
) -> int:
    """Queue today's digest for every technician with pending nudges, on every platform
    that can send a DM; return how many DMs were queued."""
    platforms = [p for p in platforms if can_dm(p)]
    if not platforms or not config.nudges.enabled or not in_business_hours(config, now):
        return 0
    today = now.astimezone(config.tz).date()
    catalogs = catalogs or CatalogCache()
    params = config.derive_params()
    enabled = [NudgeReason(r) for r in config.nudges.reasons]
    with session_scope(engine) as session:
        pending = notices.pending_nudges(session)
        opted_out = people.opted_out(session)
        records = {r.id: r for r in repo.get_tickets(session, ids={n.ticket_id for n in pending})}
    by_member: dict[str, dict[int, list[notices.NudgeRow]]] = defaultdict(lambda: defaultdict(list))
    for row in pending:
        by_member[row.member_key][row.ticket_id].append(row)
    directories = {p: people_directory(engine, platform=p) for p in platforms}
    companies: tuple[Option, ...] | None = None  # the short list, read at the first catch-all
    queued = 0
    for member, tickets in sorted(by_member.items()):
        if member in opted_out or member in config.excluded_members:
            continue
        with session_scope(engine) as session:
            last = notices.last_nudge_digest(session, member_key=member)
        if last is not None and last.astimezone(config.tz).date() == today:
            continue
        items: list[NudgeItem] = []
        for ticket_id, rows in sorted(tickets.items()):
            record = records.get(ticket_id)
            still = set()
            if record is not None:
                still = {
                    r.value for r in nudge_reasons(derive(record, params=params), enabled=enabled)
                }
            reasons = [r.reason for r in rows if r.reason in still]
            if not reasons:
                _close(engine, ticket_id, now)
                continue
            try:
                if "catchall" in reasons and companies is None:
                    catchall = config.connectwise.catchall_company
                    companies = company_shortlist(engine, client, catchall_company=catchall)
                item = build_nudge_item(
                    client,
                    ticket_id=ticket_id,
                    reasons=reasons,
                    catalogs=catalogs,
                    ticket_url=ticket_link(ticket_id),
                    companies=companies or (),
                )
            except RecordNotFound:
                log.info("ticket %d is gone from ConnectWise; its nudges are closed", ticket_id)
                _close(engine, ticket_id, now)
                continue
            items.append(item)
        if not items:
            continue
        event = f"nudges:{member}:{today.isoformat()}"
        shown: set[int] = set()
        with session_scope(engine) as session:
            for platform, directory in directories.items():
                person = directory.person(member, viewer=member)
                message = nudge_digest_message(person=person, items=items)
                shown |= set(nudge_ticket_ids(message))
                queued += outbox.enqueue(
                    session,
                    key=outbox_key(platform, event),
                    platform=platform,
                    kind="dm",
                    target=member,
                    message=message_to_json(message),
                    now=now,
                )
            ids = [r.id for tid, rows in tickets.items() if tid in shown for r in rows]
            notices.mark_nudges_sent(session, ids=ids, outbox_key=event, at=now)
    return queued


def _close(engine: Engine, ticket_id: int, now: datetime) -> None:
    close_nudges(engine, ticket_id=ticket_id, status="fixed", by=None, at=now)

"""After each sync: which new resolutions earn kudos and which need a nudge.

- Only *fresh* resolutions count: resolved at most ``FRESH`` before the sync. The first sync
  backfills a month of history; congratulating or nudging all of it at once would flood the
  channel and the technicians.
- Kudos are recorded once per ticket. In ``instant`` mode each goes to the outbox at once, up
  to ``[kudos] daily_cap`` per technician per local day; beyond the cap they are recorded but
  not posted. In ``digest`` mode they wait for the digest (``post_kudos_digest``).
- Nudges are recorded once per (ticket, reason) and wait for the technician's daily digest
  (``bot.posting.queue_nudge_digests``), which only goes out in business hours.
- Excluded members, opted-out technicians and tickets on unselected boards get neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.chat import message_to_json
from bot.config import DeskboardConfig
from bot.links import TicketLink
from bot.people import people_directory
from bot.platforms import kudos_target, outbox_key
from bot.views import kudos_message
from metrics.derive import derive
from metrics.triggers import NudgeReason, earns_kudos, nudge_reasons
from storage import notices, outbox, people, repo
from storage.db import session_scope

FRESH = timedelta(hours=24)


@dataclass
class NoticeReport:
    kudos_recorded: int = 0
    kudos_queued: int = 0
    nudges_recorded: int = 0


def local_midnight(moment: datetime, config: DeskboardConfig) -> datetime:
    local = moment.astimezone(config.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def record_notices(
    engine: Engine,
    *,
    config: DeskboardConfig,
    ticket_ids: list[int],
    now: datetime,
    ticket_link: TicketLink,
    platforms: Sequence[str],
) -> NoticeReport:
    report = NoticeReport()
    if not ticket_ids:
        return report
    params = config.derive_params()
    reasons_on = [NudgeReason(r) for r in config.nudges.reasons] if config.nudges.enabled else []
    with session_scope(engine) as session:
        records = repo.get_tickets(session, ids=ticket_ids)
        opted_out = people.opted_out(session)
    excluded = config.excluded_members | opted_out
    directories = {p: people_directory(engine, platform=p) for p in platforms}
    targets = {p: kudos_target(p, config) for p in platforms}
    today = local_midnight(now, config)
    for record in records:
        ticket = derive(record, params=params)
        resolved_at = ticket.resolved_at
        if ticket.resolver_key is None or resolved_at is None or resolved_at < now - FRESH:
            continue
        member = ticket.resolver_key
        if any(targets.values()) and earns_kudos(ticket, excluded=excluded):
            with session_scope(engine) as session:
                new = notices.record_kudos(
                    session, ticket_id=record.id, member_key=member, resolved_at=resolved_at, at=now
                )
                report.kudos_recorded += new
                given = notices.kudos_given(session, member_key=member, since=today)
                if new and config.kudos.mode == "instant" and given <= config.kudos.daily_cap:
                    event = f"kudos:{record.id}"
                    for platform, target in targets.items():
                        if not target:
                            continue
                        message = kudos_message(
                            person=directories[platform].person(member),
                            ticket_id=record.id,
                            summary=record.summary or "(no summary)",
                            company=record.company_name or record.company or "no company",
                            ticket_url=ticket_link(record.id),
                        )
                        outbox.enqueue(
                            session,
                            key=outbox_key(platform, event),
                            platform=platform,
                            kind="post",
                            target=target,
                            message=message_to_json(message),
                            now=now,
                        )
                    notices.mark_kudos_queued(session, ticket_ids=[record.id], outbox_key=event)
                    report.kudos_queued += 1
        reasons = nudge_reasons(ticket, enabled=reasons_on, excluded=excluded)
        if reasons:
            with session_scope(engine) as session:
                rows = notices.record_nudges(
                    session, items=[(record.id, r.value, member) for r in reasons], at=now
                )
            report.nudges_recorded += len(rows)
    return report

"""What Deskboard does when a customer's answer arrives or changes (README "Customer
satisfaction"), whichever source stored it (``bot.core.ratings.store_ratings``).

A process that can post acts on every answer not acted on yet (``queue_rating_notices``,
after each sync and push and after a rating link is used), through the outbox, so each
message goes out exactly once:

- **A positive answer with a comment** is kudos in the kudos channel: "a customer at Acme
  said …" (without the words when ``[csat] share_comments = false``). Once per rating,
  even if the customer edits the comment; within ``[kudos] daily_cap`` per technician (the
  same cap as resolution kudos). The technician is the credited one (``[csat] credit``; with
  ``worked``, the resolver when they logged time, else the first who did). An opted-out
  technician gets no public kudos: the answer is marked, not posted.
- **A negative answer** alerts ``[csat] alert_channel`` / ``alert_teams_channel`` (the
  managers) at once with the ticket, who worked it, the comment and a link. Never the kudos
  channel, never a Teams workflow's channel: no public shaming. Opt-out does not hide a bad
  rating from managers, who see the technician's name; nobody is mentioned (pinged) in it.
  Without an alert channel nothing is posted (logged once).
- **A negative answer changed to positive** is said in a reply under its alert ("Recovered");
  the rating counts once, as its latest value.
- ``[csat] write_back = true``: every alerted negative answer also gets an internal note on
  the PSA ticket (notifying nobody), written by the next sync (``write_back_notes``), once
  per answer.

Answers given before Deskboard started watching (its first sync) are marked, not acted on,
as resolutions are. An answer for a ticket not stored yet waits for the ticket (a day at
most; then its alert goes out naming nobody, and a positive one is marked).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.chat.message import message_to_json
from bot.chat.views import (
    Person,
    csat_alert_message,
    csat_kudos_message,
    csat_recovered_message,
)
from bot.config import DeskboardConfig
from bot.core.links import TicketLink
from bot.core.notices import INSTANT_PREFIX, local_midnight
from bot.core.people import people_directory
from bot.core.platforms import csat_alert_target, kudos_target, outbox_key
from bot.core.posting import enqueue_post
from metrics.ratings import Credit, RatingSource, RatingValue
from metrics.records import TicketRecord, member_key
from psa.port import Psa, PsaError
from storage import notices, outbox, repo
from storage import ratings as rating_store
from storage.db import session_scope

log = logging.getLogger(__name__)

TICKET_WAIT = timedelta(days=1)
"""How long an answer waits for its ticket to be synced before it is acted on without it."""

SOURCE_TEXT = {
    RatingSource.CONNECTWISE: "a ConnectWise survey",
    RatingSource.LINK: "a rating link",
    RatingSource.IMPORT: "an import",
}


@dataclass
class RatingNoticeReport:
    kudos: int = 0
    alerts: int = 0
    recovered: int = 0
    marked: int = 0  # acted on without a message (neutral, baseline, capped, opted out)


def _event_time(moment: datetime) -> int:
    return int(moment.timestamp())


def _credited(ticket: TicketRecord | None, credit: Credit, workers: list[str]) -> list[str]:
    """Who the answer is credited to, the one to thank first."""
    if ticket is None:
        return []
    resolver, owner = member_key(ticket.resolver), member_key(ticket.owner)
    if credit is Credit.OWNER:
        return [owner] if owner else []
    if credit is Credit.WORKED:
        if resolver in workers:
            return [resolver, *(w for w in workers if w != resolver)]
        return list(workers)
    return [resolver] if resolver else []


def queue_rating_notices(
    engine: Engine,
    *,
    config: DeskboardConfig,
    now: datetime,
    ticket_link: TicketLink,
    platforms: Sequence[str],
) -> RatingNoticeReport:
    """Act on every answer not acted on yet; returns what was queued."""
    report = RatingNoticeReport()
    with session_scope(engine) as session:
        pending = rating_store.ratings_to_notice(session)
        since = repo.get_sync_state(session).judging_since
        tickets = {
            t.id: t for t in repo.get_tickets(session, ids=[r.rating.ticket_id for r in pending])
        }
        workers = rating_store.ticket_workers(session, ticket_ids=list(tickets))
    if not pending:
        return report
    kudos_targets = {p: t for p in platforms if (t := kudos_target(p, config))}
    alert_targets = {p: t for p in platforms if (t := csat_alert_target(p, config))}
    directories = {p: people_directory(engine, platform=p) for p in platforms}
    today = local_midnight(now, config)
    for item in pending:
        rating = item.rating
        signature = rating_store.notice_signature(rating.value.value, rating.comment)
        ticket = tickets.get(rating.ticket_id)
        if ticket is None and now - item.received_at < TICKET_WAIT:
            continue  # the ticket may arrive with the next sync
        with session_scope(engine) as session:
            if since is None or rating.rated_at < since:
                rating_store.mark_noticed(session, rating_id=item.id, noticed=signature)
                report.marked += 1
                continue
            credited = _credited(ticket, config.csat.credit, workers.get(rating.ticket_id, []))
            summary = (ticket.summary if ticket else None) or "(no summary)"
            company = (ticket.company_name or ticket.company or "") if ticket else ""
            url = ticket_link(rating.ticket_id)
            event_at = _event_time(rating.rated_at)
            if rating.value is RatingValue.NEGATIVE:
                event = f"csat-alert:{item.id}:{event_at}"
                if item.alert_event != event:
                    for platform, target in alert_targets.items():
                        # managers see who worked it, opted out or not, and nobody is pinged
                        names = directories[platform].names
                        people = [Person(key=k, display=names.get(k, k)) for k in credited]
                        message = csat_alert_message(
                            technicians=people,
                            ticket_id=rating.ticket_id,
                            summary=summary,
                            company=company,
                            ticket_url=url,
                            comment=rating.comment,
                            source=SOURCE_TEXT[rating.source],
                        )
                        enqueue_post(
                            session,
                            platform=platform,
                            event=event,
                            target=target,
                            message=message,
                            now=now,
                        )
                    if not alert_targets:
                        log.warning(
                            "negative rating of ticket #%d: no [csat] alert_channel to tell",
                            rating.ticket_id,
                        )
                    report.alerts += 1
                rating_store.mark_noticed(
                    session, rating_id=item.id, noticed=signature, alert_event=event
                )
                continue
            if rating.value is RatingValue.POSITIVE and item.alert_event is not None:
                report.recovered += _queue_recovery(
                    session, item, alert_targets, now=now, event_at=event_at
                )
            member = credited[0] if credited else None
            wants_kudos = (
                rating.value is RatingValue.POSITIVE
                and rating.comment is not None
                and item.kudos_member is None
                and member is not None
                and kudos_targets
            )
            if not wants_kudos or member is None:
                rating_store.mark_noticed(session, rating_id=item.id, noticed=signature)
                report.marked += 1
                continue
            given = notices.kudos_queued(
                session, member_key=member, since=today, prefix=INSTANT_PREFIX
            ) + rating_store.csat_kudos_since(session, member_key=member, since=today)
            opted_out = any(member in d.opted_out for d in directories.values())
            if given >= config.kudos.daily_cap or opted_out:
                rating_store.mark_noticed(session, rating_id=item.id, noticed=signature)
                report.marked += 1
                continue
            event = f"csat-kudos:{item.id}"
            for platform, target in kudos_targets.items():
                message = csat_kudos_message(
                    person=directories[platform].person(member),
                    ticket_id=rating.ticket_id,
                    summary=summary,
                    company=company,
                    ticket_url=url,
                    comment=rating.comment if config.csat.share_comments else None,
                )
                enqueue_post(
                    session, platform=platform, event=event, target=target, message=message, now=now
                )
            rating_store.mark_noticed(
                session, rating_id=item.id, noticed=signature, kudos_member=member, kudos_at=now
            )
            report.kudos += 1
    return report


def _queue_recovery(
    session: Session,
    item: rating_store.RatingToNotice,
    alert_targets: dict[str, str],
    *,
    now: datetime,
    event_at: int,
) -> int:
    """A reply under each platform's alert of ``item`` saying it recovered."""
    queued = 0
    for platform in alert_targets:
        parent = outbox_key(platform, item.alert_event or "")
        message = csat_recovered_message(
            ticket_id=item.rating.ticket_id, comment=item.rating.comment
        )
        outbox.enqueue(
            session,
            key=outbox_key(platform, f"csat-recovered:{item.id}:{event_at}"),
            platform=platform,
            kind="reply",
            target=parent,
            message=message_to_json(message),
            now=now,
        )
        queued = 1
    return queued


def write_back_notes(engine: Engine, *, client: Psa, config: DeskboardConfig) -> int:
    """``[csat] write_back``: an internal note on the ticket of every alerted negative answer
    not noted yet; returns how many were written. A PSA failure leaves the rest for the next
    sync."""
    if not config.csat.write_back:
        return 0
    with session_scope(engine) as session:
        owed = rating_store.unnoted_alerts(session)
        stored = {
            r.id: r for r in rating_store.all_ratings(session) if r.id in {o[0] for o in owed}
        }
    written = 0
    for rating_id, ticket_id, event in owed:
        held = stored.get(rating_id)
        if held is None:
            continue
        comment = held.rating.comment or "(no comment)"
        text = (
            f"Deskboard: the customer rated this ticket negatively "
            f"({SOURCE_TEXT[held.rating.source]}, {held.rating.rated_at:%Y-%m-%d %H:%M} UTC).\n"
            f"Comment: {comment}"
        )
        try:
            client.add_internal_note(ticket_id, text)
        except PsaError as exc:
            log.warning(
                "note on ticket #%d not written (next sync tries again): %s", ticket_id, exc
            )
            break
        with session_scope(engine) as session:
            rating_store.mark_noted(session, rating_id=rating_id, event=event)
        written += 1
    return written

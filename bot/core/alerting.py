"""Raising SLA-risk alerts, and updating them in place when the ticket is dealt with
(README "SLA-risk alerts").

``queue_alerts`` runs after every sync and every push (``bot.core.runtime``) and from the
scheduler every minute, so an alert is on time even when nothing in the PSA changed:

- each ticket a rule flags now (``bot.core.alerts.alerts_now``) that has no alert under that
  rule yet, or whose last one is older than the rule's ``repeat``, gets one: an
  ``alert_events`` row and its messages in the outbox, in one transaction. The outbox sends
  each message once; the row stops the next run from raising it again, across restarts.
- ``notify = "owner"`` is a DM to the ticket's owner on each platform that has DMs, which
  an opt-out does not silence (it is a safety message, never a ranking); ``"channel"`` a
  post to the rule's ``channel`` / ``teams_channel``. Teams Workflows' channel never gets one.
- an alert whose ticket has since been answered (for an ``unanswered`` rule) or resolved or
  closed is updated in place on every platform ("answered by Jordan Smith after 12 min",
  the time on the rule's clock) and never raised again. An alert whose ticket left the rule
  for another reason (the desk closed for the night, its category changed) stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.chat.message import Message, message_to_json
from bot.chat.views.alerts import minutes_text, sla_alert_cleared_message, sla_alert_message
from bot.chat.views.common import Person
from bot.config import DeskboardConfig
from bot.config_sections import AlertSection
from bot.core.alerts import alerts_now
from bot.core.people import Directory, people_directory
from bot.core.platforms import TEAMS, TEAMS_WORKFLOW, can_dm, outbox_key
from metrics.alerts import AlertClock, AlertRule, AlertWhen, AtRisk, age_minutes
from metrics.records import TicketRecord, member_key
from storage import alerts as alert_store
from storage import outbox, repo
from storage.db import session_scope

log = logging.getLogger(__name__)

TicketLink = Callable[[int], str | None]


@dataclass
class AlertReport:
    raised: list[tuple[str, int]] = field(default_factory=list)  # (rule, ticket id)
    cleared: list[tuple[str, int, str]] = field(default_factory=list)  # (rule, ticket, outcome)


def queue_alerts(
    engine: Engine,
    *,
    config: DeskboardConfig,
    now: datetime,
    platforms: Sequence[str],
    ticket_link: TicketLink,
    ensure_current: bool = True,
) -> AlertReport:
    """Raise the alerts due now and update those whose ticket was dealt with
    (``ensure_current``: see ``bot.core.alerts.alerts_now``)."""
    report = AlertReport()
    if not config.alerts:
        return report
    sections = {a.name: a for a in config.alerts}
    found = alerts_now(engine, config=config, now=now, ensure_current=ensure_current)
    directories = {p: people_directory(engine, platform=p) for p in platforms}
    with session_scope(engine) as session:
        latest = alert_store.latest_alerts(session)
    at_risk_now: set[tuple[str, int]] = set()
    for item in found:
        section = sections[item.rule.name]
        for risk in item.at_risk:
            key = (item.rule.name, risk.ticket.id)
            at_risk_now.add(key)
            last = latest.get(key)
            if last is not None and not _repeat_due(item.rule, last.fired_at, now):
                continue
            seq = 1 if last is None else last.seq + 1
            try:
                _raise_alert(
                    engine,
                    section=section,
                    risk=risk,
                    seq=seq,
                    last=last,
                    now=now,
                    config=config,
                    platforms=platforms,
                    directories=directories,
                    ticket_link=ticket_link,
                )
            except IntegrityError:  # another process raised this very alert just now
                log.info("alerts: %s for #%d was raised elsewhere", key[0], key[1])
                continue
            report.raised.append(key)
    rules = {r.name: r for r in config.alert_list()}
    waiting = [e for k, e in latest.items() if k not in at_risk_now and k[0] in rules]
    if waiting:
        with session_scope(engine) as session:
            tickets = {
                t.id: t for t in repo.get_tickets(session, ids=[e.ticket_id for e in waiting])
            }
        names = next(iter(directories.values())).names if directories else {}
        for event in waiting:
            ticket = tickets.get(event.ticket_id)
            rule = rules[event.rule]
            outcome = None if ticket is None else _outcome(ticket, rule, names, config)
            if outcome is None:
                continue
            message = sla_alert_cleared_message(
                rule=rule.name,
                ticket_id=event.ticket_id,
                summary=(ticket.summary if ticket else None) or "(no summary)",
                company=(ticket.company_name or ticket.company or "") if ticket else "",
                ticket_url=ticket_link(event.ticket_id),
                outcome=outcome,
            )
            with session_scope(engine) as session:
                for parent in event.message_keys:
                    _enqueue(
                        session,
                        key=f"{parent}:cleared",
                        kind="update",
                        target=parent,
                        message=message,
                        now=now,
                    )
                alert_store.clear_alert(session, event_id=event.id, at=now, outcome=outcome)
            report.cleared.append((rule.name, event.ticket_id, outcome))
    if report.raised or report.cleared:
        log.info("alerts: %d raised, %d cleared", len(report.raised), len(report.cleared))
    return report


def _raise_alert(
    engine: Engine,
    *,
    section: AlertSection,
    risk: AtRisk,
    seq: int,
    last: alert_store.AlertEvent | None,
    now: datetime,
    config: DeskboardConfig,
    platforms: Sequence[str],
    directories: dict[str, Directory],
    ticket_link: TicketLink,
) -> None:
    """The alert's row and messages, in one transaction (the unique (rule, ticket, seq)
    refuses a second writer: ``IntegrityError``, and nothing of it is kept)."""
    with session_scope(engine) as session:
        if last is not None:
            alert_store.clear_alert(session, event_id=last.id, at=now, outcome="repeated")
        keys = _enqueue_alert(
            session,
            section=section,
            risk=risk,
            seq=seq,
            now=now,
            config=config,
            platforms=platforms,
            directories=directories,
            ticket_link=ticket_link,
        )
        alert_store.add_alert(
            session,
            rule=section.name,
            ticket_id=risk.ticket.id,
            seq=seq,
            at=now,
            message_keys=keys,
        )


def _repeat_due(rule: AlertRule, fired_at: datetime, now: datetime) -> bool:
    return rule.repeat_minutes is not None and now - fired_at >= timedelta(
        minutes=rule.repeat_minutes
    )


def _enqueue(
    session: Session, *, key: str, kind: str, target: str, message: Message, now: datetime
) -> None:
    platform = key.split(":", 1)[0]  # outbox keys are PLATFORM:EVENT (bot.core.platforms)
    outbox.enqueue(
        session,
        key=key,
        platform=platform,
        kind=kind,
        target=target,
        message=message_to_json(message),
        now=now,
    )


def _enqueue_alert(
    session: Session,
    *,
    section: AlertSection,
    risk: AtRisk,
    seq: int,
    now: datetime,
    config: DeskboardConfig,
    platforms: Sequence[str],
    directories: dict[str, Directory],
    ticket_link: TicketLink,
) -> list[str]:
    """Queue the alert's messages on every platform; their outbox keys."""
    ticket = risk.ticket
    owner = member_key(ticket.owner)
    due = None
    if risk.due_at is not None:
        due = f"{risk.due_at.astimezone(config.tz):%a %d %b %H:%M}"
    keys: list[str] = []
    for platform in platforms:
        if platform == TEAMS_WORKFLOW:
            continue  # a webhook's channel is everybody's; and it has no buttons to press
        directory = directories[platform]
        person = None
        if owner is not None:  # named even when opted out: a safety message, not a ranking
            person = Person(owner, directory.names.get(owner, owner), directory.mentions.get(owner))
        message = sla_alert_message(
            rule=section.name,
            ticket_id=ticket.id,
            summary=ticket.summary or "(no summary)",
            company=ticket.company_name or ticket.company or "",
            ticket_url=ticket_link(ticket.id),
            priority=ticket.priority,
            age=minutes_text(risk.age_minutes, business=risk.rule.clock is AlertClock.BUSINESS),
            due=due,
            owner=person,
            mention=section.mention_for(platform),
        )
        event = f"sla-alert:{section.name}:{ticket.id}:{seq}"
        target = section.teams_channel if platform == TEAMS else section.channel
        if "channel" in section.notify and target:
            key = outbox_key(platform, f"{event}:channel")
            _enqueue(session, key=key, kind="post", target=target, message=message, now=now)
            keys.append(key)
        if "owner" in section.notify and owner is not None and can_dm(platform):
            key = outbox_key(platform, f"{event}:owner")
            _enqueue(session, key=key, kind="safety_dm", target=owner, message=message, now=now)
            keys.append(key)
    return keys


def _outcome(
    ticket: TicketRecord, rule: AlertRule, names: dict[str, str], config: DeskboardConfig
) -> str | None:
    """How the ticket stopped being at risk, or None when it still is (or it is unknown)."""
    calendar = config.calendar()

    def after(moment: datetime) -> str:
        minutes = age_minutes(ticket, clock=rule.clock, now=moment, calendar=calendar)
        return minutes_text(minutes, business=rule.clock is AlertClock.BUSINESS)

    def who(identifier: str | None) -> str:
        key = member_key(identifier)
        return "someone" if key is None else names.get(key, identifier or key)

    if ticket.resolved_at is not None:
        return f"resolved by {who(ticket.resolver)} after {after(ticket.resolved_at)}"
    if ticket.closed:
        return "closed"
    if rule.when is AlertWhen.UNANSWERED and ticket.responded_at is not None:
        return f"answered by {who(ticket.responder)} after {after(ticket.responded_at)}"
    return None

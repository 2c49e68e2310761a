"""The SLA-risk alerts raised (README "SLA-risk alerts"): one row per alert sent for a ticket
under a rule, so that a rule alerts once per ticket (or once per ``repeat``), and the message
is updated in place when the ticket is answered or resolved.

A row and the outbox messages it sends are written in one transaction
(``bot.core.alerting``): a crash leaves both or neither, and the outbox sends each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlmodel import Session

from storage.tables import ALERT_EVENTS

_A = ALERT_EVENTS.c


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert raised for ``ticket_id`` under the rule ``rule`` (its ``seq``-th for that
    ticket), with the outbox keys of its messages; ``cleared_at`` once the ticket was
    answered or resolved and the messages updated."""

    id: int
    rule: str
    ticket_id: int
    seq: int
    fired_at: datetime
    message_keys: tuple[str, ...]
    cleared_at: datetime | None


def _event(row: object) -> AlertEvent:
    m = row._mapping  # type: ignore[attr-defined]
    return AlertEvent(
        m["id"],
        m["rule"],
        m["ticket_id"],
        m["seq"],
        m["fired_at"],
        tuple(m["message_keys"] or ()),
        m["cleared_at"],
    )


def latest_alerts(session: Session) -> dict[tuple[str, int], AlertEvent]:
    """The latest alert of each (rule, ticket) that is not cleared yet."""
    query = select(ALERT_EVENTS).where(_A.cleared_at.is_(None)).order_by(_A.seq)
    return {(e.rule, e.ticket_id): e for e in map(_event, session.execute(query))}


def add_alert(
    session: Session,
    *,
    rule: str,
    ticket_id: int,
    seq: int,
    at: datetime,
    message_keys: Sequence[str],
) -> None:
    """Record an alert raised now; the unique (rule, ticket, seq) refuses a second one."""
    session.execute(
        insert(ALERT_EVENTS).values(
            rule=rule, ticket_id=ticket_id, seq=seq, fired_at=at, message_keys=list(message_keys)
        )
    )


def clear_alert(session: Session, *, event_id: int, at: datetime, outcome: str) -> None:
    """The ticket was answered or resolved: ``outcome`` says how, and no alert follows."""
    session.execute(
        update(ALERT_EVENTS)
        .where(_A.id == event_id, _A.cleared_at.is_(None))
        .values(cleared_at=at, outcome=outcome)
    )


def alerts_of(session: Session, *, ticket_id: int) -> list[AlertEvent]:
    """Every alert raised for one ticket, oldest first."""
    query = select(ALERT_EVENTS).where(_A.ticket_id == ticket_id).order_by(_A.fired_at, _A.id)
    return [_event(row) for row in session.execute(query)]

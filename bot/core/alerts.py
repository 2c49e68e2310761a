"""SLA-risk alerts: the open tickets each ``[[alerts]]`` rule flags now (``metrics.alerts``),
read from the database for ``deskboard alerts`` (README "SLA-risk alerts")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.derived import ensure_derived
from metrics.alerts import AlertRule, AtRisk, tickets_at_risk
from storage import repo
from storage.db import session_scope


@dataclass(frozen=True, slots=True)
class RuleAlerts:
    """One rule and the tickets it flags now, the oldest first."""

    rule: AlertRule
    at_risk: list[AtRisk]


def alerts_now(
    engine: Engine, *, config: DeskboardConfig, now: datetime, ensure_current: bool = True
) -> list[RuleAlerts]:
    """Every configured rule with the open tickets it flags at ``now``, in config order.

    ``ensure_current``: first derive the stored tickets again if the configuration changed
    (``ensure_derived``, which takes the sync lock); a caller holding that lock passes False
    and has them derived itself (``rederive_if_stale``): the lock is not taken twice."""
    if ensure_current:
        ensure_derived(engine, config=config)  # categories and scope as configured now
    with session_scope(engine) as session:
        tickets = repo.open_tickets(session)
    calendar = config.calendar()
    return [
        RuleAlerts(rule, tickets_at_risk(tickets, rule, now=now, calendar=calendar))
        for rule in config.alert_list()
    ]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def alerts_json(found: list[RuleAlerts], *, now: datetime, timezone: str) -> dict[str, Any]:
    """``deskboard alerts --json``: one object, the rules in config order."""
    return {
        "as_of": now.isoformat(),
        "timezone": timezone,
        "rules": [
            {
                "name": item.rule.name,
                "when": item.rule.when.value,
                "clock": item.rule.clock.value,
                "after_minutes": item.rule.after_minutes,
                "before_due_minutes": item.rule.before_due_minutes,
                "tickets": [
                    {
                        "id": risk.ticket.id,
                        "summary": risk.ticket.summary,
                        "company": risk.ticket.company_name or risk.ticket.company,
                        "priority": risk.ticket.priority,
                        "board": risk.ticket.board,
                        "owner": risk.ticket.owner,
                        "entered_at": _iso(risk.ticket.entered_at),
                        "age_minutes": risk.age_minutes,
                        "due_at": _iso(risk.due_at),
                    }
                    for risk in item.at_risk
                ],
            }
            for item in found
        ],
    }

"""SLA-risk alerts in chat (README "SLA-risk alerts"): the alert, and what it becomes in place
once the ticket is answered or resolved."""

from __future__ import annotations

from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import Person, ticket_line


def minutes_text(minutes: float, *, business: bool = False) -> str:
    """``12 min``, ``3 h 05 min``, ``2 d 4 h``: an age or a wait, for people. Business time
    is never shown in days (a "day" of it is the opening hours): ``47 h 10 min of business
    time``."""
    whole = int(minutes)
    hours, rest = divmod(whole, 60)
    if whole < 60:
        text = f"{whole} min"
    elif hours < 24 or business:
        text = f"{hours} h {rest:02d} min"
    else:
        days, hours = divmod(hours, 24)
        text = f"{days} d {hours} h"
    return f"{text} of business time" if business else text


def sla_alert_message(
    *,
    rule: str,
    ticket_id: int,
    summary: str,
    company: str,
    ticket_url: str | None,
    priority: str | None,
    age: str,
    due: str | None,
    owner: Person | None,
    mention: tuple[str, str] | None,
) -> Message:
    """The alert: the ticket, its priority, age and due time, who owns it, Take it and Open.
    ``mention``: (the platform's id of a group or tag, its name), mentioned first."""
    return render(
        "sla_alert",
        text=f"{rule}: #{ticket_id} {summary[:80]} ({company or 'no company'}), open {age}",
        rule=rule,
        ticket=ticket_line(ticket_id, summary, company, ticket_url),
        priority=priority,
        age=age,
        due=due,
        owner=owner,
        mention=None if mention is None else {"id": mention[0], "name": mention[1]},
    )


def sla_alert_cleared_message(
    *, rule: str, ticket_id: int, summary: str, company: str, ticket_url: str | None, outcome: str
) -> Message:
    """What an alert says once its ticket is no longer at risk: "answered by Jordan after
    12 min"."""
    return render(
        "sla_alert_cleared",
        text=f"{rule}: #{ticket_id} {outcome}",
        rule=rule,
        outcome=outcome,
        ticket=ticket_line(ticket_id, summary, company, ticket_url),
    )

"""Customer satisfaction in chat: a happy customer's words as kudos, a bad rating as an
alert for managers, and its recovery as a reply under that alert.

Customers' comments are untrusted text: the templates escape them like every other value,
and they are cut to ``COMMENT_CHARS`` so that a long answer stays within every platform's
limits.
"""

from __future__ import annotations

from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import Person, ticket_line

COMMENT_CHARS = 500


def _comment(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= COMMENT_CHARS else flat[: COMMENT_CHARS - 1].rstrip() + "…"


def csat_kudos_message(
    *,
    person: Person,
    ticket_id: int,
    summary: str,
    company: str,
    ticket_url: str | None,
    comment: str | None,
) -> Message:
    """Kudos for a positive rating; ``comment`` None: without the customer's words."""
    said = _comment(comment)
    who = f"a customer at {company}" if company else "a customer"
    text = (
        f"Kudos to {person.display}: {who} said “{said}” about #{ticket_id}"
        if said
        else f"Kudos to {person.display}: {who} rated #{ticket_id} positively"
    )
    return render(
        "csat_kudos",
        text=text,
        person=person,
        who=who[:1].upper() + who[1:],
        comment=said,
        ticket=ticket_line(ticket_id, summary, "", ticket_url),
    )


def csat_alert_message(
    *,
    technicians: list[Person],
    ticket_id: int,
    summary: str,
    company: str,
    ticket_url: str | None,
    comment: str | None,
    source: str,
) -> Message:
    """A bad rating, for the managers' channel: the ticket, who worked it, what was said."""
    names = ", ".join(p.display for p in technicians) or "nobody yet"
    return render(
        "csat_alert",
        text=f"Negative rating on #{ticket_id} ({company or 'no company'}), {names}",
        technicians=technicians,
        comment=_comment(comment),
        source=source,
        ticket=ticket_line(ticket_id, summary, company, ticket_url),
    )


def csat_recovered_message(*, ticket_id: int, comment: str | None) -> Message:
    """The reply under a bad-rating alert once the customer changed it to positive."""
    return render(
        "csat_recovered",
        text=f"Recovered: the customer changed their rating of #{ticket_id} to positive",
        ticket_id=ticket_id,
        comment=_comment(comment),
    )

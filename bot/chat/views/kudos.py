"""Kudos: one ticket resolved without escalation, or the day's digest of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.chat.formatting import (
    format_date,
)
from bot.chat.message import Message
from bot.chat.render import render
from bot.chat.views.common import (
    SHORT_SUMMARY_CHARS,
    Person,
    TicketLine,
    plural,
    ticket_line,
)

MAX_KUDOS_ITEMS = 25  # tickets in a kudos digest
MAX_KUDOS_PER_PERSON = 5  # tickets per technician in a kudos digest


@dataclass(frozen=True, slots=True)
class KudosItem:
    person: Person
    ticket_id: int
    summary: str
    company: str
    ticket_url: str | None = None


@dataclass(frozen=True, slots=True)
class KudosGroup:
    person: Person
    total: int
    tickets: tuple[TicketLine, ...]


def kudos_message(
    *, person: Person, ticket_id: int, summary: str, company: str, ticket_url: str | None
) -> Message:
    ticket = ticket_line(ticket_id, summary, company, ticket_url)
    return render(
        "kudos",
        text=f"Kudos to {person.display} for resolving #{ticket_id} without escalation",
        person=person,
        ticket=ticket,
    )


def kudos_digest_message(items: Sequence[KudosItem], *, day: date) -> Message:
    """The day's kudos, one group per technician (most tickets first), cut at
    ``MAX_KUDOS_PER_PERSON`` per technician and ``MAX_KUDOS_ITEMS`` in all."""
    by_person: dict[str, list[KudosItem]] = {}
    for item in items:
        by_person.setdefault(item.person.key, []).append(item)
    order = sorted(
        by_person.values(), key=lambda group: (-len(group), group[0].person.display.casefold())
    )
    groups: list[KudosGroup] = []
    budget = MAX_KUDOS_ITEMS
    for group in order:
        if budget <= 0:
            break
        take = group[: min(MAX_KUDOS_PER_PERSON, budget)]
        budget -= len(take)
        tickets = tuple(
            ticket_line(
                i.ticket_id, i.summary, i.company, i.ticket_url, summary_chars=SHORT_SUMMARY_CHARS
            )
            for i in take
        )
        groups.append(KudosGroup(group[0].person, len(group), tickets))
    hidden = order[len(groups) :]
    when = format_date(day)
    return render(
        "kudos_digest",
        text=f"Kudos for {when}: {plural(len(items), 'ticket')} resolved without escalation",
        title=f"🎉 Kudos — {when}",
        groups=groups,
        more_people=len(hidden),
        more_tickets=sum(len(group) for group in hidden),
    )

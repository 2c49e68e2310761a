"""Which new resolutions earn kudos and which resolved tickets need a nudge.

Kudos go to a technician who both responded to and resolved a ticket (no escalation).
A nudge asks the resolver to fix the ticket's hygiene: categorize it (type, subtype and item
all set), give it an agreement, or move it out of the catch-all company. Tickets on boards
outside scope and members who are excluded never trigger either.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from metrics.derive import DerivedTicket


class NudgeReason(StrEnum):
    UNCATEGORIZED = "uncategorized"
    NO_AGREEMENT = "no_agreement"
    CATCHALL = "catchall"


def earns_kudos(ticket: DerivedTicket, *, excluded: frozenset[str] = frozenset()) -> bool:
    return (
        ticket.in_scope
        and ticket.without_escalation
        and ticket.resolver_key is not None
        and ticket.resolver_key not in excluded
    )


def nudge_reasons(
    ticket: DerivedTicket,
    *,
    enabled: Iterable[NudgeReason],
    excluded: frozenset[str] = frozenset(),
) -> tuple[NudgeReason, ...]:
    """The enabled reasons this resolved ticket should be fixed for, in a stable order."""
    if not ticket.in_scope or ticket.resolver_key is None or ticket.resolver_key in excluded:
        return ()
    found = {
        NudgeReason.UNCATEGORIZED: not ticket.categorized,
        NudgeReason.NO_AGREEMENT: ticket.no_agreement and not ticket.catchall,
        NudgeReason.CATCHALL: ticket.catchall,
    }
    wanted = set(enabled)
    return tuple(reason for reason in NudgeReason if found[reason] and reason in wanted)

"""Ticket notes and the first-contact decision behind ``first_contact_pct``
(docs/metrics.md, "Beyond Crewhu").

A ticket is resolved at *first contact* when the technicians wrote at most one note on it up
to its resolution. Only notes by a ConnectWise member count: a customer's note (written
through the portal or an e-mail, ConnectWise's ``contact``) and a system note (an RMM alert,
no author) are not technician work. ConnectWise records the resolution itself as a note
(``resolutionFlag``), so a ticket answered and closed in one go has exactly that one note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MAX_TECHNICIAN_NOTES = 1
"""Technician notes a first-contact resolution may have, the resolution note included."""


@dataclass(frozen=True, slots=True)
class TicketNote:
    """One note of a ticket: when it was written, who wrote it and who can see it.

    ``member_key`` is the author's identifier in comparison form (``metrics.records.member_key``)
    when a member wrote it; ``by_technician`` is False for customer (contact) and system notes.
    ``by_customer`` is a note with a contact and no member (the customer's portal or e-mail);
    ``customer_visible`` a note flagged as discussion or resolution and not as internal
    analysis. The note's text is never kept.
    """

    ticket_id: int
    created_at: datetime
    member_key: str | None
    by_technician: bool
    id: int | None = None
    by_customer: bool = False
    customer_visible: bool = False

    @property
    def is_response(self) -> bool:
        """A technician response (docs/metrics.md, "Conversation"): a member's note the
        customer can see."""
        return self.by_technician and self.customer_visible


def is_first_contact(notes: Iterable[TicketNote], *, resolved_at: datetime) -> bool:
    """True when at most one technician note was written at or before ``resolved_at``.

    The resolution note, which ConnectWise stamps with the resolution time, is counted like
    any other technician note: it is the "one" of a ticket resolved in a single contact, so a
    ticket whose only technician note is its resolution is a first-contact resolution, and one
    with an earlier technician note as well is not. Customer and system notes never count,
    nor do notes written after the resolution (a follow-up, a note on the closed ticket).
    """
    count = 0
    for note in notes:
        if note.by_technician and note.created_at <= resolved_at:
            count += 1
            if count > MAX_TECHNICIAN_NOTES:
                return False
    return True

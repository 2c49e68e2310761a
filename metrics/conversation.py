"""The conversation inside a ticket, from its notes (docs/metrics.md, "Conversation").

A **customer message** is the ticket's entry (``entered_at``) or a note by a contact and no
member; a **technician response** is a member's note the customer can see
(``TicketNote.is_response``). Internal notes and system notes are neither.

What one ticket contributes, computed here once when its notes are read:

- each *reply*: a technician response answering the earliest customer message not yet
  answered, with the time between them on each time basis (``avg_reply_minutes`` averages
  them over the responses a member wrote in the window). A response with nothing
  unanswered before it (a second response in a row) is not a reply. Only notes at or before
  ``resolved_at`` take part: after the resolution the conversation is over, and a note then
  is a follow-up, not a reply. A customer message and a response stamped the same instant
  are read message first: the response answered it, in no time.
- ``responses``: customer messages after the entry (a note stamped at the entry instant is
  the entry itself: ConnectWise keeps the initial description as a note) plus technician
  responses, up to ``resolved_at``: the back-and-forth of ``responses_per_ticket``;
- ``responses_to_close``: technician responses up to ``resolved_at``;
- ``followed_up``: for a closed ticket, whether a technician response is dated after
  ``resolved_at`` and at or before the close (``follow_up_pct``). When the close time is not
  known, every response after the resolution counts.

Per-ticket values are None for a ticket that is not resolved: they describe a resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from metrics.calendar import BusinessCalendar
from metrics.derive import business_minutes, elapsed_minutes
from metrics.notes import TicketNote
from metrics.waiting import Interval


@dataclass(frozen=True, slots=True)
class Reply:
    """A technician response that answered a customer message."""

    note: TicketNote  # the response
    since: datetime  # the earliest customer message it answered
    minutes_business: float
    minutes_calendar: float


@dataclass(frozen=True, slots=True)
class Conversation:
    """What one ticket's notes contribute to the conversation metrics."""

    replies: tuple[Reply, ...]
    responses: int | None  # messages after the entry + responses, to the resolution
    responses_to_close: int | None  # technician responses, to the resolution
    followed_up: bool | None  # closed and resolved: a response after resolving, by the close

    @property
    def closed_with_notes(self) -> bool:
        """The ticket counts in ``follow_up_pct``'s denominator."""
        return self.followed_up is not None


def conversation(
    notes: Iterable[TicketNote],
    *,
    entered_at: datetime | None,
    resolved_at: datetime | None,
    closed: bool,
    closed_at: datetime | None,
    calendar: BusinessCalendar,
    waiting: Sequence[Interval] = (),
) -> Conversation:
    """The conversation of one ticket from its notes (in any order)."""
    ordered = sorted(notes, key=lambda n: (n.created_at, not n.by_customer, n.id or 0))
    in_talk = [n for n in ordered if resolved_at is None or n.created_at <= resolved_at]
    replies: list[Reply] = []
    waiting_since: datetime | None = None  # the earliest unanswered customer message
    entry_pending = entered_at is not None
    for note in in_talk:
        if entry_pending and entered_at is not None and entered_at <= note.created_at:
            waiting_since, entry_pending = waiting_since or entered_at, False
        if note.by_customer:
            waiting_since = waiting_since or note.created_at
        elif note.is_response and waiting_since is not None:
            replies.append(_reply(note, waiting_since, calendar, waiting))
            waiting_since = None
    if resolved_at is None:
        return Conversation(tuple(replies), None, None, None)
    responses = sum(1 for n in in_talk if n.is_response)
    messages = sum(
        1 for n in in_talk if n.by_customer and (entered_at is None or n.created_at > entered_at)
    )
    followed_up: bool | None = None
    if closed:
        followed_up = any(
            n.is_response
            and n.created_at > resolved_at
            and (closed_at is None or n.created_at <= closed_at)
            for n in ordered
        )
    return Conversation(tuple(replies), messages + responses, responses, followed_up)


def _reply(
    note: TicketNote, since: datetime, calendar: BusinessCalendar, waiting: Sequence[Interval]
) -> Reply:
    business = business_minutes(calendar, since, note.created_at, waiting) or 0.0
    calendar_minutes = elapsed_minutes(since, note.created_at) or 0.0
    return Reply(note, since, business, calendar_minutes)

"""Per-ticket values, computed once when a ticket is stored
(docs/metrics.md, "The ticket record" to "The metrics").

Standings are then sums, counts and means of these columns, which SQL does fast. Anything
here that depends on configuration (calendar, catch-all company, boards, categories) is
covered by ``DeriveParams.fingerprint``: when it changes, stored tickets are derived again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from metrics.calendar import BusinessCalendar
from metrics.categories import Category, category_mask
from metrics.records import TicketRecord, member_key, on_boards
from metrics.waiting import Interval


@dataclass(frozen=True, slots=True)
class DeriveParams:
    calendar: BusinessCalendar
    catchall_company: str | None = "Catchall"
    boards: tuple[str, ...] = ()  # names (case-insensitive) or ids as text; empty = every board
    categories: tuple[Category, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        text = repr(
            (
                self.calendar.fingerprint,
                (self.catchall_company or "").casefold(),
                sorted(b.casefold() for b in self.boards),
                self.categories,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def board_in_scope(self, ticket: TicketRecord) -> bool:
        return on_boards(ticket, self.boards)


@dataclass(frozen=True, slots=True)
class DerivedTicket:
    id: int
    in_scope: bool
    is_open: bool  # neither resolved nor closed: still to do (the backlog)
    resolver_key: str | None
    responder_key: str | None
    owner_key: str | None
    resolved_at: datetime | None
    responded_at: datetime | None
    categorized: bool
    has_type: bool
    has_subtype: bool
    has_item: bool
    no_agreement: bool
    catchall: bool
    judgeable: bool
    escalated: bool
    without_escalation: bool
    actual_hours: float
    response_min_business: float | None
    response_min_sla: float | None
    response_min_calendar: float | None
    resolution_min_business: float | None
    resolution_min_sla: float | None
    resolution_min_calendar: float | None
    category_mask: int
    # From the notes (the note sync), not from the ticket: see storage.ticket_notes.
    first_contact: bool | None = None
    responses: int | None = None
    responses_to_close: int | None = None
    followed_up: bool | None = None
    closed_with_notes: bool = False


def elapsed_minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def business_minutes(
    calendar: BusinessCalendar,
    start: datetime | None,
    end: datetime | None,
    waiting: Sequence[Interval],
) -> float | None:
    """Working minutes from ``start`` to ``end`` on the calendar, less the working time spent
    in the ``waiting`` intervals (docs/metrics.md, "Time bases"); None if either is None."""
    if start is None or end is None:
        return None
    total = calendar.working_minutes(start, end)
    for wait_start, wait_end in waiting:
        lo = max(wait_start, start)
        hi = end if wait_end is None else min(wait_end, end)
        if hi > lo:
            total -= calendar.working_minutes(lo, hi)
    return max(0.0, total)


def _sla_resolution(ticket: TicketRecord) -> float | None:
    respond, resplan, resolve = (
        ticket.sla_respond_min,
        ticket.sla_resplan_min,
        ticket.sla_resolve_min,
    )
    if respond is None and resplan is None and resolve is None:
        return None
    return float((respond or 0) + (resplan or 0) + (resolve or 0))


# Identifiers repeat across tickets (a few hundred members and companies): remember their keys.
_key = lru_cache(maxsize=4096)(member_key)


DERIVATION_VERSION = 2
"""Bumped whenever a derived value's rule changes (2: a resolved ticket is not open), so that
stored values are derived again (``bot.core.derived``)."""


def derived_values(
    ticket: TicketRecord, *, params: DeriveParams, waiting: Sequence[Interval] = ()
) -> tuple[Any, ...]:
    """``derive``'s values as a plain tuple, in the order of ``DERIVED_VALUE_FIELDS``.

    Storage derives every ticket it writes, and building the frozen dataclass cost a third
    of that, so it takes this tuple; ``derive`` is built from it, so the two cannot differ.
    """
    resolver, responder = _key(ticket.resolver), _key(ticket.responder)
    resolved_at = ticket.resolved_at if resolver is not None else None
    responded_at = ticket.responded_at
    judgeable = resolver is not None and responder is not None
    catchall_key = _key(params.catchall_company)
    company_key = _key(ticket.company)
    catchall = company_key is None or (catchall_key is not None and company_key == catchall_key)
    entered_at = ticket.entered_at
    cal = params.calendar
    return (
        ticket.id,
        params.board_in_scope(ticket),
        not ticket.closed and ticket.resolved_at is None,  # resolved, waiting to close: not open
        resolver,
        responder,
        _key(ticket.owner),
        resolved_at,
        responded_at if responder is not None else None,
        bool(ticket.type and ticket.subtype and ticket.item),
        bool(ticket.type),
        bool(ticket.subtype),
        bool(ticket.item),
        ticket.agreement is None and ticket.agreement_id is None,
        catchall,
        judgeable,
        judgeable and responder != resolver,
        judgeable and responder == resolver,
        ticket.actual_hours,
        business_minutes(cal, entered_at, responded_at, waiting),
        ticket.sla_respond_min,
        elapsed_minutes(entered_at, responded_at),
        business_minutes(cal, entered_at, resolved_at, waiting),
        _sla_resolution(ticket),
        elapsed_minutes(entered_at, resolved_at),
        category_mask(ticket, params.categories) if params.categories else 0,
    )


NOTE_VALUE_FIELDS: tuple[str, ...] = (
    "first_contact",
    "responses",
    "responses_to_close",
    "followed_up",
    "closed_with_notes",
)
"""The ``DerivedTicket`` fields the note sync decides from the ticket's notes."""

DERIVED_VALUE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(DerivedTicket) if f.name not in NOTE_VALUE_FIELDS
)
"""The ``DerivedTicket`` fields ``derived_values`` returns, in its order: all but those of
``NOTE_VALUE_FIELDS``."""


def derive(
    ticket: TicketRecord, *, params: DeriveParams, waiting: Sequence[Interval] = ()
) -> DerivedTicket:
    """Everything standings need from one ticket; ``waiting`` are its known waiting periods."""
    return DerivedTicket(*derived_values(ticket, params=params, waiting=waiting))

"""Per-ticket values, computed once when a ticket is stored (METRICS.md §1-§4).

Standings are then sums, counts and means of these columns, which SQL does fast. Anything
here that depends on configuration (calendar, catch-all company, boards, categories) is
covered by ``DeriveParams.fingerprint``: when it changes, stored tickets are derived again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from metrics.calendar import BusinessCalendar
from metrics.categories import Category, category_mask
from metrics.records import TicketRecord, member_key
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
        if not self.boards:
            return True
        wanted = {b.strip().casefold() for b in self.boards}
        name = (ticket.board or "").casefold()
        return name in wanted or (ticket.board_id is not None and str(ticket.board_id) in wanted)


@dataclass(frozen=True, slots=True)
class DerivedTicket:
    id: int
    in_scope: bool
    is_open: bool
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
    first_contact: bool | None = None


def _elapsed_minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def _business_minutes(
    calendar: BusinessCalendar,
    start: datetime | None,
    end: datetime | None,
    waiting: Sequence[Interval],
) -> float | None:
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
    parts = (ticket.sla_respond_min, ticket.sla_resplan_min, ticket.sla_resolve_min)
    if all(p is None for p in parts):
        return None
    return float(sum(p or 0 for p in parts))


def derive(
    ticket: TicketRecord, *, params: DeriveParams, waiting: Sequence[Interval] = ()
) -> DerivedTicket:
    """Everything standings need from one ticket; ``waiting`` are its known waiting periods."""
    resolver, responder = ticket.resolver_key, ticket.responder_key
    resolved_at = ticket.resolved_at if resolver is not None else None
    judgeable = resolver is not None and responder is not None
    catchall_key = member_key(params.catchall_company)
    company_key = member_key(ticket.company)
    catchall = company_key is None or (catchall_key is not None and company_key == catchall_key)
    cal = params.calendar
    return DerivedTicket(
        id=ticket.id,
        in_scope=params.board_in_scope(ticket),
        is_open=not ticket.closed,
        resolver_key=resolver,
        responder_key=responder,
        owner_key=ticket.owner_key,
        resolved_at=resolved_at,
        responded_at=ticket.responded_at if responder is not None else None,
        categorized=bool(ticket.type and ticket.subtype and ticket.item),
        has_type=bool(ticket.type),
        has_subtype=bool(ticket.subtype),
        has_item=bool(ticket.item),
        no_agreement=ticket.agreement is None and ticket.agreement_id is None,
        catchall=catchall,
        judgeable=judgeable,
        escalated=judgeable and responder != resolver,
        without_escalation=judgeable and responder == resolver,
        actual_hours=ticket.actual_hours,
        response_min_business=_business_minutes(
            cal, ticket.entered_at, ticket.responded_at, waiting
        ),
        response_min_sla=ticket.sla_respond_min,
        response_min_calendar=_elapsed_minutes(ticket.entered_at, ticket.responded_at),
        resolution_min_business=_business_minutes(cal, ticket.entered_at, resolved_at, waiting),
        resolution_min_sla=_sla_resolution(ticket),
        resolution_min_calendar=_elapsed_minutes(ticket.entered_at, resolved_at),
        category_mask=category_mask(ticket, params.categories),
    )

"""The normalized ticket record (docs/metrics.md, "The ticket record") and the small value types
around it.

ConnectWise omits null keys, so every field except ``id`` may be ``None``. Member
identifiers keep their original spelling for display; ``*_key`` properties give the
case-folded form every comparison uses (``JSmith`` and ``jsmith`` are one technician).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def member_key(identifier: str | None) -> str | None:
    """The comparison key of a member identifier: stripped and case-folded, or None."""
    if identifier is None:
        return None
    key = identifier.strip().casefold()
    return key or None


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    board: str | None = None
    board_id: int | None = None
    status: str | None = None
    status_id: int | None = None
    closed: bool = False
    company: str | None = None
    company_id: int | None = None
    company_name: str | None = None
    agreement: str | None = None
    agreement_id: int | None = None
    type: str | None = None
    subtype: str | None = None
    item: str | None = None
    priority: str | None = None
    source: str | None = None
    owner: str | None = None
    summary: str | None = None
    entered_at: datetime | None = None
    updated_at: datetime | None = None
    responded_at: datetime | None = None
    responder: str | None = None
    resolved_at: datetime | None = None
    resolver: str | None = None
    closed_at: datetime | None = None  # ``closedDate`` of a closed ticket
    sla_stage: str | None = None  # the SLA stage ``slaStatus`` gives a due time for
    sla_due_at: datetime | None = None  # ... and that time (``metrics.alerts.SlaDue``)
    sla_respond_min: float | None = None
    sla_resplan_min: float | None = None
    sla_resolve_min: float | None = None
    sla_waiting_min: float | None = None
    actual_hours: float = 0.0

    @property
    def responder_key(self) -> str | None:
        return member_key(self.responder)

    @property
    def resolver_key(self) -> str | None:
        return member_key(self.resolver)

    @property
    def owner_key(self) -> str | None:
        return member_key(self.owner)


def on_boards(ticket: TicketRecord, boards: tuple[str, ...]) -> bool:
    """Whether the ticket is on one of ``boards`` (names, case-insensitive, or ids as text);
    every board when ``boards`` is empty."""
    if not boards:
        return True
    wanted = {b.strip().casefold() for b in boards}
    name = (ticket.board or "").casefold()
    return name in wanted or (ticket.board_id is not None and str(ticket.board_id) in wanted)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One observed status change; ``from_status`` is None on first sight.

    See docs/metrics.md, "Status history and reopens".
    """

    ticket_id: int
    at: datetime
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True, slots=True)
class BoardStatus:
    board_id: int
    id: int
    name: str
    closed: bool = False
    escalation_status: str | None = None


@dataclass(frozen=True, slots=True)
class Board:
    id: int
    name: str
    inactive: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    identifier: str
    name: str | None = None
    email: str | None = None
    inactive: bool = False

    @property
    def key(self) -> str:
        return member_key(self.identifier) or ""

"""What Deskboard needs from a PSA, whichever it is: the port every PSA adapter implements.

The core (``bot.core``) talks to a PSA only through ``Psa`` and the types and errors here;
ConnectWise (``psa.connectwise``) is one adapter, and the next PSA (Autotask, HaloPSA) is a
sibling folder implementing the same protocol. Arguments are typed (boards, a time, ids,
fields), never a PSA's query language. ``docs/architecture.md`` shows where a new PSA goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from metrics.notes import TicketNote
from metrics.ratings import Rating
from metrics.records import Board, BoardStatus, Member, TicketRecord

__all__ = [
    "Association",
    "CompanyQuery",
    "NamedRef",
    "NotesFileReader",
    "Psa",
    "PsaError",
    "Push",
    "PushRejected",
    "PushVerifier",
    "RatingPage",
    "RecordNotFound",
    "SkippedTicket",
    "TicketFields",
    "TicketFileReader",
    "TicketPage",
    "TicketState",
    "invalid_combination",
]


class PsaError(Exception):
    """A PSA call failed; the message says what failed and what to change."""


class RecordNotFound(PsaError):
    """The record asked for (a ticket, a company) does not exist, or no longer does."""


@dataclass(frozen=True, slots=True)
class NamedRef:
    """A small reference record: board type/subtype/item, company, agreement."""

    id: int
    name: str
    identifier: str | None = None
    inactive: bool = False


@dataclass(frozen=True, slots=True)
class Association:
    """One valid type/subtype/item combination of a board."""

    type_id: int
    subtype_id: int | None = None
    item_id: int | None = None


@dataclass(frozen=True, slots=True)
class SkippedTicket:
    """A ticket the adapter could not read: left out of the store and logged."""

    ticket_id: object
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class TicketPage:
    """One page of changed tickets: those read, those skipped, and how many the PSA sent."""

    records: list[TicketRecord]
    skipped: list[SkippedTicket]
    raw_count: int


@dataclass(frozen=True, slots=True)
class RatingPage:
    """One page of changed survey results, as ratings: those read, those skipped (the
    result's id in ``ticket_id``'s place, with the field and reason), and the newest
    change time the page held (the watermark to continue from; None on an empty page)."""

    ratings: list[Rating]
    skipped: list[SkippedTicket]
    newest_update: datetime | None


@dataclass(frozen=True, slots=True)
class TicketState:
    """The fields of a ticket a nudge can fix, as the PSA has them now."""

    ticket_id: int
    board_id: int | None
    summary: str
    company_id: int | None
    company_name: str
    agreement_id: int | None
    type_id: int | None
    subtype_id: int | None
    item_id: int | None


@dataclass(frozen=True, slots=True)
class TicketFields:
    """The fields to change on a ticket; None leaves a field as it is."""

    type_id: int | None = None
    subtype_id: int | None = None
    item_id: int | None = None
    company_id: int | None = None
    agreement_id: int | None = None
    owner_id: int | None = None  # the member who owns the ticket (an alert's "Take it")

    @property
    def changes_category(self) -> bool:
        return (self.type_id, self.subtype_id, self.item_id) != (None, None, None)

    @property
    def empty(self) -> bool:
        return self == TicketFields()


@dataclass(frozen=True, slots=True)
class CompanyQuery:
    """Which companies to read: by ids, by the start of the name, or by a part of it.

    Criteria given together must all hold; none given: every company.
    """

    ids: tuple[int, ...] | None = None
    name_starts: str | None = None
    name_contains: str | None = None


class Psa(Protocol):
    """The PSA operations Deskboard uses. Errors are ``PsaError`` (``RecordNotFound`` for a
    missing record); a ticket that cannot be read is skipped in a page, never raised."""

    # ---- reference data
    def boards(self) -> list[Board]: ...
    def board_statuses(self, board_id: int) -> list[BoardStatus]: ...
    def members(self) -> list[Member]: ...
    def board_types(self, board_id: int) -> list[NamedRef]: ...
    def board_subtypes(self, board_id: int) -> list[NamedRef]: ...
    def board_items(self, board_id: int) -> list[NamedRef]: ...
    def associations(self, board_id: int) -> list[Association]: ...
    def find_companies(self, query: CompanyQuery) -> list[NamedRef]: ...
    def agreements(self, company_id: int) -> list[NamedRef]: ...

    # ---- tickets
    def count_changed_tickets(
        self, *, updated_after: datetime | None, board_ids: Sequence[int]
    ) -> int: ...
    def iter_ticket_pages(
        self, *, updated_after: datetime | None = None, board_ids: Sequence[int] = ()
    ) -> Iterator[TicketPage]: ...
    def get_ticket(self, ticket_id: int) -> TicketRecord: ...
    def ticket_state(self, ticket_id: int) -> TicketState: ...
    def notes(self, ticket_id: int) -> list[TicketNote]: ...

    # ---- customer satisfaction
    def iter_rating_pages(
        self,
        *,
        updated_after: datetime | None,
        positive_at: float,
        negative_at: float,
    ) -> Iterator[RatingPage]:
        """The PSA's own survey results changed after ``updated_after`` (all: None), oldest
        change first, each mapped to a rating against the thresholds (docs/metrics.md,
        "Customer satisfaction"). A PSA without surveys yields nothing."""
        ...

    def ticket_workers(self, ticket_id: int) -> list[str]:
        """The members (``metrics.records.member_key`` form) who logged time on the ticket."""
        ...

    # ---- writes
    def update_ticket(
        self,
        ticket_id: int,
        fields: TicketFields,
        *,
        current: TicketState | None = None,
        checked_against: Sequence[Association] | None = None,
    ) -> TicketRecord:
        """Write ``fields`` (None: untouched). A new type/subtype/item is checked against the
        board's associations first, unless the caller already checked it against
        ``checked_against`` (the board's associations it holds): one check per change.
        ``current`` is the ticket as the caller just read it, so it is not read again."""
        ...

    def add_internal_note(self, ticket_id: int, text: str) -> object:
        """Add an internal note nobody is notified of; returns the PSA's own record."""
        ...


# ---- callbacks (push): the PSA tells us a record changed


@dataclass(frozen=True, slots=True)
class Push:
    """A verified callback: which record changed, how, and when the PSA says it did."""

    record_id: int
    action: str  # added | updated | deleted
    kind: str  # "ticket", or another record type (acknowledged and ignored)
    changed_at: datetime | None  # the PSA's time of the change; None: not known

    @property
    def syncs_ticket(self) -> bool:
        """Whether the push asks for a ticket to be read again (added or updated)."""
        return self.kind == "ticket" and self.action != "deleted"


class PushRejected(PsaError):
    """A callback refused: ``status`` is the HTTP answer (401 unsigned or badly signed,
    400 malformed, 503 try again), ``reason`` a text safe to send back (never a secret,
    never a value from the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PushVerifier(Protocol):
    """Checks one callback request of a PSA: its signature and its shape."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> Push:
        """The push ``body`` announces, once verified; raises ``PushRejected``.

        ``headers``: the request's, names in lower case (or looked up without case)."""
        ...


TicketFileReader = Callable[[list[object]], tuple[list[TicketRecord], list[SkippedTicket]]]
"""Reads the tickets of an exported file (a JSON array, as the PSA's API returns tickets):
those read, and those skipped with the reason."""


class NotesFileReader(Protocol):
    """Reads one ticket's notes of an exported file (the array the PSA's API returns for the
    ticket with that id); unreadable notes are logged and left out."""

    def __call__(self, raws: Iterable[object], *, ticket_id: int) -> list[TicketNote]: ...


_MAX_LISTED = 10


def _listed(values: Sequence[int | None]) -> str:
    shown = sorted({value for value in values if value is not None})
    if not shown:
        return "none"
    text = ", ".join(str(value) for value in shown[:_MAX_LISTED])
    if len(shown) > _MAX_LISTED:
        text += f" … ({len(shown) - _MAX_LISTED} more)"
    return text


def invalid_combination(
    associations: Sequence[Association],
    *,
    type_id: int | None,
    subtype_id: int | None,
    item_id: int | None,
) -> str | None:
    """Why type/subtype/item is not allowed on the board, or None when it is.

    Allowed: an association row exactly, or one with the lower levels left empty (a type
    alone, a type with its subtype and no item), as a PSA's ticket screen allows.
    """
    combo = f"type {type_id} / subtype {subtype_id} / item {item_id}"
    if type_id is None:
        return f"{combo}: a subtype or item needs a type"
    rows = [row for row in associations if row.type_id == type_id]
    if not rows:
        types = _listed([row.type_id for row in associations])
        return f"{combo}: type {type_id} is not on this board (types: {types})"
    if subtype_id is not None:
        with_subtype = [row for row in rows if row.subtype_id == subtype_id]
        if not with_subtype:
            subtypes = _listed([row.subtype_id for row in rows])
            return f"{combo}: subtypes allowed with type {type_id}: {subtypes}"
        rows = with_subtype
    elif item_id is not None:
        rows = [row for row in rows if row.subtype_id is None]
    if item_id is not None and not any(row.item_id == item_id for row in rows):
        items = _listed([row.item_id for row in rows])
        return f"{combo}: items allowed with type {type_id} / subtype {subtype_id}: {items}"
    return None

"""ConnectWise ticket JSON → ``metrics.records.TicketRecord``
(docs/metrics.md, "The ticket record"), and notes.

ConnectWise omits null keys, so every lookup tolerates absence. A ticket that cannot be read
(not an object, no integer ``id``, a timestamp that does not parse, a number that is not one)
raises ``UnreadableTicket`` naming the ticket and the field; ``map_tickets`` logs it as a
warning and goes on with the rest of the page. Notes are read the same way: an unreadable
note (``UnreadableNote``) is logged and left out by ``map_notes``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from metrics.alerts import SlaDue
from metrics.notes import TicketNote
from metrics.records import Board, BoardStatus, Member, TicketRecord, member_key
from psa.port import SkippedTicket

log = logging.getLogger(__name__)


class UnreadableTicket(ValueError):
    def __init__(self, ticket_id: object, field: str, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: field {field!r}: {reason}")
        self.ticket_id = ticket_id
        self.field = field
        self.reason = reason


EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Timestamps a help desk can hold: a ticket dated outside them (``9999-12-31``, a mistyped
year) is unreadable, so that one bad date cannot send the business-hours calendar through
eight thousand years, or past the last year Python can represent."""


def parse_timestamp(value: object) -> datetime:
    """ISO-8601 to an aware UTC datetime; a value without an offset is UTC. A time before
    ``EARLIEST`` or from ``LATEST`` on is refused (``ValueError``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    try:
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
        raise ValueError(f"timestamp out of range: {value!r}") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(
            f"timestamp out of range: {value!r} (not from {EARLIEST.year} to {LATEST.year - 1})"
        )
    return moment


def _ref(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    """Text without surrounding blanks or NUL characters (PostgreSQL refuses NUL in text)."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


class _Reader:
    def __init__(self, raw: Mapping[str, Any], ticket_id: int) -> None:
        self.raw = raw
        self.ticket_id = ticket_id
        self.info = _ref(raw, "_info")

    def name(self, key: str, attr: str = "name") -> str | None:
        return _text(_ref(self.raw, key).get(attr))

    def ref_id(self, key: str) -> int | None:
        value = _ref(self.raw, key).get("id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def time(self, *candidates: tuple[Mapping[str, Any], str]) -> datetime | None:
        for source, key in candidates:
            value = source.get(key)
            if value is None or value == "":
                continue
            try:
                return parse_timestamp(value)
            except ValueError as exc:
                raise UnreadableTicket(self.ticket_id, key, str(exc)) from None
        return None

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UnreadableTicket(self.ticket_id, key, f"not a number: {value!r}")
        if not math.isfinite(value):
            raise UnreadableTicket(self.ticket_id, key, f"not a finite number: {value!r}")
        return float(value)


def map_ticket(raw: object) -> TicketRecord:
    """Map one ConnectWise ticket object; raise ``UnreadableTicket`` when it cannot be read."""
    if not isinstance(raw, Mapping):
        raise UnreadableTicket("?", "(ticket)", f"not an object but {type(raw).__name__}")
    ticket_id = raw.get("id")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise UnreadableTicket(ticket_id, "id", "missing or not an integer")
    r = _Reader(raw, ticket_id)
    closed = raw.get("closedFlag") is True
    top = raw
    resolved_at = r.time((top, "dateResolved"))
    resolver = _text(raw.get("resolvedBy"))
    entered_at = r.time((r.info, "dateEntered"), (top, "dateEntered"))
    updated_at = r.time((r.info, "lastUpdated"), (top, "lastUpdated"))
    closed_at = r.time((top, "closedDate")) if closed else None
    due = _sla_due(raw.get("slaStatus"), near=updated_at or entered_at)
    if closed:
        resolved_at = resolved_at or closed_at
        resolver = resolver or _text(raw.get("closedBy"))
    return TicketRecord(
        id=ticket_id,
        board=r.name("board"),
        board_id=r.ref_id("board"),
        status=r.name("status"),
        status_id=r.ref_id("status"),
        closed=closed,
        company=r.name("company", "identifier"),
        company_id=r.ref_id("company"),
        company_name=r.name("company"),
        agreement=r.name("agreement"),
        agreement_id=r.ref_id("agreement"),
        type=r.name("type"),
        subtype=r.name("subType"),
        item=r.name("item"),
        priority=r.name("priority"),
        source=r.name("source"),
        owner=r.name("owner", "identifier"),
        summary=_text(raw.get("summary")),
        entered_at=entered_at,
        updated_at=updated_at,
        responded_at=r.time((top, "dateResponded")),
        responder=_text(raw.get("respondedBy")),
        resolved_at=resolved_at,
        resolver=resolver,
        closed_at=closed_at,
        sla_stage=None if due is None else due.stage.value,
        sla_due_at=None if due is None else due.at,
        sla_respond_min=r.number("respondMinutes"),
        sla_resplan_min=r.number("resPlanMinutes"),
        sla_resolve_min=r.number("resolveMinutes"),
        sla_waiting_min=r.number("minutesWaiting"),
        actual_hours=r.number("actualHours") or 0.0,
    )


def _sla_due(status: object, *, near: datetime | None) -> SlaDue | None:
    """The due time in ``slaStatus`` ("Respond by Mon 07/04 1:00 PM UTC-04"), if any."""
    if not isinstance(status, str) or near is None:
        return None
    return SlaDue.parse(status, near=near)


def map_tickets(raws: Iterable[object]) -> tuple[list[TicketRecord], list[SkippedTicket]]:
    """Map a page; unreadable tickets are logged and returned as skipped, never raised."""
    records: list[TicketRecord] = []
    skipped: list[SkippedTicket] = []
    for raw in raws:
        try:
            records.append(map_ticket(raw))
        except UnreadableTicket as exc:
            log.warning("skipping unreadable ticket: %s", exc)
            skipped.append(SkippedTicket(exc.ticket_id, exc.field, exc.reason))
    return records, skipped


class UnreadableNote(ValueError):
    def __init__(self, ticket_id: int, note_id: object, field: str, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: note {note_id}: field {field!r}: {reason}")
        self.ticket_id = ticket_id
        self.note_id = note_id
        self.field = field
        self.reason = reason


def map_note(raw: object, *, ticket_id: int) -> TicketNote:
    """Map one note of ``/service/tickets/{id}/notes``; raise ``UnreadableNote`` if unreadable.

    A note with a ``member`` (and no ``contact``) is a technician's; a ``contact`` note is the
    customer's and a note with neither is the system's. Its time is ``dateCreated``, else
    ``_info.dateEntered``, else ``_info.lastUpdated``; a note without any cannot be placed
    before or after the resolution, so it is unreadable.
    """
    if not isinstance(raw, Mapping):
        raise UnreadableNote(ticket_id, "?", "(note)", f"not an object but {type(raw).__name__}")
    note_id = raw.get("id", "?")
    info = _ref(raw, "_info")
    candidates = (
        ("dateCreated", raw.get("dateCreated")),
        ("_info.dateEntered", info.get("dateEntered")),
        ("_info.lastUpdated", info.get("lastUpdated")),
    )
    created_at: datetime | None = None
    for name, value in candidates:
        if value is None or value == "":
            continue
        try:
            created_at = parse_timestamp(value)
        except ValueError as exc:
            raise UnreadableNote(ticket_id, note_id, name, str(exc)) from None
        break
    if created_at is None:
        raise UnreadableNote(ticket_id, note_id, "dateCreated", "missing")
    by_member = isinstance(raw.get("member"), Mapping)
    by_contact = isinstance(raw.get("contact"), Mapping)
    return TicketNote(
        ticket_id=ticket_id,
        created_at=created_at,
        member_key=member_key(_text(_ref(raw, "member").get("identifier"))),
        by_technician=by_member and not by_contact,
        id=note_id if isinstance(note_id, int) and not isinstance(note_id, bool) else None,
        by_customer=by_contact and not by_member,
        customer_visible=(
            raw.get("detailDescriptionFlag") is True or raw.get("resolutionFlag") is True
        )
        and raw.get("internalAnalysisFlag") is not True,
    )


def map_notes(raws: Iterable[object], *, ticket_id: int) -> list[TicketNote]:
    """Map a ticket's notes; unreadable ones are logged as warnings and left out."""
    notes: list[TicketNote] = []
    for raw in raws:
        try:
            notes.append(map_note(raw, ticket_id=ticket_id))
        except UnreadableNote as exc:
            log.warning("skipping unreadable note: %s", exc)
    return notes


def map_board_status(raw: Mapping[str, Any], *, board_id: int) -> BoardStatus:
    return BoardStatus(
        board_id=board_id,
        id=int(raw["id"]),
        name=str(raw.get("name") or ""),
        closed=raw.get("closedStatus") is True,
        escalation_status=_text(raw.get("escalationStatus")),
    )


def _required_id(raw: Mapping[str, Any], what: str) -> int:
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} without an integer id: {value!r}")
    return value


def map_board(raw: Mapping[str, Any]) -> Board:
    """A service board; ``inactiveFlag`` marks boards no longer in use."""
    return Board(
        id=_required_id(raw, "board"),
        name=_text(raw.get("name")) or "",
        inactive=raw.get("inactiveFlag") is True,
    )


def map_member(raw: Mapping[str, Any]) -> Member:
    """A member (technician); ``identifier`` is what tickets' ``respondedBy``/``closedBy`` hold.

    The e-mail is ``primaryEmail`` when set, else ``officeEmail``; the name joins first and
    last name. A member without an identifier cannot be matched to tickets: ValueError.
    """
    member_id = _required_id(raw, "member")
    identifier = _text(raw.get("identifier"))
    if identifier is None:
        raise ValueError(f"member {member_id} has no identifier")
    name = " ".join(
        part for part in (_text(raw.get("firstName")), _text(raw.get("lastName"))) if part
    )
    return Member(
        id=member_id,
        identifier=identifier,
        name=name or None,
        email=_text(raw.get("primaryEmail")) or _text(raw.get("officeEmail")),
        inactive=raw.get("inactiveFlag") is True,
    )

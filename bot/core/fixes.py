"""Fixing a nudged ticket from chat: the choices offered and the ConnectWise change made.

- ``BoardCatalog``: a board's types, subtypes and items and which combinations its
  ``typeSubTypeItemAssociations`` allow; the selects offer only those. ``CatalogCache``
  keeps each board's catalog for ``CATALOG_TTL`` (boards change rarely; a nudge DM opens
  many selects).
- ``nudge_item``: a ticket's ``bot.chat.views.NudgeItem`` with the options valid for what is
  chosen so far (subtypes of the chosen type, items of the chosen type and subtype).
- ``company_shortlist``: the companies offered where they cannot be searched as the user
  types (Teams): those most stored tickets are for; ``company_options`` finds others by name.
- ``apply_fix``: checks the choices against the ticket's open nudge reasons and the board,
  PATCHes the ticket and adds an internal note saying who fixed it from chat (ConnectWise
  sends no e-mail for it: ``processNotifications`` is off).

Chat-neutral: the Slack listeners (and a Teams adapter) pass the chosen ids in.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.chat.message import Option
from bot.chat.views import NudgeItem
from bot.config import DeskboardConfig
from bot.core.derived import stored_waiting_rule
from bot.core.judging import judge_resolutions
from metrics.records import TicketRecord
from metrics.triggers import NudgeReason
from psa.port import (
    Association,
    CompanyQuery,
    NamedRef,
    Psa,
    PsaError,
    TicketFields,
    TicketState,
    invalid_combination,
)
from storage import notices, repo
from storage.db import session_scope
from storage.notices import NudgeRow

log = logging.getLogger(__name__)

CATALOG_TTL = timedelta(minutes=10)
MAX_COMPANY_OPTIONS = 100  # what one external select can show
COMPANY_SHORTLIST = 25  # companies offered without a search: the most used


class FixError(Exception):
    """The choices cannot fix the ticket; the message says what to pick instead."""


def _option(ref: NamedRef) -> Option:
    return Option(text=ref.name or f"#{ref.id}", value=str(ref.id))


def _sorted_options(refs: Sequence[NamedRef]) -> tuple[Option, ...]:
    return tuple(_option(r) for r in sorted(refs, key=lambda r: (r.name.casefold(), r.id)))


@dataclass(frozen=True, slots=True)
class BoardCatalog:
    board_id: int
    types: Mapping[int, NamedRef]
    subtypes: Mapping[int, NamedRef]
    items: Mapping[int, NamedRef]
    associations: tuple[Association, ...]

    def _active(self, refs: Mapping[int, NamedRef], ids: set[int | None]) -> list[NamedRef]:
        return [refs[i] for i in ids if i is not None and i in refs and not refs[i].inactive]

    def type_options(self) -> tuple[Option, ...]:
        ids: set[int | None] = {a.type_id for a in self.associations}
        return _sorted_options(self._active(self.types, ids))

    def subtype_options(self, type_id: int | None) -> tuple[Option, ...]:
        ids = {a.subtype_id for a in self.associations if a.type_id == type_id}
        return _sorted_options(self._active(self.subtypes, ids))

    def item_options(self, type_id: int | None, subtype_id: int | None) -> tuple[Option, ...]:
        ids = {
            a.item_id
            for a in self.associations
            if a.type_id == type_id and a.subtype_id == subtype_id
        }
        return _sorted_options(self._active(self.items, ids))

    def is_complete(self, type_id: int | None, subtype_id: int | None, item_id: int | None) -> bool:
        """An association row exactly: every level the board has for this path is chosen."""
        return type_id is not None and Association(type_id, subtype_id, item_id) in set(
            self.associations
        )

    def names(self, type_id: int | None, subtype_id: int | None, item_id: int | None) -> str:
        parts = [
            refs[i].name if i in refs else f"#{i}"
            for refs, i in (
                (self.types, type_id),
                (self.subtypes, subtype_id),
                (self.items, item_id),
            )
            if i is not None
        ]
        return " / ".join(parts)


def load_catalog(client: Psa, board_id: int) -> BoardCatalog:
    return BoardCatalog(
        board_id=board_id,
        types={r.id: r for r in client.board_types(board_id)},
        subtypes={r.id: r for r in client.board_subtypes(board_id)},
        items={r.id: r for r in client.board_items(board_id)},
        associations=tuple(client.associations(board_id)),
    )


class CatalogCache:
    """Board catalogs by board id, each kept ``ttl``; safe to share between threads."""

    def __init__(
        self, *, ttl: timedelta = CATALOG_TTL, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl.total_seconds()
        self.monotonic = monotonic
        self._entries: dict[int, tuple[float, BoardCatalog]] = {}
        self._lock = threading.Lock()

    def get(self, client: Psa, board_id: int) -> BoardCatalog:
        now = self.monotonic()
        with self._lock:
            entry = self._entries.get(board_id)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        catalog = load_catalog(client, board_id)
        with self._lock:
            self._entries[board_id] = (now, catalog)
        return catalog


# ---- the ticket as ConnectWise has it now ----------------------------------------------------


def ticket_state(client: Psa, ticket_id: int) -> TicketState:
    return client.ticket_state(ticket_id)


@dataclass(frozen=True, slots=True)
class Selection:
    """What the technician picked so far (ConnectWise ids); None: not picked."""

    type_id: int | None = None
    subtype_id: int | None = None
    item_id: int | None = None
    company: Option | None = None  # value: company id, text: its name
    agreement_id: int | None = None

    @property
    def company_id(self) -> int | None:
        return int(self.company.value) if self.company is not None else None


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def nudge_item(
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    catalog: BoardCatalog | None,
    ticket_url: str | None,
    selection: Selection = Selection(),
    agreements: Sequence[NamedRef] = (),
    companies: Sequence[Option] = (),
) -> NudgeItem:
    """The ticket's fix controls: the picks so far, else the ticket's own values;
    ``companies`` are offered when the company is to change (``company_shortlist``)."""
    type_id = selection.type_id if selection.type_id is not None else ticket.type_id
    subtype_id = selection.subtype_id
    item_id = selection.item_id
    if selection.type_id is None:  # nothing picked yet: start from the ticket's values
        subtype_id, item_id = ticket.subtype_id, ticket.item_id
    type_options: tuple[Option, ...] = ()
    subtype_options: tuple[Option, ...] = ()
    item_options: tuple[Option, ...] = ()
    if catalog is not None:
        type_options = catalog.type_options()
        subtype_options = catalog.subtype_options(type_id) if type_id is not None else ()
        if type_id is not None and (subtype_id is not None or not subtype_options):
            item_options = catalog.item_options(type_id, subtype_id)
    active = [a for a in agreements if not a.inactive]
    needs_company = "catchall" in reasons
    return NudgeItem(
        ticket_id=ticket.ticket_id,
        summary=ticket.summary,
        company=selection.company.text if selection.company else ticket.company_name,
        reasons=tuple(reasons),
        ticket_url=ticket_url,
        type_options=type_options,
        subtype_options=subtype_options,
        item_options=item_options,
        current_type=_text(type_id),
        current_subtype=_text(subtype_id),
        current_item=_text(item_id),
        needs_company=needs_company,
        agreement_options=_sorted_options(active),
        current_agreement=_text(selection.agreement_id),
        company_options=tuple(companies) if needs_company else (),
    )


def agreements_for(
    client: Psa,
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    selection: Selection = Selection(),
) -> list[NamedRef]:
    """The agreements to offer: the picked company's, else (unless the company is the one
    to change) the ticket's company's; none when no reason asks for an agreement."""
    if not {"catchall", "no_agreement"} & set(reasons):
        return []
    company_id = selection.company_id
    if company_id is None and "catchall" not in reasons:
        company_id = ticket.company_id
    return client.agreements(company_id) if company_id is not None else []


def build_nudge_item(
    client: Psa,
    *,
    ticket_id: int,
    reasons: Sequence[str],
    catalogs: CatalogCache,
    ticket_url: str | None,
    selection: Selection = Selection(),
    companies: Sequence[Option] = (),
) -> NudgeItem:
    """A ticket's fix controls as ConnectWise has the ticket now (for a digest or an update)."""
    ticket = ticket_state(client, ticket_id)
    catalog = catalogs.get(client, ticket.board_id) if ticket.board_id is not None else None
    return nudge_item(
        ticket=ticket,
        reasons=reasons,
        catalog=catalog,
        ticket_url=ticket_url,
        selection=selection,
        agreements=agreements_for(client, ticket=ticket, reasons=reasons, selection=selection),
        companies=companies,
    )


def _offered(companies: Sequence[NamedRef], catchall_company: str | None) -> list[NamedRef]:
    """Active companies, the catch-all one left out."""
    catchall = (catchall_company or "").strip().casefold()
    return [
        c
        for c in companies
        if not c.inactive and not (catchall and (c.identifier or "").strip().casefold() == catchall)
    ]


def company_options(
    client: Psa, query: str, *, catchall_company: str | None, contains: bool = False
) -> tuple[Option, ...]:
    """Active companies whose name starts with ``query`` (ConnectWise ``like "q*"``), or with
    ``contains``, has it anywhere (``contains "q"``)."""
    text = " ".join(query.split()) or None
    wanted = CompanyQuery(name_contains=text) if contains else CompanyQuery(name_starts=text)
    found = _offered(client.find_companies(wanted), catchall_company)
    return _sorted_options(found)[:MAX_COMPANY_OPTIONS]


def company_shortlist(
    engine: Engine,
    client: Psa,
    *,
    catchall_company: str | None,
    size: int = COMPANY_SHORTLIST,
) -> tuple[Option, ...]:
    """The ``size`` companies most stored tickets are for, active in ConnectWise and not the
    catch-all one, by name; topped up with the first companies by name when fewer are known
    (a new database). One ConnectWise call, two when topping up."""
    with session_scope(engine) as session:
        ranked = repo.busiest_companies(session, limit=size * 2)  # room for inactive ones
    chosen: list[NamedRef] = []
    if ranked:
        by_id = {
            c.id: c
            for c in _offered(
                client.find_companies(CompanyQuery(ids=tuple(ranked))), catchall_company
            )
        }
        chosen = [by_id[i] for i in ranked if i in by_id][:size]
    options = _sorted_options(chosen)
    if len(options) < size:
        known = {o.value for o in options}
        more = company_options(client, "", catchall_company=catchall_company)
        options += tuple(o for o in more if o.value not in known)[: size - len(options)]
        options = tuple(sorted(options, key=lambda o: (o.text.casefold(), int(o.value))))
    return options


# ---- applying a fix ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixResult:
    changes: tuple[str, ...]  # "Type / subtype / item: Hardware / Printer / Toner", ...
    record: TicketRecord  # the ticket as ConnectWise returned it after the PATCH


def _check(
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    selection: Selection,
    catalog: BoardCatalog | None,
) -> None:
    if "uncategorized" in reasons:
        if catalog is None:
            raise FixError(f"ticket #{ticket.ticket_id} has no board to categorize it on")
        if selection.type_id is None:
            raise FixError("Pick a type, a subtype and an item first.")
        if not catalog.is_complete(selection.type_id, selection.subtype_id, selection.item_id):
            problem = invalid_combination(
                catalog.associations,
                type_id=selection.type_id,
                subtype_id=selection.subtype_id,
                item_id=selection.item_id,
            )
            if problem is not None:
                raise FixError("That type, subtype and item do not go together on this board.")
            raise FixError("Pick the subtype and the item too: the ticket needs all three.")
    if "catchall" in reasons:
        if selection.company is None:
            raise FixError("Pick the customer's company.")
        if selection.company_id == ticket.company_id:
            raise FixError(f"Pick the customer's company, not {ticket.company_name}.")
    if "no_agreement" in reasons and selection.agreement_id is None:
        raise FixError("Pick an agreement.")


def apply_fix(
    client: Psa,
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    selection: Selection,
    catalog: BoardCatalog | None,
    fixed_by: str,
    platform_name: str = "Slack",
) -> FixResult:
    """Check, PATCH and note; raises ``FixError`` with what to pick, or ConnectWise's refusal."""
    _check(
        ticket=ticket,
        reasons=reasons,
        selection=selection,
        catalog=catalog,
    )
    changes: list[str] = []
    fields: dict[str, int | None] = {}
    if selection.type_id is not None and catalog is not None:
        picked = (selection.type_id, selection.subtype_id, selection.item_id)
        if picked != (ticket.type_id, ticket.subtype_id, ticket.item_id):
            fields.update(
                type_id=selection.type_id,
                subtype_id=selection.subtype_id,
                item_id=selection.item_id,
            )
            changes.append(f"Type / subtype / item: {catalog.names(*picked)}")
    if selection.company is not None and selection.company_id != ticket.company_id:
        fields["company_id"] = selection.company_id
        changes.append(f"Company: {selection.company.text}")
    if selection.agreement_id is not None and selection.agreement_id != ticket.agreement_id:
        company_id = selection.company_id or ticket.company_id
        agreements = {a.id: a for a in client.agreements(company_id)} if company_id else {}
        agreement = agreements.get(selection.agreement_id)
        if agreement is None:
            raise FixError("That agreement does not belong to the ticket's company.")
        fields["agreement_id"] = agreement.id
        changes.append(f"Agreement: {agreement.name}")
    if not fields:
        raise FixError("Nothing to change: pick what the ticket is missing.")
    try:
        record = client.update_ticket(ticket.ticket_id, TicketFields(**fields), current=ticket)
    except ValueError as exc:
        raise FixError(str(exc)) from exc
    except PsaError as exc:
        raise FixError(f"ConnectWise refused the change: {exc}") from exc
    note = f"Fixed from {platform_name} by {fixed_by}: " + "; ".join(changes)
    try:
        client.add_internal_note(ticket.ticket_id, note)
    except PsaError as exc:  # the fix is made; a missing note must not undo that
        log.warning("ticket %d fixed, but its note failed: %s", ticket.ticket_id, exc)
    return FixResult(changes=tuple(changes), record=record)


# ---- who may fix what, platform-neutral -------------------------------------------------------

NUDGE_BLOCK = re.compile(r"^nudge:(\d+)$")
"""The block (Slack) or card part (Teams) of one ticket in a nudge digest: ``nudge:ID``."""
OPEN_STATUSES = ("pending", "sent")
NUDGE_SELECTS = ("nudge_type", "nudge_subtype", "nudge_item", "nudge_company", "nudge_agreement")
NOT_YOURS = "This ticket was sent to another technician: only they can fix it from here."
ALREADY_DONE = "Nothing left to do here: this ticket was already fixed or marked not needed."


@dataclass(frozen=True, slots=True)
class NudgeTarget:
    """A nudge control's ticket, when the clicker is the technician it was sent to."""

    ticket_id: int
    own: tuple[NudgeRow, ...]  # the clicker's nudge rows for the ticket
    reasons: tuple[str, ...]  # the ticket's reasons still open, in NudgeReason order


def nudge_target(
    engine: Engine, *, block_id: str, value: str | None, member: str | None
) -> NudgeTarget | None:
    """The ticket a click is about, or None: a block that is no nudge, a button whose value
    names another ticket than its block (``value`` None: not a button), or a clicker who is
    not the technician the nudge was for."""
    match = NUDGE_BLOCK.match(block_id)
    if match is None or member is None:
        return None
    ticket_id = int(match.group(1))
    if value is not None and value != str(ticket_id):
        return None
    with session_scope(engine) as session:
        rows = notices.nudges_for_ticket(session, ticket_id=ticket_id)
    own = tuple(row for row in rows if row.member_key == member)
    if not own:
        return None
    still_open = {row.reason for row in rows if row.status in OPEN_STATUSES}
    reasons = tuple(r.value for r in NudgeReason if r.value in still_open)
    return NudgeTarget(ticket_id, own, reasons)


def store_fixed_ticket(
    engine: Engine, config: DeskboardConfig, record: TicketRecord, *, now: datetime
) -> None:
    """Keep the database in step with a fix until the next sync reads it anyway; a
    resolution it stores is judged like the poll's (``bot.core.judging``)."""
    with session_scope(engine) as session:
        rule = stored_waiting_rule(session, config)
        repo.upsert_tickets(
            session, records=[record], params=config.derive_params(), waiting_rule=rule
        )
    judge_resolutions(engine, config=config, now=now)

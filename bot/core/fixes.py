"""Fixing a nudged ticket from chat: the choices offered (the board catalog, companies, agreements).

- ``BoardCatalog``: a board's types, subtypes and items and which combinations its
  ``typeSubTypeItemAssociations`` allow; the selects offer only those. ``CatalogCache``
  keeps each board's catalog for ``CATALOG_TTL`` (boards change rarely; a nudge DM opens
  many selects).
- ``nudge_item``: a ticket's ``bot.chat.views.NudgeItem`` with the options valid for what is
  chosen so far (subtypes of the chosen type, items of the chosen type and subtype).
- ``company_shortlist``: the companies offered where they cannot be searched as the user
  types (Teams): those most stored tickets are for; ``company_options`` finds others by name.

Checking the choices and making the change: ``bot.core.fix_apply``; the flow of a click
(who may act, the ticket read once, the fix stored): ``bot.core.nudge_flow``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.chat.message import Option
from bot.chat.views import NudgeItem
from psa.port import (
    Association,
    CompanyQuery,
    NamedRef,
    Psa,
    TicketState,
)
from storage import repo
from storage.db import session_scope

CATALOG_TTL = timedelta(minutes=10)
MAX_COMPANY_OPTIONS = 100  # what one external select can show
COMPANY_SHORTLIST = 25  # companies offered without a search: the most used


def _option(ref: NamedRef) -> Option:
    return Option(text=ref.name or f"#{ref.id}", value=str(ref.id))


def sorted_options(refs: Sequence[NamedRef]) -> tuple[Option, ...]:
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
        return sorted_options(self._active(self.types, ids))

    def subtype_options(self, type_id: int | None) -> tuple[Option, ...]:
        ids = {a.subtype_id for a in self.associations if a.type_id == type_id}
        return sorted_options(self._active(self.subtypes, ids))

    def item_options(self, type_id: int | None, subtype_id: int | None) -> tuple[Option, ...]:
        ids = {
            a.item_id
            for a in self.associations
            if a.type_id == type_id and a.subtype_id == subtype_id
        }
        return sorted_options(self._active(self.items, ids))

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
        agreement_options=sorted_options(active),
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
    return sorted_options(found)[:MAX_COMPANY_OPTIONS]


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
    options = sorted_options(chosen)
    if len(options) < size:
        known = {o.value for o in options}
        more = company_options(client, "", catchall_company=catchall_company)
        options += tuple(o for o in more if o.value not in known)[: size - len(options)]
        options = tuple(sorted(options, key=lambda o: (o.text.casefold(), int(o.value))))
    return options

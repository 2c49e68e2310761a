"""The choices a nudge's controls offer, for a click by the nudged technician
(``bot.core.nudge_flow.authorize``):

- ``redraw``: the ticket's controls for what is picked so far (a Slack pick: the subtypes of
  the picked type, the items of the picked subtype, the agreements of the picked company).
- ``choices``: the options of one select loaded on demand (Slack ``external_select``):
  companies whose name starts with the text typed, or the type / subtype / item / agreement
  options that go with the picks.
- ``search``: the ticket's choices with those of one select matching the text typed first,
  and a line saying how many matched (Teams, which cannot load options as the user types).

Each reads the ticket once through the ``Psa`` port; a ConnectWise failure is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.chat.message import Message, Option
from bot.chat.views import NudgeItem, nudge_digest_message
from bot.core.fix_apply import narrow
from bot.core.fixes import (
    Selection,
    agreements_for,
    build_nudge_item,
    company_options,
    nudge_item,
)
from bot.core.nudge_flow import (
    Authorized,
    NudgeDeps,
    ToPick,
    catalog_of,
    named_company,
    person,
    psa_failed,
    require_open,
    shortlist,
)
from psa.port import PsaError


def redraw(deps: NudgeDeps, who: Authorized, selection: Selection) -> Message:
    """The ticket's part of the digest, its controls offering what goes with ``selection``."""
    with deps.psa() as cw:
        item = build_nudge_item(
            cw,
            ticket_id=who.ticket_id,
            reasons=who.reasons,
            catalogs=deps.catalogs,
            ticket_url=deps.ticket_link(who.ticket_id),
            selection=selection,
        )
    by = person(deps.engine, who.platform, who.member)
    return nudge_digest_message(person=by, items=[item])


@dataclass(frozen=True, slots=True)
class ChoicesRequest:
    who: Authorized
    select: str  # the select's action: nudge_type, nudge_subtype, nudge_item, ...
    selection: Selection = field(default_factory=Selection)  # what is picked so far
    query: str = ""  # the text typed (companies are looked up by it)


def choices(deps: NudgeDeps, request: ChoicesRequest) -> Sequence[Option]:
    """The options of one select for what is picked so far."""
    selection = request.selection
    with deps.psa() as cw:
        if request.select == "nudge_company":
            catchall = deps.current.connectwise.catchall_company
            return company_options(cw, request.query, catchall_company=catchall)
        ticket = cw.ticket_state(request.who.ticket_id)
        if request.select == "nudge_agreement":
            reasons = ("no_agreement",)  # whichever reason: the picked company's, else the ticket's
            refs = agreements_for(cw, ticket=ticket, reasons=reasons, selection=selection)
            return [Option(r.name, str(r.id)) for r in refs if not r.inactive]
        catalog = catalog_of(deps, cw, ticket)
    if catalog is None:
        return ()
    type_id = selection.type_id if selection.type_id is not None else ticket.type_id
    if request.select == "nudge_type":
        return catalog.type_options()
    if request.select == "nudge_subtype":
        return catalog.subtype_options(type_id) if type_id is not None else ()
    if request.select == "nudge_item":
        subtype_id = selection.subtype_id if selection.type_id is not None else ticket.subtype_id
        return catalog.item_options(type_id, subtype_id) if type_id is not None else ()
    return ()


# ---- search (Teams) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchRequest:
    who: Authorized
    select: str  # the select searched
    selection: Selection  # what is picked in the ticket's controls
    query: str  # the text typed in the select's box


def _matches(options: Sequence[Option], query: str) -> tuple[Option, ...]:
    wanted = query.casefold()
    return tuple(o for o in options if wanted in o.text.casefold())


def _first(options: tuple[Option, ...], matches: Sequence[Option]) -> tuple[Option, ...]:
    """``matches`` first, then the rest of ``options``."""
    return (*matches, *(o for o in options if o not in matches))


def _matches_first(
    item: NudgeItem, action: str, query: str
) -> tuple[NudgeItem, tuple[Option, ...]]:
    """``item`` with the options of select ``action`` that match ``query`` first, and those."""
    match action:
        case "nudge_type":
            found = _matches(item.type_options, query)
            return replace(item, type_options=_first(item.type_options, found)), found
        case "nudge_subtype":
            found = _matches(item.subtype_options, query)
            return replace(item, subtype_options=_first(item.subtype_options, found)), found
        case "nudge_item":
            found = _matches(item.item_options, query)
            return replace(item, item_options=_first(item.item_options, found)), found
        case "nudge_agreement":
            found = _matches(item.agreement_options, query)
            return replace(item, agreement_options=_first(item.agreement_options, found)), found
    return item, ()


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def search(deps: NudgeDeps, request: SearchRequest) -> ToPick:
    """The ticket's choices with the searched select's matches first, the other picks kept.
    Raises ``FixError`` (nothing open any more, a ConnectWise failure)."""
    who, action, query = request.who, request.select, request.query
    require_open(who)
    try:
        with deps.psa() as cw:
            ticket = cw.ticket_state(who.ticket_id)
            catalog = catalog_of(deps, cw, ticket)
            picked = named_company(cw, request.selection)
            agreements = agreements_for(cw, ticket=ticket, reasons=who.reasons, selection=picked)
            selection, _ = narrow(
                picked, reasons=who.reasons, catalog=catalog, agreements=agreements
            )
            companies = shortlist(deps, cw, who)
            found: tuple[Option, ...] = ()
            if action == "nudge_company" and query and companies:
                catchall = deps.current.connectwise.catchall_company
                found = company_options(cw, query, catchall_company=catchall, contains=True)
                companies = _first(companies, found)
            item = nudge_item(
                ticket=ticket,
                reasons=who.reasons,
                catalog=catalog,
                ticket_url=deps.ticket_link(who.ticket_id),
                selection=selection,
                agreements=agreements_for(
                    cw, ticket=ticket, reasons=who.reasons, selection=selection
                ),
            )
    except PsaError as exc:
        raise psa_failed(who, exc) from exc
    if action != "nudge_company" and query:
        item, found = _matches_first(item, action, query)
    if not query:
        hint = "Type part of a name in the box, then press Search."
    elif found:
        hint = f"{_plural(len(found), 'choice has', 'choices have')} “{query}”: first in the list."
    else:
        hint = f"Nothing has “{query}” in its name: check the spelling, or fix it in ConnectWise."
    return ToPick(item=item, hint=hint, companies=companies, company=selection.company)

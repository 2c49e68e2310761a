"""The nudge card's fix flow on Teams: Save checks, narrows or fixes; Not needed dismisses.

A nudge digest card shows, per ticket, selects (``Input.ChoiceSet`` ``nudge:ID|nudge_type``
...) and two ``Action.Execute`` buttons (``nudge_save``, ``nudge_dismiss``). Teams sends no
event when a select changes, so Save does what Slack does on each pick ("Refresh" style):

- When what is picked is incomplete or no longer valid (a subtype of another type, an item
  of another subtype, an agreement of another company, no company for a Catchall ticket),
  the answer is the card with that ticket's choices narrowed to what goes with the picks,
  all options drawn (Teams cannot load them on demand), and a line saying what to pick.
- Otherwise ``bot.core.fixes.apply_fix`` PATCHes ConnectWise and notes "Fixed from Teams by NAME";
  the nudge is marked fixed and the ticket's part of the card becomes the "done" line.
- Not needed marks the nudge dismissed, with its "done" line.
- Search (under a select of many options, ``bot.teams.cards.SEARCH_VERB``): the answer is the
  card with that select's matches for the text typed in its box first in its list (companies:
  ConnectWise's whose name contains it, then the usual short list), and a line saying how many
  matched. Schema 1.5 cannot load options as the user types: this is the step instead.

The answer card is the whole digest: the ticket's part replaced, tickets closed meanwhile
(fixed from Slack, or in ConnectWise) shown as done, and the other tickets keeping what was
picked in them. The digest comes from the last answer for that card (kept in memory), else
from the outbox (what was sent), else it is just the ticket's part.

Only the technician the nudge is for may act or search (the clicking Teams user must map to
the nudge's member), and only on the ticket the clicked block is about; anyone else gets a
message saying so, and no company, agreement or catalog name.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.chat.message import (
    Actions,
    Block,
    Context,
    Message,
    Option,
    Paragraph,
    Select,
    Span,
    message_from_json,
    plain,
)
from bot.chat.views import Person, nudge_done_message, nudge_ticket_message
from bot.chat.views.nudges import NudgeItem
from bot.core.fixes import (
    NUDGE_BLOCK,
    NUDGE_SELECTS,
    OPEN_STATUSES,
    BoardCatalog,
    Selection,
    TicketState,
    agreements_for,
    apply_fix,
    company_options,
    company_shortlist,
    nudge_item,
    nudge_target,
    store_fixed_ticket,
    ticket_state,
)
from bot.core.people import people_directory
from bot.core.platforms import TEAMS, outbox_key
from bot.teams.cards import SEARCH_SUFFIX
from bot.teams.deps import TeamsDeps
from bot.teams.identity import PLATFORM
from psa.port import CompanyQuery, NamedRef, Psa
from storage import notices, outbox, repo
from storage.db import session_scope

log = logging.getLogger(__name__)

SELECTS = NUDGE_SELECTS
IN_CONNECTWISE = Person(key="", display="someone in ConnectWise")
MAX_CARDS_KEPT = 256


@dataclass(frozen=True, slots=True)
class NudgeClick:
    """An authorized click on a nudge card's button."""

    ticket_id: int
    block_id: str
    member: str  # the technician the nudge is for, who clicked
    reasons: tuple[str, ...]  # the ticket's nudge reasons still open
    digest: str | None  # the outbox event of the digest that carried the ticket


def authorize(
    deps: TeamsDeps, *, user_id: str, data: Mapping[str, Any], button: bool = True
) -> NudgeClick | None:
    """The click, when it is the nudged technician's and about its own block's ticket (a
    ``button`` names it in its value too; a search names only the block)."""
    block_id = str(data.get("block") or "")
    member = deps.identity().member_for_user(user_id)
    value = str(data.get("value") or "") if button else None
    target = nudge_target(deps.engine, block_id=block_id, value=value, member=member)
    if target is None or member is None:
        return None
    digest = next((row.outbox_key for row in reversed(target.own) if row.outbox_key), None)
    return NudgeClick(target.ticket_id, block_id, member, target.reasons, digest)


# ---- reading the picks ------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def picks_of(data: Mapping[str, Any], block_id: str) -> dict[str, str]:
    """The block's inputs as Teams sent them (``BLOCK|ACTION`` → value), by action."""
    picks = {}
    for action in SELECTS:
        value = data.get(f"{block_id}|{action}")
        if value is not None and str(value).strip():
            picks[action] = str(value).strip()
    return picks


def selection_of(data: Mapping[str, Any], block_id: str) -> Selection:
    picks = picks_of(data, block_id)
    company = _id(picks.get("nudge_company"))
    return Selection(
        type_id=_id(picks.get("nudge_type")),
        subtype_id=_id(picks.get("nudge_subtype")),
        item_id=_id(picks.get("nudge_item")),
        company=Option(text=f"#{company}", value=str(company)) if company is not None else None,
        agreement_id=_id(picks.get("nudge_agreement")),
    )


def _named_company(client: Psa, selection: Selection) -> Selection:
    """The picked company with its name (the card sends only its id)."""
    company_id = selection.company_id
    if company_id is None:
        return selection
    found = client.find_companies(CompanyQuery(ids=(company_id,)))
    name = next((c.name for c in found if c.id == company_id and c.name), None)
    return replace(selection, company=Option(text=name or f"#{company_id}", value=str(company_id)))


# ---- narrowing ----------------------------------------------------------------------------------


def _ids(options: Sequence[Option]) -> set[int]:
    return {int(o.value) for o in options if o.value.isdigit()}


def narrow(
    selection: Selection,
    *,
    reasons: Sequence[str],
    catalog: BoardCatalog | None,
    agreements: Sequence[NamedRef],
) -> tuple[Selection, str | None]:
    """The picks with what no longer goes with them cleared, and what is left to pick (None:
    the picks are complete, go ahead and fix)."""
    hint: str | None = None
    if "uncategorized" in reasons and catalog is not None:
        type_id, subtype_id, item_id = selection.type_id, selection.subtype_id, selection.item_id
        if type_id not in _ids(catalog.type_options()):
            type_id, subtype_id, item_id = None, None, None
            hint = "Pick a type, a subtype and an item."
        else:
            subtypes = _ids(catalog.subtype_options(type_id))
            if subtype_id is not None and subtype_id not in subtypes:
                subtype_id, item_id = None, None
            items: set[int] = set()
            if subtype_id is not None or not subtypes:
                items = _ids(catalog.item_options(type_id, subtype_id))
            if item_id is not None and item_id not in items:
                item_id = None
            if subtypes and subtype_id is None:
                hint = "Pick the subtype and the item too: the ticket needs all three."
            elif items and item_id is None:
                hint = "Pick the item too: the ticket needs all three."
        selection = replace(selection, type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    if "catchall" in reasons and selection.company is None:
        hint = hint or "Pick the customer's company."
    if {"catchall", "no_agreement"} & set(reasons):
        offered = {a.id for a in agreements if not a.inactive}
        if selection.agreement_id is not None and selection.agreement_id not in offered:
            selection = replace(selection, agreement_id=None)
            hint = hint or "Pick one of the company's agreements."
        if "no_agreement" in reasons and selection.agreement_id is None and offered:
            hint = hint or "Pick an agreement."
    return selection, hint


# ---- the ticket's part of the card -------------------------------------------------------------


def ticket_part(
    item: NudgeItem, *, companies: Sequence[Option] = (), company: Option | None = None
) -> tuple[Block, ...]:
    """The ticket's paragraph and controls with every valid option drawn."""
    chosen = (
        [company]
        if company is not None and company.value not in {o.value for o in companies}
        else []
    )
    drawn: dict[str, tuple[tuple[Option, ...], str | None]] = {
        "nudge_type": (item.type_options, item.current_type),
        "nudge_subtype": (item.subtype_options, item.current_subtype),
        "nudge_item": (item.item_options, item.current_item),
        "nudge_company": ((*chosen, *companies), company.value if company else None),
        "nudge_agreement": (item.agreement_options, item.current_agreement),
    }
    blocks: list[Block] = []
    for block in nudge_ticket_message(item).blocks:
        if isinstance(block, Actions):
            elements = []
            for element in block.elements:
                if isinstance(element, Select) and element.action in drawn:
                    options, current = drawn[element.action]
                    initial = current if current in {o.value for o in options} else None
                    element = replace(element, options=options, initial=initial, external=False)
                elements.append(element)
            block = replace(block, elements=tuple(elements))
        blocks.append(block)
    return tuple(blocks)


def _part_span(blocks: Sequence[Block], ticket_id: int) -> tuple[int, int] | None:
    """Where the ticket's paragraph and controls are: ``blocks[start:end]``."""
    wanted = f"nudge:{ticket_id}"
    end = next(
        (i for i, b in enumerate(blocks) if isinstance(b, Actions) and b.block_id == wanted), None
    )
    if end is None:
        return None
    start = end
    mentioned = re.compile(rf"#{ticket_id}(?!\d)")
    before = blocks[end - 1] if end > 0 else None
    if isinstance(before, Paragraph) and any(mentioned.search(plain(ln)) for ln in before.lines):
        start = end - 1
    return start, end + 1


def replace_part(message: Message, ticket_id: int, part: Sequence[Block]) -> Message:
    span = _part_span(message.blocks, ticket_id)
    if span is None:
        return message
    start, end = span
    return replace(message, blocks=(*message.blocks[:start], *part, *message.blocks[end:]))


def with_hint(message: Message, ticket_id: int, hint: str) -> Message:
    """The message with ``hint`` shown right above the ticket's controls."""
    span = _part_span(message.blocks, ticket_id)
    if span is None:
        return message
    at = span[1] - 1
    line = Context(((Span(f"⚠ {hint}", bold=True),),))
    return replace(message, blocks=(*message.blocks[:at], line, *message.blocks[at:]))


def with_picks(message: Message, data: Mapping[str, Any], *, skip: str) -> Message:
    """Every other ticket's selects showing what was picked in them (when still offered)."""
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, Actions) and block.block_id and block.block_id != skip:
            picks = picks_of(data, block.block_id)
            elements = []
            for element in block.elements:
                value = picks.get(element.action) if isinstance(element, Select) else None
                if isinstance(element, Select) and value in {o.value for o in element.options}:
                    element = replace(element, initial=value)
                elements.append(element)
            block = replace(block, elements=tuple(elements))
        blocks.append(block)
    return replace(message, blocks=tuple(blocks))


def _person(deps: TeamsDeps, member: str | None) -> Person:
    if not member:
        return IN_CONNECTWISE
    return people_directory(deps.engine, platform=PLATFORM).person(member, viewer=member)


def with_closed_done(deps: TeamsDeps, message: Message, *, skip: int) -> Message:
    """Tickets whose nudges were closed elsewhere meanwhile shown as done."""
    shown = [
        int(m.group(1))
        for b in message.blocks
        if isinstance(b, Actions) and (m := NUDGE_BLOCK.match(b.block_id or "")) is not None
    ]
    others = [t for t in shown if t != skip]
    if not others:
        return message
    with session_scope(deps.engine) as session:
        rows = {t: notices.nudges_for_ticket(session, ticket_id=t) for t in others}
        records = {r.id: r for r in repo.get_tickets(session, ids=others)}
    for ticket_id, ticket_rows in rows.items():
        if not ticket_rows or any(r.status in OPEN_STATUSES for r in ticket_rows):
            continue
        last = ticket_rows[-1]
        record = records.get(ticket_id)
        done = nudge_done_message(
            ticket_id=ticket_id,
            summary=(record.summary if record else None) or "",
            changes=(),
            by=_person(deps, last.fixed_by),
            dismissed=last.status == "dismissed",
        )
        message = replace_part(message, ticket_id, done.blocks)
    return message


# ---- the card each click came from ------------------------------------------------------------


class CardStates:
    """The digest each nudge card shows now, by card, for the next click on it (the last
    ``MAX_CARDS_KEPT`` cards; after a restart the outbox's copy is the starting point)."""

    def __init__(self, size: int = MAX_CARDS_KEPT) -> None:
        self.size = size
        self._cards: OrderedDict[str, Message] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Message | None:
        if key is None:
            return None
        with self._lock:
            message = self._cards.get(key)
            if message is not None:
                self._cards.move_to_end(key)
            return message

    def put(self, key: str | None, message: Message) -> None:
        if key is None:
            return
        with self._lock:
            self._cards[key] = message
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)


def sent_digest(deps: TeamsDeps, click: NudgeClick) -> Message | None:
    """The digest as the outbox sent it to Teams."""
    if click.digest is None:
        return None
    with session_scope(deps.engine) as session:
        item = outbox.get_item(session, key=outbox_key(TEAMS, click.digest))
    return message_from_json(item.message) if item is not None else None


# ---- the outcomes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    part: tuple[Block, ...]  # what replaces the ticket's part
    hint: str | None = None  # what is left to pick (the fix is not made yet)
    done: bool = False


def _catalog(deps: TeamsDeps, cw: Psa, ticket: TicketState) -> BoardCatalog | None:
    return deps.catalogs.get(cw, ticket.board_id) if ticket.board_id is not None else None


def _shortlist(deps: TeamsDeps, cw: Psa, click: NudgeClick) -> tuple[Option, ...]:
    if "catchall" not in click.reasons:
        return ()
    catchall = deps.config.connectwise.catchall_company
    return company_shortlist(deps.engine, cw, catchall_company=catchall)


def save(deps: TeamsDeps, click: NudgeClick, data: Mapping[str, Any]) -> Outcome:
    """Save pressed: narrow the choices, or fix the ticket. Raises ``FixError`` (what to
    pick) or ``ConnectWiseError``."""
    person = _person(deps, click.member)
    with deps.connectwise() as cw:
        ticket = ticket_state(cw, click.ticket_id)
        catalog = _catalog(deps, cw, ticket)
        picked = _named_company(cw, selection_of(data, click.block_id))
        agreements = agreements_for(cw, ticket=ticket, reasons=click.reasons, selection=picked)
        selection, hint = narrow(
            picked, reasons=click.reasons, catalog=catalog, agreements=agreements
        )
        if hint is not None:
            companies = _shortlist(deps, cw, click)
            item = nudge_item(
                ticket=ticket,
                reasons=click.reasons,
                catalog=catalog,
                ticket_url=deps.ticket_link(click.ticket_id),
                selection=selection,
                agreements=agreements_for(
                    cw, ticket=ticket, reasons=click.reasons, selection=selection
                ),
            )
            part = ticket_part(item, companies=companies, company=selection.company)
            return Outcome(part=part, hint=hint)
        result = apply_fix(
            cw,
            ticket=ticket,
            reasons=click.reasons,
            selection=selection,
            catalog=catalog,
            fixed_by=person.display,
            platform_name="Teams",
        )
    with session_scope(deps.engine) as session:
        notices.set_nudge_status(
            session, ticket_id=click.ticket_id, status="fixed", by=click.member, at=deps.clock()
        )
    try:
        store_fixed_ticket(deps.engine, deps.config, result.record, now=deps.clock())
    except Exception:  # the next sync stores it: not worth failing the fix for
        log.exception("storing fixed ticket %d failed", click.ticket_id)
    done = nudge_done_message(
        ticket_id=click.ticket_id, summary=ticket.summary, changes=result.changes, by=person
    )
    return Outcome(part=done.blocks, done=True)


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


def search(deps: TeamsDeps, click: NudgeClick, data: Mapping[str, Any]) -> Outcome:
    """Search pressed under one of the ticket's selects: its options with those matching the
    text typed in its box first, the other picks kept. Raises ``ConnectWiseError``."""
    action = str(data.get("select") or "")
    box = f"{data.get('input') or f'{click.block_id}|{action}'}{SEARCH_SUFFIX}"
    query = " ".join(str(data.get(box) or "").split())[:100]
    with deps.connectwise() as cw:
        ticket = ticket_state(cw, click.ticket_id)
        catalog = _catalog(deps, cw, ticket)
        picked = _named_company(cw, selection_of(data, click.block_id))
        agreements = agreements_for(cw, ticket=ticket, reasons=click.reasons, selection=picked)
        selection, _ = narrow(picked, reasons=click.reasons, catalog=catalog, agreements=agreements)
        companies = _shortlist(deps, cw, click)
        found: tuple[Option, ...] = ()
        if action == "nudge_company" and query and companies:
            catchall = deps.config.connectwise.catchall_company
            found = company_options(cw, query, catchall_company=catchall, contains=True)
            companies = _first(companies, found)
        item = nudge_item(
            ticket=ticket,
            reasons=click.reasons,
            catalog=catalog,
            ticket_url=deps.ticket_link(click.ticket_id),
            selection=selection,
            agreements=agreements_for(
                cw, ticket=ticket, reasons=click.reasons, selection=selection
            ),
        )
    if action != "nudge_company" and query:
        item, found = _matches_first(item, action, query)
    part = ticket_part(item, companies=companies, company=selection.company)
    if not query:
        hint = "Type part of a name in the box, then press Search."
    elif found:
        hint = f"{_plural(len(found), 'choice has', 'choices have')} “{query}”: first in the list."
    else:
        hint = f"Nothing has “{query}” in its name: check the spelling, or fix it in ConnectWise."
    return Outcome(part=part, hint=hint)


def dismiss(deps: TeamsDeps, click: NudgeClick) -> Outcome:
    with session_scope(deps.engine) as session:
        notices.set_nudge_status(
            session,
            ticket_id=click.ticket_id,
            status="dismissed",
            by=click.member,
            at=deps.clock(),
        )
        records = repo.get_tickets(session, ids=[click.ticket_id])
    done = nudge_done_message(
        ticket_id=click.ticket_id,
        summary=(records[0].summary if records else None) or "",
        changes=(),
        by=_person(deps, click.member),
        dismissed=True,
    )
    return Outcome(part=done.blocks, done=True)


def answer_card(
    deps: TeamsDeps,
    states: CardStates,
    *,
    card_key: str | None,
    click: NudgeClick,
    outcome: Outcome,
    data: Mapping[str, Any],
) -> Message:
    """The whole card after the click (see the module docstring); remembered for the next."""
    current = states.get(card_key) or sent_digest(deps, click)
    if current is None or _part_span(current.blocks, click.ticket_id) is None:
        current = Message(text=f"#{click.ticket_id} could use a quick fix", blocks=outcome.part)
    else:
        current = replace_part(current, click.ticket_id, outcome.part)
    current = with_picks(current, data, skip=click.block_id)
    current = with_closed_done(deps, current, skip=click.ticket_id)
    states.put(card_key, current)
    if outcome.hint is None:
        return current
    return with_hint(current, click.ticket_id, outcome.hint)

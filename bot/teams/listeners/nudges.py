"""The nudge card's fix flow on Teams: Save checks, narrows or fixes; Not needed dismisses.

A nudge digest card shows, per ticket, selects (``Input.ChoiceSet`` ``nudge:ID|nudge_type``
...) and two ``Action.Execute`` buttons (``nudge_save``, ``nudge_dismiss``). Teams sends no
event when a select changes, so Save does what Slack does on each pick ("Refresh" style):

- When what is picked is incomplete or no longer valid (a subtype of another type, an item
  of another subtype, an agreement of another company, no company for a Catchall ticket),
  the answer is the card with that ticket's choices narrowed to what goes with the picks,
  all options drawn (Teams cannot load them on demand), and a line saying what to pick.
- Otherwise ``bot.core.nudge_flow.fix`` PATCHes ConnectWise and notes "Fixed from Teams by NAME";
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

This module parses the card's data and builds the answer card (its parts:
``bot.teams.nudge_cards``); the steps in between are ``bot.core.nudge_flow``'s and
``bot.core.nudge_choices``'s.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.chat.message import Block, Message, Option
from bot.core import nudge_choices, nudge_flow
from bot.core.fixes import Selection
from bot.core.nudge_flow import Authorized
from bot.teams.cards import SEARCH_SUFFIX
from bot.teams.deps import TeamsDeps
from bot.teams.identity import PLATFORM
from bot.teams.nudge_cards import (
    part_span,
    picks_of,
    replace_part,
    shown_tickets,
    ticket_part,
    with_hint,
    with_picks,
)

MAX_CARDS_KEPT = 256

NudgeClick = Authorized
"""An authorized click on a nudge card's button (``bot.core.nudge_flow``)."""


def authorize(
    deps: TeamsDeps, *, user_id: str, data: Mapping[str, Any], button: bool = True
) -> NudgeClick | None:
    """The click, when it is the nudged technician's and about its own block's ticket (a
    ``button`` names it in its value too; a search names only the block)."""
    block_id = str(data.get("block") or "")
    member = deps.identity().member_for_user(user_id)
    value = str(data.get("value") or "") if button else None
    return nudge_flow.authorize(deps.engine, nudge_flow.Click(PLATFORM, block_id, member, value))


# ---- reading the picks ------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


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


# ---- the outcomes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    part: tuple[Block, ...]  # what replaces the ticket's part
    hint: str | None = None  # what is left to pick (the fix is not made yet)
    done: bool = False


def _to_pick(found: nudge_flow.ToPick) -> Outcome:
    part = ticket_part(found.item, companies=found.companies, company=found.company)
    return Outcome(part=part, hint=found.hint)


def save(deps: TeamsDeps, click: NudgeClick, data: Mapping[str, Any]) -> Outcome:
    """Save pressed: narrow the choices, or fix the ticket. Raises ``FixError`` (what to
    pick, or ConnectWise's refusal or failure)."""
    selection = selection_of(data, click.block_id)
    result = nudge_flow.fix(deps, nudge_flow.FixRequest(click, selection, refine=True))
    if isinstance(result, nudge_flow.ToPick):
        return _to_pick(result)
    return Outcome(part=result.message.blocks, done=True)


def search(deps: TeamsDeps, click: NudgeClick, data: Mapping[str, Any]) -> Outcome:
    """Search pressed under one of the ticket's selects: its options with those matching the
    text typed in its box first, the other picks kept. Raises ``FixError``."""
    action = str(data.get("select") or "")
    box = f"{data.get('input') or f'{click.block_id}|{action}'}{SEARCH_SUFFIX}"
    query = " ".join(str(data.get(box) or "").split())[:100]
    selection = selection_of(data, click.block_id)
    request = nudge_choices.SearchRequest(click, action, selection, query)
    return _to_pick(nudge_choices.search(deps, request))


def dismiss(deps: TeamsDeps, click: NudgeClick) -> Outcome:
    done = nudge_flow.dismiss(deps, nudge_flow.DismissRequest(click, only_open=True))
    return Outcome(part=done.blocks, done=True)


def with_closed_done(deps: TeamsDeps, message: Message, *, skip: int) -> Message:
    """Tickets whose nudges were closed elsewhere meanwhile shown as done."""
    others = [t for t in shown_tickets(message) if t != skip]
    closed = nudge_flow.closed_elsewhere(deps.engine, platform=PLATFORM, ticket_ids=others)
    for ticket_id, done in closed.items():
        message = replace_part(message, ticket_id, done.blocks)
    return message


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
    current = states.get(card_key) or nudge_flow.sent_digest(deps.engine, click)
    if current is None or part_span(current.blocks, click.ticket_id) is None:
        current = Message(text=f"#{click.ticket_id} could use a quick fix", blocks=outcome.part)
    else:
        current = replace_part(current, click.ticket_id, outcome.part)
    current = with_picks(current, data, skip=click.block_id)
    current = with_closed_done(deps, current, skip=click.ticket_id)
    states.put(card_key, current)
    if outcome.hint is None:
        return current
    return with_hint(current, click.ticket_id, outcome.hint)

"""The ticket's part of a Teams nudge card: drawn with every valid option (Teams cannot load
options on demand), replaced when the ticket is done, a hint above its controls, and what was
picked in the card's other tickets kept.

Pure functions of ``bot.chat.message.Message``s; ``bot.teams.cards`` turns them into the
Adaptive Card.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    plain,
)
from bot.chat.views import NudgeItem, nudge_ticket_message
from bot.core.nudge_flow import NUDGE_BLOCK, NUDGE_SELECTS

SELECTS = NUDGE_SELECTS


def picks_of(data: Mapping[str, Any], block_id: str) -> dict[str, str]:
    """The block's inputs as Teams sent them (``BLOCK|ACTION`` → value), by action."""
    picks = {}
    for action in SELECTS:
        value = data.get(f"{block_id}|{action}")
        if value is not None and str(value).strip():
            picks[action] = str(value).strip()
    return picks


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


def part_span(blocks: Sequence[Block], ticket_id: int) -> tuple[int, int] | None:
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
    span = part_span(message.blocks, ticket_id)
    if span is None:
        return message
    start, end = span
    return replace(message, blocks=(*message.blocks[:start], *part, *message.blocks[end:]))


def with_hint(message: Message, ticket_id: int, hint: str) -> Message:
    """The message with ``hint`` shown right above the ticket's controls."""
    span = part_span(message.blocks, ticket_id)
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


def shown_tickets(message: Message) -> list[int]:
    """The tickets the card shows controls for."""
    return [
        int(m.group(1))
        for b in message.blocks
        if isinstance(b, Actions) and (m := NUDGE_BLOCK.match(b.block_id or "")) is not None
    ]

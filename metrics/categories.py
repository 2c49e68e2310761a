"""Ticket categories (docs/metrics.md, "Categories"): named filters any metric can be restricted to.

A category lists patterns per field. A ticket belongs to it when, for every field the
category names, the ticket's value matches one of that field's patterns: ``priority =
["P1*"]`` and ``board = ["Service Desk"]`` together mean priority-1 tickets on the Service
Desk board. A category that names no field matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metrics.patterns import matches_any
from metrics.records import TicketRecord


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    priority: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    board: tuple[str, ...] = ()

    def matches(self, ticket: TicketRecord) -> bool:
        checks = (
            (self.priority, ticket.priority),
            (self.source, ticket.source),
            (self.type, ticket.type),
            (self.board, ticket.board),
        )
        named = [(patterns, value) for patterns, value in checks if patterns]
        return bool(named) and all(matches_any(value, patterns) for patterns, value in named)


def category_bits(categories: Sequence[Category]) -> dict[str, int]:
    """Each category's bit in ``DerivedTicket.category_mask``, by position in the config."""
    return {c.name: 1 << i for i, c in enumerate(categories)}


def category_mask(ticket: TicketRecord, categories: Sequence[Category]) -> int:
    mask = 0
    for i, category in enumerate(categories):
        if category.matches(ticket):
            mask |= 1 << i
    return mask

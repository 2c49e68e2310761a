"""The plain-Python reference evaluator: docs/metrics.md, "The metrics", over derived tickets,
from the data.

Every number comes from a ``MetricDef`` (population, aggregate, field, denominator, scale);
no metric has code of its own. ``storage`` computes the same numbers as SQL aggregates, and
tests hold the two against each other, so the arithmetic is kept plain:

- ``COUNT``: tickets in the population whose field is true (all of them when no field);
  over no tickets, 0.
- ``PCT``: ``100.0 * num / den``; ``den`` is the population size, or the tickets whose
  ``denominator`` field is true; null when ``den`` is 0.
- ``MEAN``: ``sum / count * scale`` over the tickets whose field is not null, in that order;
  null when there are none. The sum is ``math.fsum`` (exactly rounded, so independent of
  ticket order).
- ``PER_WORKING_DAY``: the count / ``working_days``; null when the window has no working day.
- ``NET``: ``100.0 * (count(field) - count(minus)) / size``; null over an empty population.

Populations for member m in window W (only tickets on in-scope boards count):

- ``RESOLVED``, R(m): ``resolver_key`` is m and ``resolved_at`` lies in W;
- ``RESPONDED``, P(m): ``responder_key`` is m and ``responded_at`` lies in W;
- ``OPEN_OWNED``: open tickets whose ``owner_key`` is m, whatever W (the backlog is "now");
- ``REOPENED``: distinct tickets of the reopen events in W charged to m (they carry their own
  scope and category mask). Only a plain count is defined over them.
- ``REPLIES``: the replies (``ReplyFact``) whose ``member_key`` is m and whose ``at`` lies in W,
  on in-scope tickets; fields are the reply's minutes (the SLA basis reads the business ones).
- ``RATED``, S(m): the credited ratings (``metrics.ratings.credit_ratings``) of m whose
  ``rated_at`` lies in W, on in-scope tickets; fields are the rating's value.

A ticket's ``rated`` field (``csat_response_rate``) is whether its id is in ``rated_tickets``:
it has a rating, whenever given.

A ``METRIC@CATEGORY`` ref keeps the population's tickets whose ``category_mask`` has the
category's bit. Members are everyone in some R(m) or P(m) of the window, minus the excluded:
someone with only a backlog or reopened tickets does not appear. When a ratings metric is
asked for, everyone in some S(m) is a member too (rated for a ticket resolved before W), and
``MemberValues.rated`` holds |S(m)| overall and per category.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from metrics.definitions import Aggregate, MetricDef, MetricRef, Population, TimeBasis
from metrics.derive import DerivedTicket
from metrics.ratings import CreditedRating
from metrics.records import member_key
from metrics.values import MemberValues, ReopenEvent, ReplyFact
from metrics.windows import Window


def member_values(
    tickets: Iterable[DerivedTicket],
    *,
    window: Window,
    refs: Sequence[MetricRef],
    basis: TimeBasis,
    working_days: int,
    category_bits: Mapping[str, int],
    reopen_events: Iterable[ReopenEvent] = (),
    ratings: Iterable[CreditedRating] = (),
    rated_tickets: frozenset[int] = frozenset(),
    replies: Iterable[ReplyFact] = (),
    excluded: frozenset[str] = frozenset(),
) -> dict[str, MemberValues]:
    """Each member's values of ``refs`` over ``window``, keyed by member key (sorted)."""
    for ref in refs:
        _check_ref(ref, category_bits)
    populations = _populations(tickets, window)
    reopened = _reopened(reopen_events, window)
    rated = _rated(ratings, window)
    replied = _replied(replies, window)
    with_ratings = any(ref.metric.population is Population.RATED for ref in refs)
    skip = {key for key in map(member_key, excluded) if key is not None}
    named = set(populations[Population.RESOLVED]) | set(populations[Population.RESPONDED])
    if with_ratings:
        named |= set(rated)
    members = sorted(named - skip)
    categories = sorted({ref.category for ref in refs if ref.category is not None})
    result: dict[str, MemberValues] = {}
    for member in members:
        resolved_tickets = populations[Population.RESOLVED].get(member, [])
        resolved: dict[str | None, int] = {None: len(resolved_tickets)}
        for category in categories:
            resolved[category] = len(_in_category(resolved_tickets, category_bits[category]))
        own_ratings = rated.get(member, [])
        rated_counts: dict[str | None, int] = {}
        if with_ratings:
            rated_counts[None] = len(own_ratings)
            for category in categories:
                rated_counts[category] = len(_in_category(own_ratings, category_bits[category]))
        values: dict[str, float | None] = {}
        for ref in refs:
            bit = None if ref.category is None else category_bits[ref.category]
            if ref.metric.population is Population.REOPENED:
                values[ref.key] = _reopened_count(reopened.get(member, []), bit)
                continue
            population: Sequence[DerivedTicket | CreditedRating | ReplyFact]
            if ref.metric.population is Population.RATED:
                population = own_ratings if bit is None else _in_category(own_ratings, bit)
            elif ref.metric.population is Population.REPLIES:
                own_replies = replied.get(member, [])
                population = own_replies if bit is None else _in_category(own_replies, bit)
            else:
                population = populations[ref.metric.population].get(member, [])
                if bit is not None:
                    population = _in_category(population, bit)
            values[ref.key] = _aggregate(ref.metric, population, basis, working_days, rated_tickets)
        result[member] = MemberValues(member, resolved, values, rated_counts)
    return result


def _check_ref(ref: MetricRef, category_bits: Mapping[str, int]) -> None:
    if ref.category is not None and ref.category not in category_bits:
        raise ValueError(f"{ref.key}: unknown category {ref.category!r}")
    metric = ref.metric
    if metric.population is Population.REOPENED and (
        metric.aggregate is not Aggregate.COUNT or metric.field is not None
    ):
        raise ValueError(f"{metric.key}: only a plain count is defined over reopen events")


def _populations(
    tickets: Iterable[DerivedTicket], window: Window
) -> dict[Population, dict[str, list[DerivedTicket]]]:
    by_population: dict[Population, dict[str, list[DerivedTicket]]] = {
        p: defaultdict(list)
        for p in (Population.RESOLVED, Population.RESPONDED, Population.OPEN_OWNED)
    }
    for ticket in tickets:
        if not ticket.in_scope:
            continue
        if ticket.resolver_key is not None and _within(ticket.resolved_at, window):
            by_population[Population.RESOLVED][ticket.resolver_key].append(ticket)
        if ticket.responder_key is not None and _within(ticket.responded_at, window):
            by_population[Population.RESPONDED][ticket.responder_key].append(ticket)
        if ticket.is_open and ticket.owner_key is not None:
            by_population[Population.OPEN_OWNED][ticket.owner_key].append(ticket)
    return by_population


def _reopened(events: Iterable[ReopenEvent], window: Window) -> dict[str, list[ReopenEvent]]:
    by_member: dict[str, list[ReopenEvent]] = defaultdict(list)
    for event in events:
        key = member_key(event.resolver_key)
        if event.in_scope and key is not None and window.contains(event.at):
            by_member[key].append(event)
    return by_member


def _rated(ratings: Iterable[CreditedRating], window: Window) -> dict[str, list[CreditedRating]]:
    by_member: dict[str, list[CreditedRating]] = defaultdict(list)
    for rating in ratings:
        if rating.in_scope and window.contains(rating.rated_at):
            by_member[rating.member].append(rating)
    return by_member


def _replied(replies: Iterable[ReplyFact], window: Window) -> dict[str, list[ReplyFact]]:
    by_member: dict[str, list[ReplyFact]] = defaultdict(list)
    for reply in replies:
        if reply.in_scope and window.contains(reply.at):
            by_member[reply.member_key].append(reply)
    return by_member


def _reopened_count(events: Sequence[ReopenEvent], bit: int | None) -> int:
    return len({e.ticket_id for e in events if bit is None or e.category_mask & bit})


def _within(moment: datetime | None, window: Window) -> bool:
    return moment is not None and window.contains(moment)


_Item = TypeVar("_Item", DerivedTicket, CreditedRating, ReplyFact)


def _in_category(items: Sequence[_Item], bit: int) -> list[_Item]:
    return [t for t in items if t.category_mask & bit]


RATED_FIELD = "rated"
"""The ticket field that is not on the ticket: whether it has a rating (``rated_tickets``)."""


def _count(
    items: Sequence[DerivedTicket | CreditedRating | ReplyFact],
    field: str | None,
    rated_tickets: frozenset[int] = frozenset(),
) -> int:
    if field is None:
        return len(items)
    if field == RATED_FIELD:
        return sum(1 for t in items if isinstance(t, DerivedTicket) and t.id in rated_tickets)
    return sum(1 for t in items if getattr(t, field))


def _aggregate(
    metric: MetricDef,
    tickets: Sequence[DerivedTicket | CreditedRating | ReplyFact],
    basis: TimeBasis,
    working_days: int,
    rated_tickets: frozenset[int] = frozenset(),
) -> float | None:
    field = metric.field_for(basis)
    match metric.aggregate:
        case Aggregate.COUNT:
            return _count(tickets, field)
        case Aggregate.PCT:
            den = _count(tickets, metric.denominator_for(basis))
            return None if den == 0 else 100.0 * _count(tickets, field, rated_tickets) / den
        case Aggregate.NET:
            if not tickets:
                return None
            return 100.0 * (_count(tickets, field) - _count(tickets, metric.minus)) / len(tickets)
        case Aggregate.MEAN:
            if field is None:
                raise ValueError(f"{metric.key}: a mean needs a field")
            present = [v for v in (getattr(t, field) for t in tickets) if v is not None]
            return None if not present else math.fsum(present) / len(present) * metric.scale
        case Aggregate.PER_WORKING_DAY:
            return None if working_days == 0 else _count(tickets, field) / working_days

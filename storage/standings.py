"""Metric values as SQL aggregates, built from the definitions in ``metrics.definitions``.

No metric has SQL of its own: each ``MetricRef`` becomes aggregate expressions derived from
its definition's population, aggregate, field, denominator and scale, evaluated in one
``GROUP BY`` member per population. The numbers are those of the plain-Python reference
``metrics.evaluate`` (its docstring is the contract):

- ``COUNT``: ``SUM(CASE WHEN field [AND in category] THEN 1 ELSE 0 END)``, or the number of
  tickets without a field; 0 for a member outside the population.
- ``PCT``: ``100.0 * count(field) / count(denominator, or every ticket)``; null when that
  denominator is 0, so also for a member outside the population.
- ``MEAN``: ``AVG(field)`` (which skips NULLs) × scale; null over no values.
- ``PER_WORKING_DAY``: the count / ``working_days``; null when the window has none.
- ``NET``: ``100.0 * (count(field) - count(minus)) / count(*)``; null over no rows.

The ``RATED`` population is the ``ratings`` rows (the latest answer per ticket and
respondent) joined to their tickets and credited by ``[csat] credit``: the ticket's
``resolver_key`` or ``owner_key``, or through ``ticket_workers`` each member who logged time
on it. Its fields are the rating's value. A ticket's ``rated`` field is an ``EXISTS`` over
the ratings.

The ``REPLIES`` population is the ``ticket_notes`` rows that answered a customer message
(``reply_since`` set), by their author, joined to their tickets for scope and categories;
its fields are the note's reply minutes.

The resolved and responded populations are read member by member (``_member_keys``: one
index range per member over the window) rather than by one scan of the whole index; on
PostgreSQL, a window longer than a quarter is read by one plain ``GROUP BY``, which its
planner serves by scanning the table.

A ``METRIC@CATEGORY`` ref adds ``category_mask & bit != 0`` to each condition. SQL sums and
averages; the divisions and the scale are applied in Python to what it returns, so the
values are plain Python numbers on SQLite and PostgreSQL alike, never ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Label,
    and_,
    case,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from metrics.definitions import Aggregate, MetricRef, Population, TimeBasis
from metrics.ratings import Credit, RatingValue
from metrics.records import member_key
from metrics.values import MemberValues, ReopenEvent
from metrics.windows import Window
from storage import populations, rollups
from storage.populations import Source
from storage.tables import (
    MEMBER_DAYS,
    RATINGS,
    STATUS_CHANGES,
    TICKET_NOTES,
    TICKET_WORKERS,
    TICKETS,
)

_T = TICKETS.c
_S = STATUS_CHANGES.c
_R = RATINGS.c
_W = TICKET_WORKERS.c
_N = TICKET_NOTES.c
_D = MEMBER_DAYS.c
_REPLY_FIELDS = frozenset({"reply_min_business", "reply_min_calendar"})
_RATING_FIELDS = frozenset(value.value for value in RatingValue)

Row = RowMapping


def _rated(window: Window, credit: Credit) -> Source:
    start, end = window.utc()
    rated = RATINGS.join(TICKETS, _T.id == _R.ticket_id)
    conditions = [_T.in_scope == true(), _R.rated_at >= start, _R.rated_at < end]
    member: ColumnElement[Any]
    if credit is Credit.WORKED:
        rated = rated.join(TICKET_WORKERS, _W.ticket_id == _R.ticket_id)
        member = _W.member_key
    else:
        member = _T.resolver_key if credit is Credit.RESOLVER else _T.owner_key
        conditions.append(member.is_not(None))
    return Source(rated, member, tuple(conditions))


def _source(population: Population, window: Window, credit: Credit, *, scan: bool) -> Source:
    start, end = window.utc()  # bound through UTCDateTime, exactly like the stored values
    in_scope = _T.in_scope == true()
    if population is Population.RATED:
        return _rated(window, credit)
    if population is Population.REPLIES:
        return populations.replies(window, scan=scan)
    if population is Population.RESOLVED:
        return populations.windowed(_T.resolver_key, _T.resolved_at, window, scan=scan)
    if population is Population.RESPONDED:
        return populations.windowed(_T.responder_key, _T.responded_at, window, scan=scan)
    if population is Population.OPEN_OWNED:
        key = _T.owner_key
        return Source(TICKETS, key, (in_scope, _T.is_open == true(), key.is_not(None)))
    if population is Population.REOPENED:
        # One row per (ticket, member), however often the ticket was reopened in the window.
        pairs = (
            select(_S.ticket_id, _S.resolver_key)
            .where(
                _S.reopened == true(),
                _S.resolver_key.is_not(None),
                _S.at >= start,
                _S.at < end,
            )
            .distinct()
            .subquery("reopens")
        )
        joined = pairs.join(TICKETS, _T.id == pairs.c.ticket_id)
        return Source(joined, pairs.c.resolver_key, (in_scope,))
    raise ValueError(f"unknown population {population!r}")


def _flag(field: str) -> ColumnElement[bool]:
    """A row's ``field`` as a condition: a rating's value, whether a ticket has a rating, or
    a boolean column of the ticket."""
    if field in _RATING_FIELDS:
        return _R.rating == field
    return populations.ticket_flag(field)


def _in_category(mask: ColumnElement[Any], bit: int) -> ColumnElement[bool]:
    return mask.bitwise_and(bit) != 0


def _count(field: str | None, bit: int | None, *, rolled: bool = False) -> ColumnElement[Any]:
    """How many of the group's rows have ``field`` true and are in the category; from the
    day totals (``rolled``), the sum of the days' counts."""
    if rolled:
        counted: ColumnElement[Any] = _D.n if field is None else _D[field]
        if bit is not None:
            counted = case((_in_category(_D.category_mask, bit), counted), else_=0)
        return func.coalesce(func.sum(counted), 0)
    conditions: list[ColumnElement[bool]] = []
    if field is not None:
        conditions.append(_flag(field))
    if bit is not None:
        conditions.append(_in_category(_T.category_mask, bit))
    if not conditions:
        return func.count()
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


def _mean(field: str, bit: int | None) -> ColumnElement[Any]:
    column = _N[field] if field in _REPLY_FIELDS else _T[field]
    if bit is None:
        return func.avg(column)
    return func.avg(case((_in_category(_T.category_mask, bit), column), else_=None))


def _mean_parts(field: str, bit: int | None) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """A mean from the day totals: the sum of the days' sums and of their counts."""
    total: ColumnElement[Any] = _D[f"{field}_sum"]
    count: ColumnElement[Any] = _D[f"{field}_n"]
    if bit is not None:
        total = case((_in_category(_D.category_mask, bit), total), else_=0.0)
        count = case((_in_category(_D.category_mask, bit), count), else_=0)
    return func.sum(total), func.sum(count)


def _rollable(ref: MetricRef, basis: TimeBasis) -> bool:
    """Whether the day totals hold what ``ref`` needs."""
    metric = ref.metric
    if metric.population not in rollups.POPULATIONS:
        return False
    field = metric.field_for(basis)
    match metric.aggregate:
        case Aggregate.COUNT | Aggregate.PER_WORKING_DAY:
            return field is None or field in rollups.FLAGS[metric.population]
        case Aggregate.PCT:
            counted = (field, metric.denominator_for(basis))
            return all(f is None or f in rollups.FLAGS[metric.population] for f in counted)
        case Aggregate.MEAN:
            return field in rollups.MEANS[metric.population]
    return False


@dataclass(frozen=True, slots=True)
class _RefSql:
    """One requested ref: the SQL it adds to its population's query and how to read it."""

    ref: MetricRef
    label: str
    basis: TimeBasis
    bit: int | None

    def columns(self, *, rolled: bool = False) -> list[Label[Any]]:
        """The aggregates to add: over the tickets, or (``rolled``) over the day totals."""
        metric = self.ref.metric
        field = metric.field_for(self.basis)
        match metric.aggregate:
            case Aggregate.COUNT | Aggregate.PER_WORKING_DAY:
                return [_count(field, self.bit, rolled=rolled).label(f"{self.label}_n")]
            case Aggregate.PCT:
                denominator = metric.denominator_for(self.basis)
                return [
                    _count(field, self.bit, rolled=rolled).label(f"{self.label}_n"),
                    _count(denominator, self.bit, rolled=rolled).label(f"{self.label}_d"),
                ]
            case Aggregate.MEAN:
                if field is None:
                    raise ValueError(f"{metric.key}: a mean needs a field")
                if rolled:
                    total, count = _mean_parts(field, self.bit)
                    return [total.label(f"{self.label}_sum"), count.label(f"{self.label}_cnt")]
                return [_mean(field, self.bit).label(f"{self.label}_avg")]
            case Aggregate.NET:
                return [
                    _count(field, self.bit).label(f"{self.label}_n"),
                    _count(metric.minus, self.bit).label(f"{self.label}_m"),
                    _count(None, self.bit).label(f"{self.label}_d"),
                ]
        raise ValueError(f"{metric.key}: unknown aggregate {metric.aggregate!r}")

    def value(self, row: Row | None, *, working_days: int) -> float | None:
        """The metric's value from the member's row; ``None`` row: not in the population."""

        def read(suffix: str) -> Any:
            return None if row is None else row[f"{self.label}_{suffix}"]

        metric = self.ref.metric
        match metric.aggregate:
            case Aggregate.COUNT:
                return int(read("n") or 0)
            case Aggregate.PCT:
                denominator = int(read("d") or 0)
                return None if denominator == 0 else 100.0 * int(read("n") or 0) / denominator
            case Aggregate.MEAN:
                if row is not None and f"{self.label}_cnt" in row:
                    count = int(read("cnt") or 0)
                    return None if count == 0 else float(read("sum")) / count * metric.scale
                mean = read("avg")
                return None if mean is None else float(mean) * metric.scale
            case Aggregate.PER_WORKING_DAY:
                return None if working_days == 0 else int(read("n") or 0) / working_days
            case Aggregate.NET:
                size = int(read("d") or 0)
                if size == 0:
                    return None
                return 100.0 * (int(read("n") or 0) - int(read("m") or 0)) / size
        raise ValueError(f"{metric.key}: unknown aggregate {metric.aggregate!r}")


def _check_ref(ref: MetricRef, category_bits: Mapping[str, int]) -> None:
    if ref.category is not None and ref.category not in category_bits:
        raise ValueError(f"{ref.key}: unknown category {ref.category!r}")
    metric = ref.metric
    if metric.population is Population.REOPENED and (
        metric.aggregate is not Aggregate.COUNT or metric.field is not None
    ):
        raise ValueError(f"{metric.key}: only a plain count is defined over reopen events")


def _present(
    session: Session,
    key: Column[Any],
    at: Column[Any],
    window: Window,
    skip: frozenset[str],
    days: tuple[int, int] | None,
) -> dict[str, Row | None]:
    """The members with an in-scope ticket in the window by ``key`` and ``at``, when only
    who they are is asked (no metric of that population): from the day totals when they
    answer, else for each member one index seek that stops at the first such ticket,
    instead of counting all of them."""
    if days is not None:
        named = (
            select(_D.member_key)
            .where(_D.population == Population.RESPONDED.value, _D.day >= days[0])
            .where(_D.day < days[1])
            .distinct()
        )
        if skip:
            named = named.where(_D.member_key.not_in(skip))
        return {str(k): None for (k,) in session.execute(named)}
    start, end = window.utc()
    keys = populations.member_keys(key)
    ticket = TICKETS.alias("present")
    found = exists().where(
        ticket.c[key.name] == keys.c.k,
        ticket.c[at.name] >= start,
        ticket.c[at.name] < end,
        ticket.c.in_scope == true(),
    )
    query = select(keys.c.k).where(keys.c.k.is_not(None), found)
    if skip:
        query = query.where(keys.c.k.not_in(skip))
    return {str(k): None for (k,) in session.execute(query)}


def _grouped(
    session: Session, source: Source, columns: Sequence[Label[Any]], skip: frozenset[str]
) -> dict[str, Row]:
    query = (
        select(source.member.label("member"), *columns)
        .select_from(source.from_clause)
        .where(*source.conditions)
        .group_by(source.member)
    )
    if skip:
        query = query.where(source.member.not_in(skip))
    return {row["member"]: row for row in session.execute(query).mappings()}


def member_values(
    session: Session,
    *,
    window: Window,
    refs: Sequence[MetricRef],
    basis: TimeBasis,
    working_days: int,
    category_bits: Mapping[str, int],
    excluded: frozenset[str] = frozenset(),
    credit: Credit = Credit.RESOLVER,
    day_totals: bool = True,
) -> dict[str, MemberValues]:
    """Each member's values of ``refs`` over ``window``, keyed by member key (sorted).

    Members are everyone who resolved or responded to an in-scope ticket in the window,
    less ``excluded``; a backlog or a reopen alone does not make someone a member. When a
    ratings metric is asked for, everyone credited with a rating in the window is a member
    too, and ``MemberValues.rated`` holds their |S(m)|.

    A window of whole local days reads the resolved, responded and replies populations
    from the day totals (``storage.rollups``) when they answer it exactly in this session's
    snapshot and hold every field asked of that population; ``day_totals=False`` reads the
    tickets always (the tests compare the two).
    """
    for ref in refs:
        _check_ref(ref, category_bits)
    skip = frozenset(key for key in map(member_key, excluded) if key is not None)
    categories = sorted({ref.category for ref in refs if ref.category is not None})
    ref_sql = [
        _RefSql(ref, f"m{i}", basis, None if ref.category is None else category_bits[ref.category])
        for i, ref in enumerate(refs)
    ]

    with_ratings = any(r.ref.metric.population is Population.RATED for r in ref_sql)
    # PostgreSQL reads a long window's tickets faster in one scan of the table than one
    # technician's index range after another (random reads of the rows); SQLite does not.
    scan = (
        session.get_bind().dialect.name == "postgresql"
        and window.end - window.start > populations.LONG_WINDOW
    )

    days = rollups.usable_days(session, window) if day_totals else None
    rows: dict[Population, dict[str, Row] | dict[str, Row | None]] = {}
    for population in Population:
        asked = [r for r in ref_sql if r.ref.metric.population is population]
        rolled = (
            days is not None
            and population in rollups.POPULATIONS
            and all(_rollable(r.ref, basis) for r in asked)
        )
        columns = [c for r in asked for c in r.columns(rolled=rolled)]
        if population is Population.RESOLVED or (population is Population.RATED and with_ratings):
            columns += _sizes_columns(categories, category_bits, rolled=rolled)
        if not columns and population is not Population.RESPONDED:
            continue  # RESOLVED and RESPONDED always run: together they name the members
        if not columns:  # RESPONDED, only to name the members
            rows[population] = _present(
                session, _T.responder_key, _T.responded_at, window, skip, days
            )
            continue
        if rolled and days is not None:
            source = _day_totals(population, days)
        else:
            source = _source(population, window, credit, scan=scan)
        rows[population] = _grouped(session, source, columns, skip)

    named = set(rows[Population.RESOLVED]) | set(rows[Population.RESPONDED])
    if with_ratings:
        named |= set(rows[Population.RATED])
    result: dict[str, MemberValues] = {}
    for member in sorted(named):
        resolved = _sizes(rows[Population.RESOLVED].get(member), categories)
        rated = _sizes(rows[Population.RATED].get(member), categories) if with_ratings else {}
        values = {
            r.ref.key: r.value(rows[r.ref.metric.population].get(member), working_days=working_days)
            for r in ref_sql
        }
        result[member] = MemberValues(member, resolved, values, rated)
    return result


def _sizes_columns(
    categories: Sequence[str], category_bits: Mapping[str, int], *, rolled: bool
) -> list[Label[Any]]:
    """A population's size, overall and per requested category."""
    return [_count(None, None, rolled=rolled).label("size")] + [
        _count(None, category_bits[c], rolled=rolled).label(f"size_{i}")
        for i, c in enumerate(categories)
    ]


def _day_totals(population: Population, days: tuple[int, int]) -> Source:
    conditions = (_D.population == population.value, _D.day >= days[0], _D.day < days[1])
    return Source(MEMBER_DAYS, _D.member_key, conditions)


def _sizes(own: Row | None, categories: Sequence[str]) -> dict[str | None, int]:
    """A member's population size, overall and per category, from the size columns."""
    sizes: dict[str | None, int] = {None: 0 if own is None else int(own["size"])}
    for i, category in enumerate(categories):
        sizes[category] = 0 if own is None else int(own[f"size_{i}"])
    return sizes


def reopen_events(session: Session, *, window: Window) -> list[ReopenEvent]:
    """Every reopen seen in ``window`` that is charged to someone, oldest first."""
    start, end = window.utc()
    query = (
        select(_S.ticket_id, _S.at, _S.resolver_key, _T.in_scope, _T.category_mask)
        .select_from(STATUS_CHANGES.join(TICKETS, _T.id == _S.ticket_id))
        .where(
            _S.reopened == true(),
            _S.resolver_key.is_not(None),
            _S.at >= start,
            _S.at < end,
        )
        .order_by(_S.at, _S.id)
    )
    return [ReopenEvent(*row) for row in session.execute(query)]

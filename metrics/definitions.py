"""Every metric of docs/metrics.md, "The metrics", as data: key, label, unit,
direction and how a ticket counts.

A metric is an aggregate over a *population* of derived tickets (see ``metrics.derive``):

- ``RESOLVED``: R(m), tickets whose resolver is m and whose ``resolved_at`` lies in the window;
- ``RESPONDED``: P(m), tickets whose responder is m and whose ``responded_at`` lies in the window;
- ``OPEN_OWNED``: open tickets whose owner is m, now (not windowed);
- ``REOPENED``: tickets m resolved that were seen going from resolved back to open in the window;
- ``REPLIES``: the technician responses m wrote in the window that answered a customer message
  (``metrics.conversation``), each with its ticket's scope and categories. Its fields are the
  reply's minutes on each basis.
- ``RATED``: S(m), the customer ratings credited to m (``[csat] credit``) whose ``rated_at``
  lies in the window, each with its ticket's scope and categories. Its fields are the
  rating's value (``positive``, ``neutral``, ``negative``).

``field`` names the ``DerivedTicket`` attribute a ticket contributes; time metrics name one
attribute per time basis through ``{basis}``. The storage layer turns these definitions into
SQL aggregates and ``metrics.evaluate`` computes the same numbers in plain Python, so the two
can be checked against each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Population(StrEnum):
    RESOLVED = "resolved"
    RESPONDED = "responded"
    OPEN_OWNED = "open_owned"
    REOPENED = "reopened"
    REPLIES = "replies"
    RATED = "rated"


class Aggregate(StrEnum):
    COUNT = "count"  # tickets in the population whose ``field`` is true (or all, if no field)
    PCT = "pct"  # 100 × count(field) / count(denominator), null when the denominator is 0
    MEAN = "mean"  # mean of ``field`` × ``scale`` over tickets where it is not null
    PER_WORKING_DAY = "per_working_day"  # count / working days in the window
    NET = "net"  # 100 × (count(field) − count(minus)) / population size, null over none


class TimeBasis(StrEnum):
    BUSINESS = "business"
    SLA = "sla"
    CALENDAR = "calendar"


class Needs(StrEnum):
    DATABASE = "database"  # Deskboard's own history: backlog "now", status changes
    NOTES = "notes"  # ticket notes, synced separately
    RATINGS = "ratings"  # customer ratings (the database, or a --ratings file)


@dataclass(frozen=True, slots=True)
class MetricDef:
    key: str
    label: str
    unit: str
    direction: Direction
    population: Population
    aggregate: Aggregate
    field: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    needs: frozenset[Needs] = frozenset()
    minus: str | None = None  # NET: the field counted against ``field``
    sla_basis: str = "sla"  # the ``{basis}`` of the ``sla`` time basis (no SLA clock: business)

    @property
    def qualifies_by_ratings(self) -> bool:
        """Contests on it qualify members by |S(m)|, the ratings, not |R(m)|."""
        return self.population is Population.RATED

    @property
    def is_rate(self) -> bool:
        """Rates and averages qualify at 5 resolved tickets by default, counts at 1.

        See docs/metrics.md, "Qualification".
        """
        return self.aggregate in (
            Aggregate.PCT,
            Aggregate.MEAN,
            Aggregate.PER_WORKING_DAY,
            Aggregate.NET,
        )

    def field_for(self, basis: TimeBasis) -> str | None:
        return None if self.field is None else self.field.format(basis=self._basis(basis))

    def denominator_for(self, basis: TimeBasis) -> str | None:
        if self.denominator is None:
            return None
        return self.denominator.format(basis=self._basis(basis))

    def _basis(self, basis: TimeBasis) -> str:
        return self.sla_basis if basis is TimeBasis.SLA else basis.value


H, L = Direction.HIGHER, Direction.LOWER
R, P = Population.RESOLVED, Population.RESPONDED

METRICS: tuple[MetricDef, ...] = (
    # Ticket completeness
    MetricDef("categorized_pct", "Categorized", "%", H, R, Aggregate.PCT, "categorized"),
    MetricDef("type_categorized", "With type", "#", H, R, Aggregate.COUNT, "has_type"),
    MetricDef("subtype_categorized", "With subtype", "#", H, R, Aggregate.COUNT, "has_subtype"),
    MetricDef("item_categorized", "With item", "#", H, R, Aggregate.COUNT, "has_item"),
    MetricDef("no_agreement_resolved", "No agreement", "#", L, R, Aggregate.COUNT, "no_agreement"),
    MetricDef("catchall_resolved", "Catchall", "#", L, R, Aggregate.COUNT, "catchall"),
    # SLA
    MetricDef("resolved", "Resolved", "#", H, R, Aggregate.COUNT),
    MetricDef(
        "avg_resolution_hours",
        "Avg resolution",
        "h",
        L,
        R,
        Aggregate.MEAN,
        "resolution_min_{basis}",
        scale=1 / 60,
    ),
    MetricDef(
        "avg_response_minutes", "Avg response", "min", L, P, Aggregate.MEAN, "response_min_{basis}"
    ),
    # Escalation
    MetricDef(
        "escalated_resolved", "Escalations resolved", "#", H, R, Aggregate.COUNT, "escalated"
    ),
    MetricDef(
        "resolved_without_escalation",
        "Resolved without escalation",
        "#",
        H,
        R,
        Aggregate.COUNT,
        "without_escalation",
    ),
    MetricDef(
        "pct_without_escalation",
        "Without escalation",
        "%",
        H,
        R,
        Aggregate.PCT,
        "without_escalation",
        denominator="judgeable",
    ),
    # Beyond Crewhu
    MetricDef(
        "reopened",
        "Reopened",
        "#",
        L,
        Population.REOPENED,
        Aggregate.COUNT,
        needs=frozenset({Needs.DATABASE}),
    ),
    MetricDef("avg_handle_hours", "Avg handle time", "h", L, R, Aggregate.MEAN, "actual_hours"),
    MetricDef("tickets_per_day", "Tickets per day", "#/day", H, R, Aggregate.PER_WORKING_DAY),
    MetricDef(
        "backlog",
        "Backlog",
        "#",
        L,
        Population.OPEN_OWNED,
        Aggregate.COUNT,
        needs=frozenset({Needs.DATABASE}),
    ),
    MetricDef(
        "first_contact_pct",
        "First contact",
        "%",
        H,
        R,
        Aggregate.PCT,
        "first_contact",
        needs=frozenset({Needs.NOTES}),
    ),
    # Conversation
    MetricDef(
        "avg_reply_minutes",
        "Avg reply",
        "min",
        L,
        Population.REPLIES,
        Aggregate.MEAN,
        "reply_min_{basis}",
        needs=frozenset({Needs.NOTES}),
        sla_basis=TimeBasis.BUSINESS.value,
    ),
    MetricDef(
        "responses_per_ticket",
        "Responses per ticket",
        "#",
        L,
        R,
        Aggregate.MEAN,
        "responses",
        needs=frozenset({Needs.NOTES}),
    ),
    MetricDef(
        "responses_to_close",
        "Responses to close",
        "#",
        L,
        R,
        Aggregate.MEAN,
        "responses_to_close",
        needs=frozenset({Needs.NOTES}),
    ),
    MetricDef(
        "follow_up_pct",
        "Follow-up",
        "%",
        H,
        R,
        Aggregate.PCT,
        "followed_up",
        denominator="closed_with_notes",
        needs=frozenset({Needs.NOTES}),
    ),
    # Customer satisfaction
    MetricDef(
        "csat_pct",
        "CSAT",
        "%",
        H,
        Population.RATED,
        Aggregate.PCT,
        "positive",
        needs=frozenset({Needs.RATINGS}),
    ),
    MetricDef(
        "net_csat",
        "Net CSAT",
        "%",
        H,
        Population.RATED,
        Aggregate.NET,
        "positive",
        minus="negative",
        needs=frozenset({Needs.RATINGS}),
    ),
    MetricDef(
        "csat_responses",
        "Ratings",
        "#",
        H,
        Population.RATED,
        Aggregate.COUNT,
        needs=frozenset({Needs.RATINGS}),
    ),
    MetricDef(
        "csat_negative",
        "Negative ratings",
        "#",
        L,
        Population.RATED,
        Aggregate.COUNT,
        "negative",
        needs=frozenset({Needs.RATINGS}),
    ),
    MetricDef(
        "csat_response_rate",
        "Rated",
        "%",
        H,
        R,
        Aggregate.PCT,
        "rated",
        needs=frozenset({Needs.RATINGS}),
    ),
)

METRICS_BY_KEY: dict[str, MetricDef] = {m.key: m for m in METRICS}


def supported_metrics(available: frozenset[Needs]) -> tuple[MetricDef, ...]:
    """The metrics whose needs the input meets, in definition order."""
    return tuple(m for m in METRICS if m.needs <= available)


@dataclass(frozen=True, slots=True)
class MetricRef:
    """A metric key, optionally restricted to one category: ``METRIC@CATEGORY``."""

    metric: MetricDef
    category: str | None = None

    @property
    def key(self) -> str:
        return self.metric.key if self.category is None else f"{self.metric.key}@{self.category}"


def parse_metric_ref(text: str, categories: frozenset[str]) -> MetricRef:
    """Parse ``METRIC`` or ``METRIC@CATEGORY``; raise ``ValueError`` naming what is unknown."""
    key, _, category = text.partition("@")
    metric = METRICS_BY_KEY.get(key)
    if metric is None:
        known = ", ".join(sorted(METRICS_BY_KEY))
        raise ValueError(f"unknown metric {key!r}; known metrics: {known}")
    if not category:
        if "@" in text:
            raise ValueError(f"{text!r}: a category name must follow '@'")
        return MetricRef(metric)
    if category not in categories:
        known = ", ".join(sorted(categories)) or "none configured"
        raise ValueError(f"unknown category {category!r} in {text!r}; categories: {known}")
    return MetricRef(metric, category)

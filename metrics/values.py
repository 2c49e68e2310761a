"""What standings are computed from: one member's metric values over one window.

Produced both by the SQL aggregates in ``storage`` and by the plain-Python reference in
``metrics.evaluate``; the two must agree to the last digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MemberValues:
    member: str  # member key, lower case
    resolved: Mapping[str | None, int]  # |R(m)| overall (key None) and per requested category
    values: Mapping[str, float | None]  # by MetricRef.key; null = no data (never 0)
    # |S(m)|, the ratings credited, overall and per category; filled when a ratings metric
    # is requested (its contests qualify members by it)
    rated: Mapping[str | None, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReopenEvent:
    """A ticket seen going from resolved back to open, charged to whoever had resolved it."""

    ticket_id: int
    at: datetime
    resolver_key: str
    in_scope: bool = True
    category_mask: int = 0


@dataclass(frozen=True, slots=True)
class ReplyFact:
    """A technician response that answered a customer message (``metrics.conversation``),
    as ``avg_reply_minutes`` counts it: who wrote it, when, on which ticket's scope and
    categories, and its reply time on each time basis."""

    member_key: str
    at: datetime
    reply_min_business: float
    reply_min_calendar: float
    in_scope: bool = True
    category_mask: int = 0

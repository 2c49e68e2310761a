"""SLA-risk alerts on open tickets (README "SLA-risk alerts"): which open tickets a rule
flags at a given moment, as a pure function of the tickets, the rule, the calendar and ``now``.

A rule watches tickets that are still *unanswered* (no ``responded_at``) or *unresolved*
(neither resolved nor closed), on its boards and in its category, and flags one

- ``after`` a duration since the ticket was entered, measured on the rule's clock: the
  business calendar (working minutes only: a ticket entered at 16:50 on a Friday is 10
  minutes old at 08:00 on Monday), or with ``clock = "calendar"`` plain elapsed time; or
- ``before_due``: that long before ConnectWise's own due time for the stage the rule
  watches (respond-by for ``unanswered``, resolve-by for ``unresolved``; see
  ``SlaDue``). A ticket whose due time is not known is not flagged by such a rule.

A rule on the business clock is quiet outside business hours: it flags nothing while the
help desk is closed, and the tickets it would have flagged are flagged at opening. A rule on
the calendar clock (emergencies at night) flags at any hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from metrics.calendar import BusinessCalendar
from metrics.records import TicketRecord, on_boards


class AlertWhen(StrEnum):
    UNANSWERED = "unanswered"
    UNRESOLVED = "unresolved"


class AlertClock(StrEnum):
    BUSINESS = "business"
    CALENDAR = "calendar"


class SlaStage(StrEnum):
    """The stage of ConnectWise's SLA a due time is for (its ``slaStatus`` text)."""

    RESPOND = "respond"
    PLAN = "plan"
    RESOLVE = "resolve"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_UNIT_MINUTES = {"m": 1.0, "h": 60.0}


def duration_minutes(text: str, *, day_minutes: float) -> float:
    """``"15m"``, ``"2h"``, ``"1d"`` in minutes; a day is ``day_minutes`` long (a working
    day on the business clock, 1440 on the calendar clock). Raises ``ValueError``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as '15m', '2h' or '3d'")
    amount, unit = float(match.group(1)), match.group(2)
    minutes = amount * (day_minutes if unit == "d" else _UNIT_MINUTES[unit])
    if minutes <= 0:
        raise ValueError(f"{text!r}: a duration must be more than 0")
    return minutes


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One configured ``[[alerts]]`` rule, its durations in minutes on its clock."""

    name: str
    when: AlertWhen
    clock: AlertClock = AlertClock.BUSINESS
    after_minutes: float | None = None
    before_due_minutes: float | None = None  # always elapsed minutes before the due time
    category: str | None = None
    category_bit: int = 0  # the category's bit in ``category_mask``; 0 with no category
    boards: tuple[str, ...] = ()  # names (case-insensitive) or ids as text; empty = all
    repeat_minutes: float | None = None  # elapsed minutes between repeated alerts

    def __post_init__(self) -> None:
        if (self.after_minutes is None) == (self.before_due_minutes is None):
            raise ValueError(f"alert {self.name!r}: give exactly one of after and before_due")


@dataclass(frozen=True, slots=True)
class WatchedTicket:
    """An open ticket as the alerts see it: its record and its category bits."""

    record: TicketRecord
    category_mask: int = 0


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A ticket a rule flags now: its age on the rule's clock and its due time, if known."""

    rule: AlertRule
    ticket: TicketRecord
    age_minutes: float
    due_at: datetime | None


def _watched(record: TicketRecord, when: AlertWhen) -> bool:
    if record.closed or record.resolved_at is not None:
        return False
    return when is AlertWhen.UNRESOLVED or record.responded_at is None


def due_for(record: TicketRecord, when: AlertWhen) -> datetime | None:
    """ConnectWise's due time for the stage ``when`` watches, when its SLA status says it."""
    wanted = SlaStage.RESPOND if when is AlertWhen.UNANSWERED else SlaStage.RESOLVE
    return record.sla_due_at if record.sla_stage == wanted.value else None


def age_minutes(
    record: TicketRecord, *, clock: AlertClock, now: datetime, calendar: BusinessCalendar
) -> float:
    """How long the ticket has been open at ``now`` on ``clock``."""
    entered = record.entered_at
    if entered is None or now <= entered:
        return 0.0
    if clock is AlertClock.CALENDAR:
        return (now - entered).total_seconds() / 60
    return calendar.working_minutes(entered, now)


def at_risk(
    ticket: WatchedTicket, rule: AlertRule, *, now: datetime, calendar: BusinessCalendar
) -> AtRisk | None:
    """The alert ``rule`` raises for ``ticket`` at ``now``, or None."""
    record = ticket.record
    if record.entered_at is None or not _watched(record, rule.when):
        return None
    if rule.category is not None and not ticket.category_mask & rule.category_bit:
        return None
    if not on_boards(record, rule.boards):
        return None
    if rule.clock is AlertClock.BUSINESS and not calendar.is_open(now):
        return None
    age = age_minutes(record, clock=rule.clock, now=now, calendar=calendar)
    due = due_for(record, rule.when)
    if rule.after_minutes is not None:
        flagged = age >= rule.after_minutes
    else:
        assert rule.before_due_minutes is not None
        flagged = due is not None and now >= due - timedelta(minutes=rule.before_due_minutes)
    return AtRisk(rule, record, age, due) if flagged else None


def tickets_at_risk(
    tickets: list[WatchedTicket], rule: AlertRule, *, now: datetime, calendar: BusinessCalendar
) -> list[AtRisk]:
    """Every ticket ``rule`` flags at ``now``, the oldest first (then by id)."""
    found = [r for t in tickets if (r := at_risk(t, rule, now=now, calendar=calendar))]
    return sorted(found, key=lambda r: (-r.age_minutes, r.ticket.id))


_SLA_STATUS = re.compile(
    r"^\s*(?P<stage>Respond|Plan|Resolve)\s+by\s+\w{3}\s+(?P<month>\d{1,2})/(?P<day>\d{1,2})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<half>AM|PM)\s+UTC(?P<sign>[+-])(?P<oh>\d{1,2})"
    r"(?::?(?P<om>\d{2}))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SlaDue:
    """ConnectWise's SLA due time, read from a ticket's ``slaStatus`` text.

    The ticket schema (2025.1) has no respond-by or resolve-by date field; ConnectWise
    states the current stage's due time only in ``slaStatus``, as "Respond by Mon 07/04
    1:00 PM UTC-04", "Plan by …" or "Resolve by …" (with the offset, without the year).
    The year is the one that puts the date nearest to ``near`` (the ticket's last update).
    """

    stage: SlaStage
    at: datetime

    @classmethod
    def parse(cls, text: str, *, near: datetime) -> SlaDue | None:
        """The due time ``text`` states, or None when it states none ("Resolved", "Waiting")
        or is not in that form."""
        match = _SLA_STATUS.match(text)
        if match is None:
            return None
        hour = int(match["hour"]) % 12 + (12 if match["half"].upper() == "PM" else 0)
        offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"] or 0))
        if match["sign"] == "-":
            offset = -offset
        zone = timezone(offset)
        month, day, minute = int(match["month"]), int(match["day"]), int(match["minute"])
        candidates = []
        for year in (near.year - 1, near.year, near.year + 1):
            try:
                candidates.append(datetime(year, month, day, hour, minute, tzinfo=zone))
            except ValueError:
                continue  # 29 February of a year without it, or no such date
        if not candidates:
            return None
        best = min(candidates, key=lambda c: abs((c - near).total_seconds()))
        return cls(SlaStage(match["stage"].lower()), best.astimezone(near.tzinfo))

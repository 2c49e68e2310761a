"""Waiting periods from Deskboard's own status history
(docs/metrics.md, "Status history and reopens").

A status counts as waiting when its name matches a ``waiting_statuses`` pattern or when it is
one of the board statuses ConnectWise marks ``escalationStatus == "NoEscalation"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from metrics.patterns import matches_any
from metrics.records import BoardStatus, StatusChange


@dataclass(frozen=True, slots=True)
class WaitingRule:
    patterns: tuple[str, ...] = ()
    no_escalation_names: frozenset[str] = frozenset()  # case-folded status names

    @classmethod
    def from_statuses(cls, patterns: Sequence[str], statuses: Iterable[BoardStatus]) -> WaitingRule:
        names = frozenset(
            s.name.casefold() for s in statuses if s.escalation_status == "NoEscalation"
        )
        return cls(tuple(patterns), names)

    def is_waiting(self, status: str | None) -> bool:
        if status is None:
            return False
        return status.casefold() in self.no_escalation_names or matches_any(status, self.patterns)


Interval = tuple[datetime, datetime | None]
"""A waiting period; an end of None means the ticket is still waiting."""


def waiting_intervals(changes: Sequence[StatusChange], rule: WaitingRule) -> list[Interval]:
    """The periods a ticket spent in a waiting status, from its changes in time order."""
    intervals: list[Interval] = []
    started: datetime | None = None
    for change in sorted(changes, key=lambda c: c.at):
        waiting = rule.is_waiting(change.to_status)
        if waiting and started is None:
            started = change.at
        elif not waiting and started is not None:
            intervals.append((started, change.at))
            started = None
    if started is not None:
        intervals.append((started, None))
    return intervals

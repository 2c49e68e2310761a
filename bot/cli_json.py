"""The JSON that ``deskboard standings --json`` and ``deskboard status --json`` print.

The shapes are documented in the README ("Commands"); scripts depend on them, so a key is
never renamed or dropped without saying so there. Instants are ISO 8601 with a UTC offset;
values are not rounded.

``standings --json``::

    {"contests": [{"name": str, "metric": str, "kind": str,
                   "window": {"from": ISO, "to": ISO},
                   "data_as_of": ISO | null,
                   "ranked": [{"rank": int, "member": str, "name": str,
                               "value": float, "winner": bool}],
                   "not_qualified": [{"member": str, "value": float | null,
                                      "resolved": int}]}]}

``status --json``::

    {"tickets_stored": int, "last_sync": ISO | null, "last_sync_failed": bool,
     "watermark": ISO | null, "last_error": {"at": ISO | null, "message": str} | null,
     "messages_waiting": int, "given_up": int,
     "delivery_error": {"at": ISO | null, "message": str, "key": str | null} | null}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from metrics.contests import Contest
from metrics.scores import Score
from metrics.standings import Standing, Standings
from storage.outbox import DeliveryHealth
from storage.sync_state import SyncStateView


def iso(moment: datetime | None) -> str | None:
    """An instant as ISO 8601 with its offset; a naive one is taken as UTC (as stored)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def contest_metric(contest: Contest) -> str:
    """What the contest ranks on, as configured: a metric key (``METRIC@CATEGORY`` when it is
    restricted to a category) or a score's name."""
    target = contest.target
    return target.name if isinstance(target, Score) else target.key


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def contest_json(standings: Standings, names: Mapping[str, str]) -> dict[str, Any]:
    """One contest's standings; ``names`` are display names by member key."""
    contest = standings.contest
    return {
        "name": contest.name,
        "metric": contest_metric(contest),
        "kind": contest.kind.value,
        "window": {
            "from": standings.window.start.isoformat(),
            "to": standings.window.end.isoformat(),
        },
        "data_as_of": iso(standings.data_as_of),
        "ranked": [
            {
                "rank": s.rank,
                "member": s.member,
                "name": names.get(s.member, s.member),
                "value": _number(s.value),
                "winner": s.wins,
            }
            for s in standings.ranked
        ],
        "not_qualified": [_not_qualified(s) for s in standings.not_qualified],
    }


def _not_qualified(standing: Standing) -> dict[str, Any]:
    """Who is not ranked yet, with what they have: ``ratings`` too for a ratings metric."""
    row: dict[str, Any] = {
        "member": standing.member,
        "value": _number(standing.value),
        "resolved": standing.resolved,
    }
    if standing.rated is not None:
        row["ratings"] = standing.rated
    return row


def standings_json(results: Sequence[Standings], names: Mapping[str, str]) -> dict[str, Any]:
    return {"contests": [contest_json(result, names) for result in results]}


def status_json(state: SyncStateView, tickets: int, delivery: DeliveryHealth) -> dict[str, Any]:
    """What ``deskboard status`` shows, from the same sources."""
    return {
        "tickets_stored": tickets,
        "last_sync": iso(state.last_sync_finished_at),
        "last_sync_failed": state.failing,
        "watermark": iso(state.watermark),
        "last_error": (
            {"at": iso(state.last_error_at), "message": state.last_error}
            if state.last_error
            else None
        ),
        "messages_waiting": delivery.pending,
        "given_up": delivery.dead,
        "delivery_error": (
            {
                "at": iso(delivery.last_error_at),
                "message": delivery.last_error,
                "key": delivery.last_error_key,
            }
            if delivery.last_error
            else None
        ),
    }

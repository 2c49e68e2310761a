"""Simulated tickets as event timelines, and their ConnectWise JSON at a given clock.

A ticket is its JSON as entered (``base``) plus timestamped events, each a dict of changed
fields (a value of ``None`` removes the key: ConnectWise omits nulls). Rendering at a
clock applies the events at or before it; ``_info.lastUpdated`` is the last one applied.
Fields every ticket carries with the same value (``CONSTANT_FIELDS``: billing defaults, the
location, the currency, the MSP's ticket custom fields...) are kept once and applied before
the events, so that a PATCH may still change one ticket's.
Instants are UTC epoch seconds; ``iso`` formats them the way ConnectWise does, and that
fixed format makes string order equal time order, which the condition filter relies on.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from psa.connectwise.simulator import catalog


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return int(moment.timestamp())


def from_epoch(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class TicketEvent(NamedTuple):
    at: int
    by: str
    changes: dict[str, Any]
    removes: bool  # some change is None: drop those keys after applying


class NotePlan(NamedTuple):
    """A note, expanded to ConnectWise JSON only when asked for (200,000 tickets add up)."""

    id: int
    at: int
    flag: str  # "detailDescriptionFlag" | "internalAnalysisFlag" | "resolutionFlag"
    role: str  # "member" | "contact" | "" (system)
    author: dict[str, Any] | None
    created_by: str
    text: str


# Fields every ticket of this MSP carries with the same value, kept once instead of per ticket.
CONSTANT_FIELDS: dict[str, Any] = {
    "allowAllClientsPortalView": False,
    "customerUpdatedFlag": False,
    "automaticEmailContactFlag": False,
    "automaticEmailResourceFlag": False,
    "automaticEmailCcFlag": False,
    "automaticEmailCc": "",
    "approved": True,
    "estimatedExpenseCost": 0.0,
    "estimatedExpenseRevenue": 0.0,
    "estimatedProductCost": 0.0,
    "estimatedProductRevenue": 0.0,
    "estimatedTimeCost": 0.0,
    "estimatedTimeRevenue": 0.0,
    "billingMethod": "ActualRates",
    "subBillingMethod": "ActualRates",
    "hasChildTicket": False,
    "hasMergedChildTicketFlag": False,
    "billTime": "NoDefault",
    "billExpenses": "NoDefault",
    "billProducts": "NoDefault",
    "location": {"id": 2, "name": "Chicago Office"},
    "department": {"id": 10, "identifier": "Services", "name": "Managed Services"},
    "requestForChangeFlag": False,
    "currency": {"id": 7, "symbol": "$", "currencyCode": "USD", "name": "US Dollars"},
    "escalationLevel": 0,
    "minutesBeforeWaiting": 0,
    "respondedSkippedMinutes": 0,
    "resplanSkippedMinutes": 0,
    "customFields": [
        {"id": cid, "caption": caption, "type": kind, "entryMethod": entry, "numberOfDecimals": 0}
        for cid, caption, kind, entry in catalog.TICKET_CUSTOM_FIELDS
    ],
}


@dataclass(slots=True, eq=False)
class SimulatedTicket:
    id: int
    entered: int
    entered_by: str
    base: dict[str, Any]
    events: list[TicketEvent]  # in time order
    notes: list[NotePlan] = field(default_factory=list)

    def event_times(self) -> list[int]:
        return [event.at for event in self.events]

    def applied_count(self, clock: int) -> int:
        count = 0
        for event in self.events:
            if event.at > clock:
                break
            count += 1
        return count

    def last_updated(self, clock: int) -> int:
        last = self.entered
        for event in self.events:
            if event.at > clock:
                break
            last = event.at
        return last

    def add_event(self, event: TicketEvent) -> None:
        """Insert keeping time order; events at the same instant keep arrival order."""
        i = len(self.events)
        while i > 0 and self.events[i - 1].at > event.at:
            i -= 1
        self.events.insert(i, event)

    def fields(self, keys: tuple[str, ...], clock: int) -> dict[str, Any]:
        """Only ``keys`` of the ticket's JSON at ``clock`` (it must be visible): what a
        condition needs, without rendering all of it."""
        state = {key: CONSTANT_FIELDS[key] for key in keys if key in CONSTANT_FIELDS}
        state.update((key, self.base[key]) for key in keys if key in self.base)
        last_at, last_by = self.entered, self.entered_by
        for event in self.events:
            if event.at > clock:
                break
            last_at, last_by = event.at, event.by
            for key in keys:
                if key in event.changes:
                    state[key] = event.changes[key]
        state = {key: value for key, value in state.items() if value is not None}
        state["id"] = self.id
        if "_info" in keys:
            state["_info"] = {
                "lastUpdated": iso(last_at),
                "updatedBy": last_by,
                "dateEntered": iso(self.entered),
                "enteredBy": self.entered_by,
            }
        return state

    def render(self, clock: int, base_url: str) -> dict[str, Any] | None:
        """The ticket's JSON at ``clock``, or None when it was not entered yet."""
        if self.entered > clock:
            return None
        state = dict(self.base)
        state.update(CONSTANT_FIELDS)  # before the events: a PATCH may change one
        last_at, last_by, removes = self.entered, self.entered_by, False
        for event in self.events:
            if event.at > clock:
                break
            state.update(event.changes)
            last_at, last_by = event.at, event.by
            removes = removes or event.removes
        if removes:
            state = {key: value for key, value in state.items() if value is not None}
        href = f"{base_url}/service/tickets/{self.id}"
        state["_info"] = {
            "lastUpdated": iso(last_at),
            "updatedBy": last_by,
            "dateEntered": iso(self.entered),
            "enteredBy": self.entered_by,
            "notes_href": f"{href}/notes",
            "timeentries_href": f"{base_url}/time/entries?conditions=chargeToId={self.id}",
        }
        return state


def expand_note(note: NotePlan, ticket_id: int) -> dict[str, Any]:
    """A note plan as ConnectWise returns it from ``/service/tickets/{id}/notes``."""
    stamp = iso(note.at)
    raw: dict[str, Any] = {
        "id": note.id,
        "ticketId": ticket_id,
        "text": note.text,
        "detailDescriptionFlag": note.flag == "detailDescriptionFlag",
        "internalAnalysisFlag": note.flag == "internalAnalysisFlag",
        "resolutionFlag": note.flag == "resolutionFlag",
        "issueFlag": False,
    }
    if note.role and note.author is not None:
        raw[note.role] = note.author
    raw.update(
        {
            "dateCreated": stamp,
            "createdBy": note.created_by,
            "internalFlag": note.flag == "internalAnalysisFlag",
            "externalFlag": note.flag != "internalAnalysisFlag",
            "_info": {"lastUpdated": stamp, "updatedBy": note.created_by},
        }
    )
    return raw


@dataclass(eq=False)
class SimulatedMSP:
    """A generated MSP: reference data in ConnectWise JSON shape plus ticket timelines."""

    seed: int
    start: datetime
    end: datetime
    timezone: str
    members: list[dict[str, Any]]
    boards: list[dict[str, Any]]
    statuses: dict[int, list[dict[str, Any]]]  # by board id
    types: dict[int, list[dict[str, Any]]]
    subtypes: dict[int, list[dict[str, Any]]]
    items: dict[int, list[dict[str, Any]]]
    associations: dict[int, list[dict[str, Any]]]
    teams: dict[int, list[dict[str, Any]]]
    companies: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    agreements: list[dict[str, Any]]
    priorities: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    tickets: list[SimulatedTicket]  # ascending id, which is also ascending entry time
    api_member: dict[str, Any] = field(default_factory=dict)

    def ticket(self, ticket_id: int) -> SimulatedTicket | None:
        i = bisect_left(self.tickets, ticket_id, key=lambda t: t.id)
        if i < len(self.tickets) and self.tickets[i].id == ticket_id:
            return self.tickets[i]
        return None

    def snapshot(
        self, clock: datetime | None = None, *, base_url: str = "http://simulator/apis/3.0"
    ) -> list[dict[str, Any]]:
        """Every ticket visible at ``clock`` (default: ``end``), rendered, in id order."""
        moment = to_epoch(clock or self.end)
        rendered = (ticket.render(moment, base_url) for ticket in self.tickets)
        return [raw for raw in rendered if raw is not None]

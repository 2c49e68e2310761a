"""The simulator's live state: the clock, ticket queries at that clock, and changes made
through the API (PATCH, notes, ``resolve_ticket_now``), all behind one lock.

Queries are answered from the timelines: tickets are visible when entered at or before the
clock (a prefix of the id-ordered list, because ids grow with entry time), and a
``lastUpdated > [T]`` condition is narrowed first through an index of every event time,
so an incremental sync over 200,000 tickets looks at the few that changed. Results are
cached per (conditions, clock, version) so that paging through them costs one slice each.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psa.connectwise.simulator.conditions import Condition, fields_named, matches, split_lower_bound
from psa.connectwise.simulator.model import (
    SimulatedMSP,
    SimulatedTicket,
    TicketEvent,
    expand_note,
    iso,
    to_epoch,
)
from psa.connectwise.simulator.patching import build_patch
from psa.connectwise.simulator.ticket_fields import ticket_keys

Json = dict[str, Any]
CACHED_QUERIES = 16


class SimulationState:
    def __init__(self, msp: SimulatedMSP, *, clock: datetime, base_url: str = "") -> None:
        self.msp = msp
        self.lock = threading.RLock()
        self._index_lock = threading.Lock()
        self.base_url = base_url
        self._clock = to_epoch(clock)
        self.version = 0  # bumped by every change made through the API
        self.tickets = msp.tickets
        self.ids = [ticket.id for ticket in msp.tickets]
        self.entered = [ticket.entered for ticket in msp.tickets]
        if any(a > b for a, b in zip(self.entered, self.entered[1:], strict=False)):
            raise ValueError("tickets must be entered in id order")
        self._index_times: list[int] | None = None
        self._index_positions: list[int] = []
        self._extra_events: list[tuple[int, int]] = []  # (at, position) added after indexing
        self._results: OrderedDict[tuple[str, int, int], Sequence[int]] = OrderedDict()
        self.posted_notes: list[Json] = []
        self._added_notes: dict[int, list[Json]] = {}
        self._next_note_id = 1 + max(
            (note.id for ticket in msp.tickets for note in ticket.notes), default=0
        )

    # -- clock ---------------------------------------------------------------------------
    @property
    def clock(self) -> int:
        return self._clock

    def set_clock(self, moment: datetime) -> None:
        with self.lock:
            self._clock = to_epoch(moment)

    # -- reading -------------------------------------------------------------------------
    def position(self, ticket_id: int) -> int | None:
        """Where the ticket is in the id-ordered list, if it is visible at the clock."""
        i = bisect_left(self.ids, ticket_id)
        if i < len(self.ids) and self.ids[i] == ticket_id and self.entered[i] <= self._clock:
            return i
        return None

    def render(self, position: int, clock: int | None = None) -> Json:
        moment = self._clock if clock is None else clock
        rendered = self.tickets[position].render(moment, self.base_url)
        if rendered is None:
            raise LookupError(f"ticket {self.ids[position]} is not visible at {iso(moment)}")
        return rendered

    def query(self, condition: Condition | None, text: str) -> tuple[Sequence[int], int]:
        """Positions of the visible tickets matching ``condition`` in id order, and the clock
        they were evaluated at (render the page at that same clock). Cached by ``text``."""
        with self.lock:
            clock, version = self._clock, self.version
            key = (text, clock, version)
            cached = self._results.get(key)
            if cached is not None:
                self._results.move_to_end(key)
                return cached, clock
        result, _ = self._scan(condition, clock, after_id=0, limit=None)
        with self.lock:
            self._results[key] = result
            while len(self._results) > CACHED_QUERIES:
                self._results.popitem(last=False)
        return result, clock

    def query_after(
        self, condition: Condition | None, *, after_id: int, limit: int
    ) -> tuple[Sequence[int], bool, int]:
        """Forward-only paging: up to ``limit`` matches with an id above ``after_id``,
        whether more follow, and the clock. Looks no further than it must, so a sync that
        pages while the clock runs costs one page of work per page."""
        clock = self._clock
        positions, more = self._scan(condition, clock, after_id=after_id, limit=limit)
        return positions, more, clock

    def _scan(
        self, condition: Condition | None, clock: int, *, after_id: int, limit: int | None
    ) -> tuple[Sequence[int], bool]:
        bound, rest = (None, condition)
        if condition is not None:
            bound, rest = split_lower_bound(condition, "lastUpdated")
            if bound is not None:
                self._event_index()  # before taking the lock: building it takes a while
        with self.lock:
            visible = bisect_right(self.entered, clock)
            first = bisect_right(self.ids, after_id)
            candidates: Sequence[int]
            if bound is None:
                candidates = range(first, visible)
            else:
                changed = self._changed_since(bound, clock, visible)
                candidates = changed[bisect_left(changed, first) :]
        if rest is None and limit is None:
            return candidates, False  # a range when nothing narrowed it: no list of 200,000
        keys = ticket_keys(fields_named(rest)) if rest is not None else ()
        tickets = self.tickets
        found: list[int] = []
        for position in candidates:
            if rest is None or matches(rest, tickets[position].fields(keys, clock)):
                if limit is not None and len(found) == limit:
                    return found, True
                found.append(position)
        return found, False

    def _changed_since(self, bound: tuple[str, bool], clock: int, visible: int) -> Sequence[int]:
        """The visible tickets whose ``lastUpdated`` at ``clock`` is after T (or at T when
        ``inclusive``): those with an event in (T, clock], found through the index."""
        after, inclusive = bound
        since = to_epoch(datetime.fromisoformat(after.replace("Z", "+00:00")))
        if not self.entered or since < self.entered[0]:
            return range(visible)  # every ticket was entered after T
        times = self._index_times  # built by ``_scan`` before it took the lock
        assert times is not None
        low = (bisect_left if inclusive else bisect_right)(times, since)
        high = bisect_right(times, clock)
        found = set(self._index_positions[low:high])
        found.update(position for at, position in self._extra_events if since <= at <= clock)
        floor = since if inclusive else since + 1
        tickets = self.tickets
        # An API change may have dropped an indexed event: check each candidate exactly.
        return sorted(p for p in found if p < visible and tickets[p].last_updated(clock) >= floor)

    def _event_index(self) -> list[int]:
        self.build_event_index()
        assert self._index_times is not None
        return self._index_times

    def build_event_index(self) -> None:
        """Sort every event time once (about a second for 200,000 tickets), outside the
        state lock, so the server can do it in the background while it answers requests."""
        with self._index_lock:
            if self._index_times is not None:
                return
            with self.lock:
                recorded = len(self._extra_events)
            pairs = [
                (at, position)
                for position, ticket in enumerate(self.tickets)
                for at in (ticket.entered, *ticket.event_times())
            ]
            pairs.sort()
            with self.lock:
                self._index_positions = [position for _, position in pairs]
                self._index_times = [at for at, _ in pairs]
                del self._extra_events[:recorded]  # now in the index; later ones stay extra

    def changed_between(self, since: int, clock: int) -> list[int]:
        """Positions of the tickets entered or changed in (``since``, ``clock``]."""
        if clock <= since:
            return []
        self._event_index()  # before taking the lock, as in ``_scan``
        with self.lock:
            visible = bisect_right(self.entered, clock)
            return list(self._changed_since((iso(since), False), clock, visible))

    def notes(self, position: int) -> list[Json]:
        ticket = self.tickets[position]
        clock = self._clock
        notes = [expand_note(note, ticket.id) for note in ticket.notes if note.at <= clock]
        added = self._added_notes.get(ticket.id, [])
        return notes + [note for note in added if note["dateCreated"] <= iso(clock)]

    # -- changing ------------------------------------------------------------------------
    def _apply(self, position: int, changes: Json, *, by: str, rewrite_future: bool) -> None:
        """Record ``changes`` as an event at the clock. ``rewrite_future`` drops the
        ticket's later events (its workflow took another turn); otherwise later events
        merely stop changing the fields changed here."""
        ticket: SimulatedTicket = self.tickets[position]
        clock = self._clock
        at = max(clock, ticket.entered)
        events: list[TicketEvent] = []
        for event in ticket.events:
            if event.at <= clock:
                events.append(event)
            elif not rewrite_future:
                rest = {k: v for k, v in event.changes.items() if k not in changes}
                if rest:
                    events.append(TicketEvent(event.at, event.by, rest, None in rest.values()))
        new = TicketEvent(at, by, changes, None in changes.values())
        events.insert(bisect_right([event.at for event in events], at), new)
        ticket.events = events  # one assignment: concurrent renders see old or new, whole
        self._extra_events.append((at, position))
        self.version += 1

    def patch(self, position: int, ops: object) -> Json:
        """Apply a JSON-patch array at the clock; raises ``patching.Rejected``."""
        with self.lock:
            state = self.render(position)
            actor = self.msp.api_member["identifier"]
            changes = build_patch(ops, state=state, msp=self.msp, at=iso(self._clock), by=actor)
            self._apply(position, changes, by=actor, rewrite_future="status" in changes)
            return self.render(position)

    def resolve_now(self, ticket_id: int, *, by: str) -> None:
        """Resolve the ticket at the clock, as if ``by`` did it now (its later, generated
        events are dropped)."""
        with self.lock:
            position = self.position(ticket_id)
            if position is None:
                raise LookupError(f"ticket {ticket_id} is not visible at {iso(self._clock)}")
            state = self.render(position)
            board_id = state["board"]["id"]
            resolved = next(s for s in self.msp.statuses[board_id] if s["name"] == ">Resolved")
            at = iso(self._clock)
            changes: Json = {
                "status": {"id": resolved["id"], "name": resolved["name"]},
                "dateResolved": at,
                "resolvedBy": by,
                "slaStatus": "Resolved",
                "resources": state.get("resources") or by,
            }
            if "dateResponded" not in state:
                changes.update(dateResponded=at, respondedBy=by)
            if state.get("closedFlag") is True:
                changes.update(closedFlag=False, closedDate=None, closedBy=None)
            self._apply(position, changes, by=by, rewrite_future=True)

    def add_note(self, position: int, body: Json) -> Json:
        with self.lock:
            ticket_id = self.ids[position]
            member = self.msp.api_member
            stamp = iso(self._clock)
            note: Json = {
                "id": self._next_note_id,
                "ticketId": ticket_id,
                "text": body["text"],
                "detailDescriptionFlag": body.get("detailDescriptionFlag") is True,
                "internalAnalysisFlag": body.get("internalAnalysisFlag") is True,
                "resolutionFlag": body.get("resolutionFlag") is True,
                "issueFlag": False,
                "member": member,
                "dateCreated": stamp,
                "createdBy": member["identifier"],
                "internalFlag": body.get("internalAnalysisFlag") is True,
                "externalFlag": body.get("internalAnalysisFlag") is not True,
                "_info": {"lastUpdated": stamp, "updatedBy": member["identifier"]},
            }
            self._next_note_id += 1
            self._added_notes.setdefault(ticket_id, []).append(note)
            self.posted_notes.append({"ticket_id": ticket_id, "body": body, "note": note})
            return note

"""The timeline of one ticket after entry: response, hand-offs, waiting, resolution, close,
reopen. Each step appends a ``TicketEvent`` holding the fields it changes.

The choices and their rates (README "Simulator"): the dispatcher answers 22% of Service
Desk tickets and hands 90% of those to a technician; 7% of Service Desk and 5% of Alerts
tickets move to the Escalations board; 3% of Service Desk tickets go to a colleague; 15%
wait on the client or a vendor; 10% drag on for weeks; 3.5% are reopened; 25% of alerts
are cleared in one go. Response and work times are lognormal in business time.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from psa.connectwise.simulator import catalog
from psa.connectwise.simulator.business_hours import BusinessHours
from psa.connectwise.simulator.model import NotePlan, TicketEvent, iso
from psa.connectwise.simulator.reference import Reference


class TicketWriter(Protocol):
    """What a ticket's life needs from the writer living it (``ticket_writer.TicketWriter``)."""

    rng: random.Random
    hours: BusinessHours
    ref: Reference
    departure: int
    role_of: dict[str, str]

    def pick(self, weighted: Any) -> Any: ...
    def lognormal(self, median: float, sigma: float) -> float: ...
    def spell(self, identifier: str) -> str: ...
    def technician(self, role: str, at: int, *, other_than: str = "") -> str: ...
    def sla_status(self, word: str, deadline: int) -> str: ...

    on_call_minutes: float | None

    def note_text(self, kind: str) -> str: ...
    def note(self, story: Story, at: int, flag: str, author: str, text: str) -> None: ...


Json = dict[str, Any]
MINUTE, HOUR, DAY = 60, 3600, 86400
BUSINESS_DAY = 9 * HOUR
DISPATCH = catalog.TECHNICIANS[0][0]
INACTIVE = catalog.INACTIVE_TECHNICIAN[0]

FOLLOW_UP_EVERY = 3  # one ticket in three closed after a wait is followed up first
FOLLOW_UP_TEXT = "Checking back: is everything still working as it should?"
RESPONSE_MEDIAN_MINUTES = {1: 6.0, 2: 12.0, 3: 20.0, 4: 35.0, 5: 45.0}
WORK_MEDIAN_HOURS = {"Service Desk": 2.5, "Alerts": 0.6, "Escalations": 6.0, "Projects": 40.0}
LOGGED_MEDIAN_HOURS = {"Service Desk": 0.75, "Alerts": 0.3, "Escalations": 2.0, "Projects": 5.0}
RESPONDER_ROLE = {"Service Desk": "tier1", "Alerts": "noc", "Escalations": "tier2"}
DISPATCH_SHARE = 0.22  # of Service Desk tickets, answered by the dispatcher ...
DISPATCH_HANDS_ON = 0.9  # ... who hands most of them to a technician
TO_ESCALATIONS = {"Service Desk": 0.07, "Alerts": 0.05}  # moved to the Escalations board
TO_COLLEAGUE = 0.03  # a Service Desk technician hands the ticket to a colleague
AUTO_CLEARED_ALERTS = 0.25  # answered and resolved in one go
ONSITE_SHARE = 0.08  # Service Desk tickets scheduled for a visit
WAITING_SHARE = 0.21  # of tickets outside the Alerts board
BACKLOG_SHARE = 0.28  # of tickets outside Alerts: they drag on for weeks
BACKLOG_MEDIAN_DAYS = 40.0  # business days
REOPEN_SHARE = 0.045  # of resolved tickets outside Alerts
PRIORITY_RAISED = 0.03
CLOSED_AT_ONCE = 0.5  # resolved straight to >Closed; the others close two business days later
NO_TIME_LOGGED = 0.07
EXTRA_TECH_NOTES = ((0, 1, 2, 3), (0.45, 0.75, 0.9, 1.0))  # choices, cumulative weights
LEGACY_CLOSE = 0.02  # of those closed at once: no dateResolved/resolvedBy (older API servers)


class Story:
    """Working state of one ticket while its life is written."""

    def __init__(self, ticket_id: int, entered: int, board: str) -> None:
        self.id = ticket_id
        self.entered = entered
        self.board = board
        self.events: list[TicketEvent] = []
        self.notes: list[NotePlan] = []
        self.people: list[str] = []

    def event(self, at: int, by: str, changes: Json) -> None:
        removes = None in changes.values()
        self.events.append(TicketEvent(max(at, self.entered + 1), by, changes, removes))

    def involve(self, identifier: str) -> str:
        """The ``resources`` string once ``identifier`` works on the ticket."""
        if identifier != DISPATCH and identifier not in self.people:
            self.people.append(identifier)
        return ", ".join(self.people) or identifier


class Life:
    """Writes the events of one ``Story``; see the module docstring for the rates."""

    def __init__(self, writer: TicketWriter, story: Story, base: Json, priority: int) -> None:
        self.w = writer
        self.rng = writer.rng
        self.hours = writer.hours
        self.story = story
        self.base = base
        self.priority = priority
        self.targets = writer.ref.sla_targets[priority]
        self.no_sla = base["sla"]["name"] == "No SLA"
        self.planned = story.entered  # when the resolution plan was made (SLA clock phase 3)
        self.respond_minutes = 0
        self.resplan_minutes = 0
        self.resolve_minutes = 0
        self.waited = 0  # business minutes waiting since ``planned``
        self.logged = 0.0

    def _status(self, name: str) -> Json:
        return self.w.ref.status_refs[(self.story.board, name)]

    def _member(self, identifier: str) -> Json:
        return self.w.ref.member_refs[identifier]

    def _business_minutes(self, start: int, end: int) -> int:
        return 0 if self.no_sla else self.hours.between(start, end) // MINUTE

    def live(self, *, at_response: Json, at_resolution: Json) -> None:
        rng, story = self.rng, self.story
        auto = story.board == "Alerts" and rng.random() < AUTO_CLEARED_ALERTS
        responder, responded = self._respond()
        worker, cursor = self._take_on(responder, responded, at_response, auto=auto)
        work = self._work_needed(auto)
        hand_off = TO_ESCALATIONS.get(story.board, 0.0)
        hand_off += TO_COLLEAGUE if story.board == "Service Desk" else 0.0
        if not auto and responder != DISPATCH and rng.random() < hand_off:
            worker, cursor, work = self._hand_off(worker, cursor, work)
        resolved = self._work(worker, cursor, work, waits=not auto and story.board != "Alerts")
        if story.board == "Service Desk" and rng.random() < PRIORITY_RAISED and self.priority > 2:
            raised = self.hours.add(responded, 15 * MINUTE)
            if raised < resolved:  # the client chased it: a field edit mid-life
                story.event(raised, worker, {"priority": self.w.ref.priority_refs[2]})
        if worker == INACTIVE and resolved > self.w.departure:
            successor = self.w.technician("tier1", resolved, other_than=INACTIVE)
            changes = {"owner": self._member(successor), "resources": story.involve(successor)}
            story.event(self.w.departure, DISPATCH, changes)
            worker = successor
        reopen = not auto and story.board != "Alerts" and rng.random() < REOPEN_SHARE
        self._resolve(worker, resolved, at_resolution, final=not reopen)
        if reopen:
            self._reopen(worker, resolved)

    def _respond(self) -> tuple[str, int]:
        rng, story, hours = self.rng, self.story, self.hours
        if story.board == "Service Desk" and rng.random() < DISPATCH_SHARE:
            responder = DISPATCH
        elif story.board == "Projects":
            responder = self.w.technician("projects" if rng.random() < 0.7 else "tier2", 0)
        else:
            role = RESPONDER_ROLE[story.board]
            if role == "noc" and rng.random() < 0.2:
                role = "tier1"
            responder = self.w.technician(role, story.entered)
        median = RESPONSE_MEDIAN_MINUTES[self.priority] * (0.6 if responder == DISPATCH else 1.0)
        delay = min(self.w.lognormal(median, 0.9), 3 * 9 * 60.0) * MINUTE
        if self.priority == 1 and not hours.is_open(story.entered):
            if self.w.on_call_minutes is not None:  # the night emergencies: the on-call wakes up
                delay = self.w.lognormal(self.w.on_call_minutes, 0.5) * MINUTE
            responded = story.entered + int(delay)  # on call
        else:
            responded = hours.add(story.entered, delay)
        responded = max(responded, story.entered + MINUTE) + rng.randrange(MINUTE)
        if responder == INACTIVE and responded > self.w.departure:
            responder = self.w.technician("tier1", responded, other_than=INACTIVE)
        return responder, responded

    def _take_on(
        self, responder: str, responded: int, at_response: Json, *, auto: bool
    ) -> tuple[str, int]:
        """The response event; returns who works the ticket and when work starts."""
        rng, story, w = self.rng, self.story, self.w
        handed = responder == DISPATCH and rng.random() < DISPATCH_HANDS_ON
        worker = w.technician("tier1", responded) if handed else responder
        onsite = not handed and self.base["serviceLocation"]["name"] == "On-Site"
        respond_minutes = self._business_minutes(story.entered, responded)
        self.respond_minutes = respond_minutes
        status = "Assigned" if handed else "Scheduled" if onsite else "In Progress"
        changes: Json = {
            "status": self._status(status),
            "dateResponded": iso(responded),
            "respondedBy": w.spell(responder),
            "owner": self._member(worker),
            "resources": story.involve(worker),
            "respondMinutes": respond_minutes,
            "isInSla": respond_minutes <= self.targets[0] * 60,
        }
        if not self.no_sla:
            deadline = self.hours.add(story.entered, self.targets[2] * HOUR)
            changes["slaStatus"] = w.sla_status("Resolve", deadline)
        self.planned = responded
        if not handed:
            changes.update(dateResplan=iso(responded), resplanBy=changes["respondedBy"])
            changes["resPlanMinutes"] = 0
        changes.update(at_response)
        story.event(responded, responder, changes)
        if not auto and rng.random() < 0.7:
            # the first response, which the customer sees (the conversation metrics' reply)
            w.note(story, responded, "detailDescriptionFlag", responder, w.note_text("internal"))
        if handed:
            planned = self.hours.add(responded, w.lognormal(40.0, 0.8) * MINUTE)
            self.planned = planned
            self.resplan_minutes = self._business_minutes(responded, planned)
            plan = {
                "status": self._status("In Progress"),
                "dateResplan": iso(planned),
                "resplanBy": w.spell(worker),
                "resPlanMinutes": self.resplan_minutes,
            }
            story.event(planned, worker, plan)
            return worker, planned
        if onsite:
            visit = self.hours.add(responded, w.lognormal(BUSINESS_DAY, 0.6))
            story.event(visit, worker, {"status": self._status("In Progress")})
            return worker, visit
        return worker, responded

    def _work_needed(self, auto: bool) -> float:
        """Business seconds of work the ticket needs."""
        if auto:
            return self.w.lognormal(10.0, 0.8) * MINUTE
        if self.story.board != "Alerts" and self.rng.random() < BACKLOG_SHARE:
            work = self.w.lognormal(BACKLOG_MEDIAN_DAYS, 0.7) * BUSINESS_DAY
        else:
            work = self.w.lognormal(WORK_MEDIAN_HOURS[self.story.board], 1.0) * HOUR
        return min(work, 250.0 * BUSINESS_DAY)

    def _hand_off(self, worker: str, cursor: int, work: float) -> tuple[str, int, float]:
        """To the Escalations board (Tier 2) or, less often, to a colleague."""
        rng, story, w = self.rng, self.story, self.w
        escalate = rng.random() < TO_ESCALATIONS[story.board] / (
            TO_ESCALATIONS[story.board] + (TO_COLLEAGUE if story.board == "Service Desk" else 0)
        )
        handed_at = self.hours.add(cursor, work * rng.uniform(0.2, 0.5))
        successor = w.technician("tier2" if escalate else "tier1", handed_at, other_than=worker)
        changes: Json = {}
        if escalate:
            story.board = "Escalations"
            changes["board"] = w.ref.board_refs["Escalations"]
            changes["team"] = w.ref.team_refs["Escalations"]
            w.note(story, handed_at, "internalAnalysisFlag", worker, w.note_text("escalate"))
        changes["status"] = self._status("Assigned")
        changes["owner"] = self._member(successor)
        changes["resources"] = story.involve(successor)
        story.event(handed_at, worker, changes)
        picked_up = self.hours.add(handed_at, w.lognormal(45.0, 0.8) * MINUTE)
        story.event(picked_up, successor, {"status": self._status("In Progress")})
        self.logged += 0.25
        remaining = w.lognormal(WORK_MEDIAN_HOURS["Escalations"], 0.9) * HOUR if escalate else work
        return successor, picked_up, remaining * (1.0 if escalate else 0.6)

    def _work(self, worker: str, cursor: int, work: float, *, waits: bool) -> int:
        """Work (and perhaps wait) until resolution; returns the resolution instant."""
        rng, story, w = self.rng, self.story, self.w
        if waits and rng.random() < WAITING_SHARE:
            share = rng.uniform(0.2, 0.7)
            paused = self.hours.add(cursor, work * share)
            on_client = rng.random() < 0.7
            pause = min(max(w.lognormal(1.2 * DAY, 0.8), 2.0 * HOUR), 15.0 * DAY)
            resumed = paused + int(pause)
            self.waited = self.hours.between(paused, resumed) // MINUTE
            waiting = "Waiting on Client" if on_client else "Waiting on Vendor"
            story.event(paused, worker, {"status": self._status(waiting)})
            resume = {"status": self._status("In Progress"), "minutesWaiting": self.waited}
            story.event(resumed, worker, resume)
            if on_client and story.board != "Alerts" and "contact" in self.base:
                author = f"contact:{self.base['contact']['id']}"
                w.note(story, resumed, "detailDescriptionFlag", author, w.note_text("customer"))
            cursor, work = resumed, work * (1 - share)
        resolved = self.hours.add(cursor, work) + rng.randrange(MINUTE)
        for _ in range(w.pick(EXTRA_TECH_NOTES)):
            at = rng.randint(min(cursor, resolved), resolved)
            w.note(story, at, "internalAnalysisFlag", worker, w.note_text("internal"))
        return resolved

    def _resolve(self, resolver: str, at: int, at_resolution: Json, *, final: bool) -> None:
        rng, story, w = self.rng, self.story, self.w
        close_now = final and rng.random() < CLOSED_AT_ONCE
        self.resolve_minutes += max(0, self._business_minutes(self.planned, at) - self.waited)
        self.waited = 0
        changes: Json = {"status": self._status(">Closed" if close_now else ">Resolved")}
        if not (close_now and rng.random() < LEGACY_CLOSE):
            changes.update(dateResolved=iso(at), resolvedBy=w.spell(resolver))
        changes["resolveMinutes"] = self.resolve_minutes
        if rng.random() >= NO_TIME_LOGGED:
            median = LOGGED_MEDIAN_HOURS[story.board]
            self.logged += min(max(w.lognormal(median, 0.8), 0.1), 6.0)
            changes["actualHours"] = round(min(self.logged, 6.0), 2)
        total = self.respond_minutes + self.resplan_minutes + self.resolve_minutes
        changes["isInSla"] = total <= self.targets[2] * 60
        changes["slaStatus"] = "Resolved"
        changes["resources"] = story.involve(resolver)
        changes.update(at_resolution)
        if close_now:
            changes.update(closedFlag=True, closedDate=iso(at), closedBy=w.spell(resolver))
        story.event(at, resolver, changes)
        kind = "resolution_alert" if story.board == "Alerts" else "resolution"
        w.note(story, at, "resolutionFlag", resolver, w.note_text(kind))
        if final and not close_now:
            closed = self.hours.add(at, 2 * BUSINESS_DAY) + rng.randrange(HOUR)
            if story.id % FOLLOW_UP_EVERY == 0 and story.board != "Alerts":
                # checking back with the customer before closing (follow_up_pct); chosen by
                # id, not by a draw, so that every other ticket stays as the seed made it
                checked = self.hours.add(at, BUSINESS_DAY)
                w.note(story, checked, "detailDescriptionFlag", resolver, FOLLOW_UP_TEXT)
            closer = DISPATCH if resolver == INACTIVE and closed >= w.departure else resolver
            close = {
                "status": self._status(">Closed"),
                "closedFlag": True,
                "closedDate": iso(closed),
                "closedBy": w.spell(closer),
            }
            story.event(closed, closer, close)

    def _reopen(self, resolver: str, resolved: int) -> None:
        """The client writes back: the resolution is undone, then done again, perhaps by
        someone else."""
        rng, story, w = self.rng, self.story, self.w
        delay = min(max(w.lognormal(DAY, 0.8), 2.0 * HOUR), 6.0 * DAY)
        reopened = resolved + int(delay)
        cleared: Json = {
            "status": self._status("Re-opened"),
            "dateResolved": None,
            "resolvedBy": None,
            "closedFlag": False,
            "closedDate": None,
            "closedBy": None,
        }
        story.event(reopened, "Portal", cleared)
        if "contact" in self.base:
            author = f"contact:{self.base['contact']['id']}"
            w.note(story, reopened, "detailDescriptionFlag", author, w.note_text("customer"))
        departed = resolver == INACTIVE and reopened >= w.departure
        if rng.random() < 0.4 or departed:
            role = w.role_of.get(resolver, "tier1")
            role = "tier1" if role == "dispatch" else role
            resolver = w.technician(role, reopened, other_than=resolver)
        again = self.hours.add(reopened, w.lognormal(1.5, 0.8) * HOUR) + rng.randrange(MINUTE)
        self.planned = reopened  # the SLA clock runs again from the reopen
        self._resolve(resolver, again, {}, final=True)

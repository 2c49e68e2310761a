"""A ticket as it is entered, then handed to ``lifecycle.Life`` for the rest of its life.

Entry decides the board (Alerts after hours, mostly Service Desk in hours), the source,
company (Catchall for some unknown senders), agreement, priority, category and a summary
that fits it (a few hostile ones), the contact and the SLA. ``TicketWriter`` also holds the
random draws every part of the generator shares, so one seeded ``Random`` drives them all
in a fixed order.

The site address, country and contact details come from the company and contact; project
tickets carry a budget (``budgetHours``), a planned start, a due date (``requiredDate``) and
their ``duration`` in working days, and service requests (priority 5) a due date. Those
draws come from a second seeded ``Random`` (``details``), so the main sequence, and with it
every ticket's life, is what it was before they were added.
"""

from __future__ import annotations

import math
import random
import uuid
from bisect import bisect_right
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from psa.connectwise.simulator import catalog
from psa.connectwise.simulator.business_hours import BusinessHours
from psa.connectwise.simulator.lifecycle import ONSITE_SHARE, Life, Story
from psa.connectwise.simulator.model import NotePlan, SimulatedTicket, iso
from psa.connectwise.simulator.reference import Reference, contact_email, contact_phone

Json = dict[str, Any]
Weighted = tuple[tuple[Any, ...], tuple[float, ...]]

DISPATCH = catalog.TECHNICIANS[0][0]
INACTIVE = catalog.INACTIVE_TECHNICIAN[0]
HOUR = 3600
DAY = 86400
PROJECT_BUDGETS = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 40.0)
SERVICE_LOCATIONS = {name: {"id": i, "name": name} for i, name in catalog.SERVICE_LOCATIONS}
SERVICE_REQUEST_DAYS = 5  # a service request is due this many days after entry


def _weighted(*pairs: tuple[Any, float]) -> Weighted:
    """Choices and their cumulative weights, for ``TicketWriter.pick``."""
    return tuple(p[0] for p in pairs), tuple(accumulate(p[1] for p in pairs))


BOARD_IN_HOURS = _weighted(
    ("Service Desk", 0.74), ("Alerts", 0.19), ("Escalations", 0.04), ("Projects", 0.03)
)
BOARD_AFTER_HOURS = _weighted(("Alerts", 0.85), ("Service Desk", 0.15))
SOURCES = {
    "Service Desk": _weighted(("Email", 0.42), ("Phone", 0.33), ("Portal", 0.25)),
    "Alerts": _weighted(("Automate", 0.7), ("Monitoring", 0.3)),
    "Escalations": _weighted(("Phone", 0.6), ("Email", 0.4)),
    "Projects": _weighted(("Internal", 0.6), ("Email", 0.4)),
}
PRIORITIES = {
    "Service Desk": _weighted((1, 0.02), (2, 0.08), (3, 0.55), (4, 0.2), (5, 0.15)),
    "Alerts": _weighted((2, 0.1), (3, 0.5), (4, 0.4)),
    "Escalations": _weighted((1, 0.08), (2, 0.3), (3, 0.5), (4, 0.12)),
    "Projects": _weighted((4, 0.4), (5, 0.6)),
}
# Where a Service Desk ticket gets its type/subtype/item: entered with it, at triage, at the end.
CATEGORIZED_WHEN = _weighted(("entry", 0.35), ("response", 0.45), ("resolution", 0.20))
HOSTILE_SHARE = 0.015  # of Service Desk tickets
CATCHALL_SHARE = {"Email": 0.075, "Portal": 0.075, "Phone": 0.02}
FORGOTTEN_AGREEMENT = 0.01
MISSPELLED_IDENTIFIER = 0.07  # respondedBy/resolvedBy/closedBy in another letter case
ENTERED_BY = {
    "Email": "EmailConnector",
    "Portal": "Portal",
    "Phone": DISPATCH,
    "Automate": "Automate",
    "Monitoring": "Automate",
    "Internal": "COBrien",
}


class TicketWriter:
    def __init__(
        self,
        rng: random.Random,
        reference: Reference,
        hours: BusinessHours,
        *,
        departure: int,
        details: random.Random,
    ) -> None:
        self.rng = rng
        self.details = details
        self.ref = reference
        self.hours = hours
        self.departure = departure
        self.next_note_id = 900_001
        # the median minutes the on-call technician takes to answer a night emergency; None:
        # as quick as a day's Priority 1 (``generate`` sets it for its night emergencies)
        self.on_call_minutes: float | None = None
        self.companies = [c for c in reference.company_refs if c != catalog.CATCHALL[0]]
        self.pools: dict[tuple[str, bool], tuple[str, ...]] = {}
        for role, members in reference.roles.items():
            active = tuple(m for m in members if m != INACTIVE)
            self.pools[(role, False)] = active
            self.pools[(role, True)] = (*active, INACTIVE) if role == "tier1" else active
        self.categories = {
            board: list(entries.items()) for board, entries in catalog.CATEGORIES.items()
        }
        self.company_choices = (
            tuple(self.companies),
            tuple(accumulate(reference.company_weights)),
        )
        self.company_json = {c["identifier"]: c for c in reference.companies}
        self.contacts = {c["id"]: c for c in reference.contacts}
        self.role_of = {m: role for role, ms in reference.roles.items() for m in ms}

    # -- small draws ---------------------------------------------------------------------
    def pick(self, weighted: Weighted) -> Any:
        choices, cumulative = weighted
        return choices[bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def lognormal(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def spell(self, identifier: str) -> str:
        """Identifiers reach tickets in varying letter case (JSmith, jsmith, JSMITH)."""
        draw = self.rng.random()
        if draw < MISSPELLED_IDENTIFIER * 0.85:
            return identifier.lower()
        if draw < MISSPELLED_IDENTIFIER:
            return identifier.upper()
        return identifier

    def technician(self, role: str, at: int, *, other_than: str = "") -> str:
        """A member of ``role``; the inactive technician only while still employed (he left
        in the first third of the period, ten days after his last new ticket)."""
        employed = role == "tier1" and at < self.departure - 10 * 86400
        pool = self.pools[(role, employed)]
        if other_than in pool and len(pool) > 1:
            pool = tuple(m for m in pool if m != other_than)
        return pool[int(self.rng.random() * len(pool))]

    def sla_status(self, word: str, deadline: int) -> str:
        """ConnectWise's wording, e.g. "Respond by Mon 07/04 1:00 PM UTC-05"."""
        local = datetime.fromtimestamp(deadline, self.hours.timezone)
        offset = local.utcoffset()
        hours = int(offset.total_seconds() // 3600) if offset is not None else 0
        clock = f"{local.hour % 12 or 12}:{local:%M %p}"
        return f"{word} by {local:%a %m/%d} {clock} UTC{hours:+03d}"

    def note_text(self, kind: str) -> str:
        return self.rng.choice(catalog.NOTE_TEXTS[kind])

    def note(self, story: Story, at: int, flag: str, author: str, text: str) -> None:
        """``author``: a member identifier, "contact:<id>" for the client, "" for the RMM."""
        role, ref, created_by = "", None, "Automate"
        if author.startswith("contact:"):
            contact_id = int(author.removeprefix("contact:"))
            contact = self.contacts[contact_id]
            role, created_by = "contact", "Portal"
            ref = {"id": contact_id, "name": f"{contact['firstName']} {contact['lastName']}"}
        elif author:
            role, ref, created_by = "member", self.ref.member_refs[author], author
        story.notes.append(NotePlan(self.next_note_id, at, flag, role, ref, created_by, text))
        self.next_note_id += 1

    # -- the ticket as entered -----------------------------------------------------------
    def _company(self, source: str) -> str:
        if self.rng.random() < CATCHALL_SHARE.get(source, 0.0):
            return catalog.CATCHALL[0]
        return self.pick(self.company_choices)

    def _category(self, board: str) -> tuple[tuple[str, str, str], str]:
        if board == "Service Desk" and self.rng.random() < HOSTILE_SHARE:
            *triple, summary = self.rng.choice(catalog.HOSTILE_SUMMARIES)
            return (triple[0], triple[1], triple[2]), summary
        (type_name, subtype), (items, summaries) = self.rng.choice(self.categories[board])
        return (type_name, subtype, self.rng.choice(items)), self.rng.choice(summaries)

    def _kept_category(self, triple: tuple[str, str, str]) -> tuple[str | None, ...]:
        """What categorization the ticket ends with: 5% none, 11% partial, the rest full."""
        draw = self.rng.random()
        if draw < 0.05:
            return (None, None, None)
        if draw < 0.13:
            return (triple[0], triple[1], None)
        if draw < 0.16:
            return (triple[0], None, None)
        return triple

    def _category_fields(self, board: str, kept: tuple[str | None, ...]) -> Json:
        fields: Json = {}
        for kind, name in zip(("type", "subType", "item"), kept, strict=True):
            if name is not None:
                fields[kind] = self.ref.category_refs[(board, kind, name)]
        return fields

    def _base(self, story: Story, source: str, company: str, priority: int, summary: str) -> Json:
        rng, ref = self.rng, self.ref
        company_ref = ref.company_refs[company]
        company_json = self.company_json[company]
        sla = "No SLA" if story.board in ("Alerts", "Projects") else "Standard SLA"
        if sla != "No SLA" and ref.agreement_levels.get(company) == "Gold":
            sla = "Gold SLA"
        targets = ref.sla_targets[priority]
        contact = (
            None
            if source in ("Automate", "Monitoring")
            else rng.choice(ref.contacts_by_company[company])
        )
        name = f"{contact['firstName']} {contact['lastName']}" if contact else ""
        device = f"{company.upper()[:6]}-{rng.choice(catalog.DEVICE_SUFFIXES)}"
        base: Json = {
            "id": story.id,
            "summary": summary.format(contact=name or "new user", device=device)[:100],
            "recordType": "ServiceTicket",
            "board": ref.board_refs[story.board],
            "status": ref.status_refs[(story.board, "New")],
            "company": company_ref,
            "site": company_json["site"],
            "siteName": "Main",
            "addressLine1": company_json["addressLine1"],
        }
        if "addressLine2" in company_json:
            base["addressLine2"] = company_json["addressLine2"]
        base.update(
            {
                "city": company_json["city"],
                "stateIdentifier": company_json["state"],
                "zip": company_json["zip"],
                "country": company_json["country"],
            }
        )
        if contact is not None:
            base["contact"] = {"id": contact["id"], "name": name}
            base["contactName"] = name
            base["contactPhoneNumber"] = contact_phone(contact)
            base["contactEmailAddress"] = contact_email(contact)
        base["team"] = ref.team_refs[story.board]
        base["priority"] = ref.priority_refs[priority]
        onsite = story.board == "Service Desk" and rng.random() < ONSITE_SHARE
        base["serviceLocation"] = SERVICE_LOCATIONS["On-Site" if onsite else "Remote"]
        base["source"] = ref.source_refs[source]
        base.update(self._schedule(story, priority))
        if company in ref.agreement_refs and rng.random() >= FORGOTTEN_AGREEMENT:
            base["agreement"] = ref.agreement_refs[company]
        severity = "High" if priority <= 1 else "Medium" if priority <= 3 else "Low"
        base.update(
            {
                "severity": severity,
                "impact": "High" if priority <= 2 else "Medium",
                "closedFlag": False,
                "resolveMinutes": 0,
                "resPlanMinutes": 0,
                "respondMinutes": 0,
                "isInSla": True,
                "mobileGuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "sla": ref.sla_refs[sla],
                "respondedHours": targets[0],
                "resplanHours": targets[1],
                "resolutionHours": targets[2],
                "minutesWaiting": 0,
            }
        )
        if sla != "No SLA":
            deadline = self.hours.add(story.entered, targets[0] * HOUR)
            base["slaStatus"] = self.sla_status("Respond", deadline)
            base["escalationStartDateUTC"] = iso(deadline)
        return base

    def _schedule(self, story: Story, priority: int) -> Json:
        """Budget, planned start, due date and duration: for projects and service requests."""
        day = story.entered - story.entered % DAY  # midnight UTC, as ConnectWise stores dates
        if story.board == "Projects":
            start = self._weekday(day + DAY)
            due = self._weekday(start + self.details.randint(1, 4) * 7 * DAY - DAY)
            return {
                "requiredDate": iso(due),
                "budgetHours": self.details.choice(PROJECT_BUDGETS),
                "estimatedStartDate": iso(start),
                "duration": self._working_days(start, due),
            }
        if story.board == "Service Desk" and priority == 5:
            return {"requiredDate": iso(self._weekday(day + SERVICE_REQUEST_DAYS * DAY))}
        return {}

    @staticmethod
    def _weekday(midnight: int) -> int:
        """``midnight`` (UTC) or the Monday after it when it falls on a weekend."""
        while datetime.fromtimestamp(midnight, UTC).weekday() >= 5:
            midnight += DAY
        return midnight

    @staticmethod
    def _working_days(first: int, last: int) -> int:
        """Weekdays from ``first`` to ``last`` (UTC midnights), both included: ConnectWise's
        ``duration`` (22 for September 1-30, 2022 in a real response)."""
        return sum(
            datetime.fromtimestamp(day, UTC).weekday() < 5 for day in range(first, last + 1, DAY)
        )

    # -- the ticket's life ---------------------------------------------------------------
    def write(self, ticket_id: int, entered: int, *, emergency: bool = False) -> SimulatedTicket:
        """One ticket's whole life; ``emergency``: a customer's Priority 1 on the Service
        Desk, whatever the hour (the night emergencies of ``generate``)."""
        if emergency:
            board = "Service Desk"
        else:
            board = self.pick(BOARD_IN_HOURS if self.hours.is_open(entered) else BOARD_AFTER_HOURS)
        story = Story(ticket_id, entered, board)
        source = self.pick(SOURCES[board])
        company = self._company(source)
        priority = 1 if emergency else self.pick(PRIORITIES[board])
        triple, summary = self._category(board)
        base = self._base(story, source, company, priority, summary)
        category = self._category_fields(board, self._kept_category(triple))
        when = self.pick(CATEGORIZED_WHEN) if board == "Service Desk" else "entry"
        if when == "entry":
            base.update(category)
        entered_by = ENTERED_BY[source]
        self.note(
            story, entered, "detailDescriptionFlag", self._author(base, entered_by), base["summary"]
        )
        Life(self, story, base, priority).live(
            at_response=category if when == "response" else {},
            at_resolution=category if when == "resolution" else {},
        )
        events = sorted(story.events, key=lambda event: event.at)
        notes = sorted(story.notes, key=lambda note: note.at)
        return SimulatedTicket(ticket_id, entered, entered_by, base, events, notes)

    def _author(self, base: Json, entered_by: str) -> str:
        if entered_by in ("EmailConnector", "Portal") and "contact" in base:
            return f"contact:{base['contact']['id']}"
        return "" if entered_by == "Automate" else entered_by

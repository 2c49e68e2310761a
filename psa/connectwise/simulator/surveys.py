"""The simulated MSP's customer surveys and time entries.

One ticket-closed survey (two scored selection questions, 5 points each, and an open
question) is sent when a ticket with a client contact is first resolved. About 40% of
customers answer, a few minutes to two days later: about 75% happily (9–10 of 10 points),
15% lukewarm (6–7), 10% unhappy (0–4), the unhappy ones mostly with a comment, a few of the
others too. Each ticket's answer is drawn from its own ``random.Random`` seeded by the MSP's
seed and the ticket id, so it does not depend on the clock, on paging or on other tickets:
the same seed gives the same answers at every run. A result is visible from its answer
time on, with ``_info.lastUpdated`` = that time.

Time entries: one per member who worked the ticket as it stands at the clock (the resolver,
the responder, the owner and the members who wrote notes), served for
``/time/entries?conditions=chargeToType="ServiceTicket" and chargeToId=N``.
"""

from __future__ import annotations

import random
import re
import threading
from bisect import bisect_right
from typing import Any

from psa.connectwise.simulator.model import iso
from psa.connectwise.simulator.state import SimulationState

Json = dict[str, Any]

SURVEY_ID = 1
SURVEY: Json = {
    "id": SURVEY_ID,
    "name": "Ticket closed",
    "inactiveFlag": False,
    "defaultFlag": True,
    "headerLine1": "How did we do?",
    "footerLine1": "Anything else you would like to tell us?",
    "emailAddress": "service@example-msp.com",
    "_info": {"lastUpdated": "2025-01-06T15:00:00Z", "updatedBy": "admin1"},
}


def _option(caption: str, points: int) -> Json:
    return {"caption": caption, "points": points, "includeFlag": True}


QUESTIONS: list[Json] = [
    {
        "id": 11,
        "sequenceNumber": 1,
        "type": "Selection",
        "question": "How satisfied are you with how we handled your request?",
        "options": [
            _option("Very satisfied", 5),
            _option("Satisfied", 4),
            _option("Neutral", 3),
            _option("Dissatisfied", 1),
            _option("Very dissatisfied", 0),
        ],
        "includeFlag": True,
        "requiredFlag": True,
        "noAnswerPoints": 0,
        "surveyId": SURVEY_ID,
    },
    {
        "id": 12,
        "sequenceNumber": 2,
        "type": "Selection",
        "question": "Was it resolved in good time?",
        "options": [_option("Yes", 5), _option("Mostly", 3), _option("No", 0)],
        "includeFlag": True,
        "requiredFlag": True,
        "noAnswerPoints": 0,
        "surveyId": SURVEY_ID,
    },
    {
        "id": 13,
        "sequenceNumber": 3,
        "type": "OpenEnded",
        "question": "Anything else you would like to tell us?",
        "options": [],
        "includeFlag": False,
        "requiredFlag": False,
        "noAnswerPoints": 0,
        "surveyId": SURVEY_ID,
    },
]

ANSWER_RATE = 0.4
# (share of answers, the points of each answer (question 11, question 12), chance of a
# comment, comments)
MOODS: tuple[tuple[float, tuple[tuple[int, int], ...], float, tuple[str, ...]], ...] = (
    (
        0.75,
        ((5, 5), (5, 5), (4, 5)),
        0.3,
        (
            "Quick and friendly, thank you!",
            "Fixed before I finished my coffee. Great job.",
            "Patient and clear, explained everything.",
            "Always a pleasure working with your team.",
        ),
    ),
    (
        0.15,
        ((4, 3), (3, 3)),
        0.2,
        ("Sorted in the end, but it took a while.", "OK, though I had to chase it."),
    ),
    (
        0.10,
        ((1, 3), (3, 0), (1, 0), (0, 0)),
        0.8,
        (
            "Nobody called me back for two days.",
            "The problem came back the next morning.",
            "I had to explain the issue three times.",
        ),
    ),
)

_CHARGE_TO = re.compile(r"chargeToId\s*=\s*(\d+)", re.IGNORECASE)


class SurveyDesk:
    """Answers the survey and time-entry routes from the simulation's tickets."""

    def __init__(self, state: SimulationState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._planned_version = -1
        self._plan: list[tuple[int, int, int]] = []  # (answered at, ticket position, resolved)
        self._times: list[int] = []
        self._rendered: dict[tuple[int, int], Json] = {}

    def surveys(self) -> list[Json]:
        return [SURVEY]

    def questions(self, survey_id: int) -> list[Json] | None:
        return list(QUESTIONS) if survey_id == SURVEY_ID else None

    def results(self, survey_id: int) -> list[Json] | None:
        """The results answered by the clock, in id order (a result's id is its ticket's)."""
        if survey_id != SURVEY_ID:
            return None
        with self._lock:
            self._replan()
            visible = self._plan[: bisect_right(self._times, self.state.clock)]
            results = [self._result(at, position, resolved) for at, position, resolved in visible]
        return sorted(results, key=lambda result: result["id"])

    def time_entries(self, conditions: str) -> list[Json]:
        """The entries of the ticket the conditions name (``chargeToId = N``)."""
        match = _CHARGE_TO.search(conditions)
        if match is None:
            return []
        position = self.state.position(int(match.group(1)))
        if position is None:
            return []
        ticket = self.state.render(position)
        workers: list[str] = []
        for key in ("resolvedBy", "respondedBy"):
            if isinstance(ticket.get(key), str):
                workers.append(ticket[key])
        owner = ticket.get("owner")
        if isinstance(owner, dict) and isinstance(owner.get("identifier"), str):
            workers.append(owner["identifier"])
        for note in self.state.notes(position):
            member = note.get("member")
            if isinstance(member, dict) and isinstance(member.get("identifier"), str):
                workers.append(member["identifier"])
        members = {m["identifier"].casefold(): m for m in self.state.msp.members}
        entries: list[Json] = []
        seen: set[str] = set()
        for identifier in workers:
            member = members.get(identifier.casefold())
            if member is None or identifier.casefold() in seen:
                continue
            seen.add(identifier.casefold())
            entries.append(
                {
                    "id": ticket["id"] * 100 + len(entries) + 1,
                    "chargeToId": ticket["id"],
                    "chargeToType": "ServiceTicket",
                    "member": {
                        "id": member["id"],
                        "identifier": member["identifier"],
                        "name": f"{member.get('firstName', '')} {member.get('lastName', '')}",
                    },
                    "timeStart": ticket["_info"]["dateEntered"],
                    "actualHours": 0.5,
                    "billableOption": "Billable",
                    "_info": {"lastUpdated": ticket["_info"]["lastUpdated"]},
                }
            )
        return entries

    # -- the plan: who answers, when ------------------------------------------------------
    def _replan(self) -> None:
        if self._planned_version == self.state.version and self._plan:
            return
        plan: list[tuple[int, int, int]] = []
        seed = self.state.msp.seed
        for position, ticket in enumerate(self.state.tickets):
            if "contact" not in ticket.base:
                continue
            resolved = next(
                (e.at for e in ticket.events if e.changes.get("dateResolved") is not None), None
            )
            if resolved is None:
                continue
            rng = random.Random(f"{seed}/survey/{ticket.id}")
            if rng.random() >= ANSWER_RATE:
                continue
            delay = min(int(rng.lognormvariate(9.0, 1.2)), 2 * 86400)  # median ~2.25 h
            plan.append((resolved + 300 + delay, position, resolved))
        plan.sort()
        self._plan = plan
        self._times = [at for at, _, _ in plan]
        self._planned_version = self.state.version
        self._rendered.clear()

    def _result(self, at: int, position: int, resolved: int) -> Json:
        key = (position, at)
        cached = self._rendered.get(key)
        if cached is not None:
            return cached
        ticket = self.state.tickets[position]
        rng = random.Random(f"{self.state.msp.seed}/survey/{ticket.id}/answer")
        roll, share = rng.random(), 0.0
        mood = MOODS[-1]
        for candidate in MOODS:
            share += candidate[0]
            if roll < share:
                mood = candidate
                break
        _, points, comment_chance, comments = mood
        first, second = rng.choice(points)
        rendered = self.state.render(position, resolved)
        contact: Json = rendered["contact"] if isinstance(rendered.get("contact"), dict) else {}
        answers: list[Json] = [
            {"questionId": 11, "answer": _caption(QUESTIONS[0], first)},
            {"questionId": 12, "answer": _caption(QUESTIONS[1], second)},
        ]
        if rng.random() < comment_chance:
            answers.append({"questionId": 13, "answer": rng.choice(comments)})
        result: Json = {
            "id": ticket.id,
            "surveyId": SURVEY_ID,
            "ticketId": ticket.id,
            "contact": {"id": contact.get("id"), "name": contact.get("name")},
            "totalPoints": first + second,
            "results": answers,
            "footerResponse": "",
            "_info": {"dateEntered": iso(at), "lastUpdated": iso(at), "enteredBy": "Survey"},
        }
        email = rendered.get("contactEmailAddress")
        if isinstance(email, str) and email:
            result["emailAddress"] = email
        self._rendered[key] = result
        return result


def _caption(question: Json, points: int) -> str:
    """The caption of the option worth ``points``."""
    return str(next(o["caption"] for o in question["options"] if o["points"] == points))

"""Alert latency: an emergency entered in ConnectWise → its SLA-risk alert at Slack, by callback.

Deskboard runs as in the push case (``bench.cases.push``: its HTTP app serving callbacks on
uvicorn, registered with the simulator, the production verifier, the scheduler of
``deskboard run`` polling every 5 minutes, the simulator's clock following the wall clock),
with one ``[[alerts]]`` rule, as an MSP would write it for emergencies:

    [categories.emergency]
    priority = ["*Emergency*"]

    [[alerts]]
    name = "Emergency unanswered"
    category = "emergency"
    when = "unanswered"
    before_due = "30m"
    clock = "calendar"
    notify = "channel"
    channel = "#emergencies"

A Priority 1 must be answered within 30 minutes (its ``slaStatus`` says "Respond by …", 30
minutes after entry), so this rule flags it the moment it is entered. (A rule with ``after``
compares the ticket's age with it: at the push's sync the age is a fraction of a second, so
any ``after`` one would write waits for the scheduler's minute job instead.)

The emergencies are added to the simulated MSP before the simulator starts, each a copy of a
real Priority 1 of its history as it was entered (the Service Desk, a customer, its summary),
with its own id, its respond-by time and no life after entry: nobody answers it during the
run. They come due one by one at random gaps once Deskboard is up: when the simulator's clock
(the wall clock's) reaches a ticket's entry, the ticket appears in the API and the simulator
POSTs a signed "added" callback; Deskboard syncs that ticket, raises the alert (after every
push, ``Runtime.sync_ticket``) and delivers it. The delay is measured from the entry moment
to the arrival of the alert's ``chat.postMessage`` at the fake Slack. Goal: p99 ≤ 3 s; every
emergency must get exactly one alert, and no poll may run meanwhile.
"""

from __future__ import annotations

import copy
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.cases.freshness import SEED, SIMULATED_START, make_msp
from bench.cases.push import (
    count_arrivals,
    deskboard_with_callbacks,
    posts_to,
    wait_all,
)
from bench.core import CaseResult, Figure, Size, median, percentile
from bench.fake_slack import Arrival
from bot.config import DeskboardConfig, parse_config
from psa.connectwise.simulator import SimulatedMSP
from psa.connectwise.simulator.model import SimulatedTicket, iso, to_epoch

RULE = "Emergency unanswered"
ALERT_CHANNEL = "#emergencies"
EMERGENCY = "Emergency"  # in the priority's name: "Priority 1 - Emergency Response"
P99_GOAL_S = 3.0
LEAD = timedelta(seconds=5)  # from the clock's start to the first entry: Deskboard starts up
WAIT_AFTER_LAST = 60.0


@dataclass(frozen=True)
class Plan:
    emergencies: int
    gap: tuple[int, int]  # whole seconds between two entries, drawn uniformly (inclusive)


PLANS: dict[Size, Plan] = {
    "full": Plan(emergencies=30, gap=(1, 3)),
    "small": Plan(emergencies=3, gap=(1, 2)),
}


def make_config(msp: SimulatedMSP) -> DeskboardConfig:
    return parse_config(
        {
            "timezone": msp.timezone,
            "csat": {"surveys": False},
            "categories": {"emergency": {"priority": [f"*{EMERGENCY}*"]}},
            "alerts": [
                {
                    "name": RULE,
                    "category": "emergency",
                    "when": "unanswered",
                    "before_due": "30m",
                    "clock": "calendar",
                    "notify": "channel",
                    "channel": ALERT_CHANNEL,
                }
            ],
        }
    )


def respond_by(deadline: int, zone: ZoneInfo) -> str:
    """ConnectWise's ``slaStatus`` for a new ticket: "Respond by Wed 11/18 2:35 PM UTC-06"."""
    local = datetime.fromtimestamp(deadline, zone)
    offset = local.utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    return f"Respond by {local:%a %m/%d} {local.hour % 12 or 12}:{local:%M %p} UTC{hours:+03d}"


def enter_emergencies(msp: SimulatedMSP, entries: list[datetime]) -> list[int]:
    """Add an emergency to ``msp`` at each of ``entries`` (after its history, ascending): a
    copy of one of its Priority 1 Service Desk tickets as entered, with a new id, its own
    respond-by time, and no events after entry. Their ids, in order."""
    templates = [
        t
        for t in msp.tickets
        if EMERGENCY in t.base["priority"]["name"]
        and t.base["board"]["name"] == "Service Desk"
        and "contact" in t.base
    ]
    if not templates:
        raise RuntimeError("the simulated MSP has no Priority 1 on the Service Desk to copy")
    zone = ZoneInfo(msp.timezone)
    rng = random.Random(f"{SEED}/emergencies")
    ids: list[int] = []
    next_id = msp.tickets[-1].id + 1
    for i, moment in enumerate(entries):
        entered = to_epoch(moment)
        if entered <= msp.tickets[-1].entered:
            raise ValueError("emergencies must be entered after the history, in order")
        template = templates[i % len(templates)]
        base = copy.deepcopy(template.base)
        deadline = entered + round(float(base["respondedHours"]) * 3600)  # in business hours
        base.update(
            id=next_id,
            slaStatus=respond_by(deadline, zone),
            escalationStartDateUTC=iso(deadline),
            mobileGuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        msp.tickets.append(SimulatedTicket(next_id, entered, template.entered_by, base, [], []))
        ids.append(next_id)
        next_id += 1
    return ids


def alert_for(ticket_id: int) -> Callable[[Arrival], bool]:
    return posts_to(ALERT_CHANNEL, re.compile(rf"^{re.escape(RULE)}: #{ticket_id}\b"))


@dataclass(frozen=True)
class Emergency:
    ticket_id: int
    entered: datetime  # simulated
    at: float  # time.perf_counter() when the simulator's clock reached ``entered``
    alert: Arrival | None  # the first alert about it at the fake Slack (None: none came)
    alert_count: int  # alerts about it that arrived in all
    jobs_between: int  # scheduled polls and alert checks started between entry and alert

    @property
    def delay(self) -> float | None:
        return None if self.alert is None else self.alert.at - self.at


@dataclass(frozen=True)
class Measured:
    plan: Plan
    emergencies: list[Emergency]
    polls: int  # scheduled syncs started from the first entry to the last alert
    alert_jobs: int  # scheduled alert checks started meanwhile
    callbacks: dict[str, int]  # the simulator's POSTs about the emergencies, by answer


def measure(size: Size) -> Measured:
    plan = PLANS[size]
    rng = random.Random(SEED)
    msp = make_msp()
    config = make_config(msp)
    entries, moment = [], SIMULATED_START + LEAD
    for _ in range(plan.emergencies):
        entries.append(moment)
        moment += timedelta(seconds=rng.randint(*plan.gap))
    ids = enter_emergencies(msp, entries)
    with deskboard_with_callbacks(msp, config) as rig:
        if rig.clock() >= entries[0]:
            raise RuntimeError(f"Deskboard took longer than {LEAD} to start: raise LEAD")
        walls = [rig.clock.wall(e) for e in entries]
        arrived = wait_all(
            rig.slack,
            {t: alert_for(t) for t in ids},
            timeout=(entries[-1] - rig.clock()).total_seconds() + WAIT_AFTER_LAST,
        )
        polls = rig.jobs.since("sync", walls[0])
        checks = rig.jobs.since("alerts", walls[0])
        rig.server.wait_callbacks_sent()
        rig.receiver.join()  # every push synced and delivered: a second alert would be here
        answers: dict[str, int] = {}
        for delivery in rig.server.callback_deliveries:
            if delivery.ticket_id in ids:
                answer = str(delivery.status or delivery.error)
                answers[answer] = answers.get(answer, 0) + 1
        emergencies = []
        for ticket_id, entered, at in zip(ids, entries, walls, strict=True):
            alert = arrived.get(ticket_id)
            until = alert.at if alert is not None else time.perf_counter()
            between = sum(at <= run <= until for run in polls + checks)
            count = count_arrivals(rig.slack, alert_for(ticket_id))
            emergencies.append(Emergency(ticket_id, entered, at, alert, count, between))
    return Measured(plan, emergencies, len(polls), len(checks), answers)


def run(size: Size) -> CaseResult:
    measured = measure(size)
    emergencies = measured.emergencies
    delays = [e.delay for e in emergencies if e.delay is not None]
    p50, p99 = median(delays), percentile(delays, 99)
    complete = len(delays) == len(emergencies)
    return CaseResult(
        case="alerts",
        size=size,
        figures=[
            Figure("p50", p50, None, "s", "reported", complete),
            Figure("p99", p99, None, "s", f"≤ {P99_GOAL_S:g} s", complete and p99 <= P99_GOAL_S),
        ],
        numbers_agree=all(e.alert is not None and e.alert_count == 1 for e in emergencies),
        details={
            "emergencies": len(emergencies),
            "alerted": sum(e.alert is not None for e in emergencies),
            "missing": [e.ticket_id for e in emergencies if e.alert is None],
            "duplicated": [e.ticket_id for e in emergencies if e.alert_count > 1],
            # a poll or the minute's alert check that started between an entry and its alert
            # could have raised it instead of the push: none should
            "job_between": [e.ticket_id for e in emergencies if e.jobs_between],
            "polls_during": measured.polls,
            "alert_checks_during": measured.alert_jobs,
            "callbacks": measured.callbacks,
            "delays_s": [None if e.delay is None else round(e.delay, 3) for e in emergencies],
            "max_s": round(max(delays), 3) if delays else None,
            "tickets": [{"id": e.ticket_id, "entered": e.entered.isoformat()} for e in emergencies],
        },
    )

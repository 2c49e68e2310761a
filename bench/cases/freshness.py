"""Freshness: a ticket resolved in ConnectWise → its kudos message at Slack, polling every 30 s.

Everything runs as in production, in real time: the ConnectWise simulator (its clock
advancing with the wall clock), the APScheduler jobs of ``deskboard run`` with the sync
every ``interval`` (``build_scheduler(sync_every=...)``), the ``Runtime`` (sync → kudos →
outbox → delivery) and a ``SlackMessenger`` posting to a fake Slack that stamps each
arrival. The database is first filled with two weeks of history by one plain sync, as
``deskboard sync`` does at install (a kudos is only for a fresh resolution, so that
history posts nothing).

Then, ``repeats`` times: at a random moment of the polling cycle a fresh open ticket is
resolved in the simulator by the technician who responded to it (so it earns kudos), and
the delay is measured until the kudos ``chat.postMessage`` for that ticket arrives. The
resolution waits for the next poll, so the delay is the time left to it plus the sync and
the delivery: the baseline is the poll interval, and the goal is at most interval + 2 s.
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from slack_sdk import WebClient
from sqlalchemy import Engine

from bench.core import CaseResult, Figure, Size
from bench.fake_slack import Arrival, FakeSlack
from bot.config import DeskboardConfig, parse_config
from bot.core.runtime import Runtime
from bot.core.scheduler import build_scheduler
from bot.core.sync import run_sync
from bot.slack.messenger import SlackMessenger
from metrics.records import member_key
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, migrate, session_scope

SEED = 29
# The simulated "now" when the benchmark starts: a Wednesday, 14:00 in Chicago, with the
# desk busy; two weeks of history before it.
SIMULATED_START = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
HISTORY = timedelta(days=14)
TICKETS_PER_WORKDAY = 40
KUDOS_CHANNEL = "#wins"
GOAL_SLACK = 2.0  # seconds allowed beyond the poll interval
CLOCK_TICK = 0.05  # how often the simulator's clock is moved on to the wall clock's


@dataclass(frozen=True)
class Plan:
    interval: timedelta
    repeats: int


PLANS: dict[Size, Plan] = {
    "full": Plan(interval=timedelta(seconds=30), repeats=3),
    "small": Plan(interval=timedelta(seconds=2), repeats=1),
}


@dataclass(frozen=True)
class Resolution:
    ticket_id: int
    by: str  # the technician's ConnectWise identifier
    delay: float  # seconds from the resolution to the kudos at Slack
    next_poll: float  # seconds from the resolution to the next scheduled sync
    kudos: Arrival

    @property
    def after_poll(self) -> float:
        """The part of the delay that is Deskboard's: sync, kudos decision and delivery."""
        return self.delay - self.next_poll


class FollowingClock:
    """Simulated time advancing with the wall clock from ``start``; while entered, a thread
    keeps the simulator's clock on it, so tickets move on as they would in real life."""

    def __init__(self, server: SimulatorServer, *, start: datetime) -> None:
        self.server = server
        self.start = start
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="bench-clock", daemon=True)

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._began)

    def _follow(self) -> None:
        while not self._stop.wait(CLOCK_TICK):
            self.server.clock = self()

    def __enter__(self) -> FollowingClock:
        self.server.clock = self()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def make_msp() -> SimulatedMSP:
    return generate_msp(
        seed=SEED,
        start=SIMULATED_START - HISTORY,
        end=SIMULATED_START,
        tickets_per_workday=TICKETS_PER_WORKDAY,
    )


def make_config(msp: SimulatedMSP) -> DeskboardConfig:
    # A high daily cap: every resolution in the run gets its kudos posted, none only recorded.
    # Survey results are left out: the case times a resolution's way to chat.
    return parse_config(
        {
            "timezone": msp.timezone,
            "kudos": {"channel": KUDOS_CHANNEL, "daily_cap": 1000},
            "csat": {"surveys": False},
        }
    )


def open_ticket(server: SimulatorServer, rng: random.Random, *, taken: set[int]) -> tuple[int, str]:
    """A fresh open ticket and who should resolve it: the technician who responded to it
    (responder = resolver: no escalation, so it earns kudos). Newest first, chosen at random
    among the last few."""
    state = server.state
    candidates: list[tuple[int, str]] = []
    with state.lock:
        visible = [i for i, entered in enumerate(state.entered) if entered <= state.clock]
        for position in reversed(visible):
            ticket = state.render(position)
            if ticket.get("closedFlag") or ticket.get("dateResolved") or ticket["id"] in taken:
                continue
            responder = ticket.get("respondedBy")
            if isinstance(responder, str) and member_key(responder) is not None:
                candidates.append((int(ticket["id"]), responder))
            if len(candidates) == 10:
                break
    if not candidates:
        raise RuntimeError("the simulator has no open, responded ticket to resolve")
    return rng.choice(candidates)


def wait_for_scheduled_sync(engine: Engine, *, after: datetime, timeout: float) -> None:
    """Until a sync started after ``after`` has finished (the scheduler's first one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            state = repo.get_sync_state(session)
        started, finished = state.last_sync_started_at, state.last_sync_finished_at
        if started is not None and started > after and finished is not None and finished >= started:
            return
        time.sleep(0.02)
    raise TimeoutError(f"the scheduler ran no sync within {timeout} s")


def _seconds_to_next_sync(next_run_time: datetime | None) -> float:
    if next_run_time is None:
        return 0.0
    return max(0.0, (next_run_time - datetime.now(UTC)).total_seconds())


def _kudos_for(ticket_id: int) -> Callable[[Arrival], bool]:
    pattern = re.compile(rf"#{ticket_id}\b")
    return lambda a: a.method == "chat.postMessage" and bool(pattern.search(a.params["text"]))


@dataclass(frozen=True)
class Measured:
    plan: Plan
    resolutions: list[Resolution]
    names: dict[str, str]  # member key → name, as the database has them
    kudos_posts: dict[int, int]  # ticket id → kudos messages that arrived for it in all


def measure(size: Size) -> Measured:
    """Resolve ``plan.repeats`` tickets and time each one's kudos."""
    plan = PLANS[size]
    rng = random.Random(SEED)
    msp = make_msp()
    config = make_config(msp)
    interval = plan.interval.total_seconds()
    resolutions: list[Resolution] = []
    with (
        tempfile.TemporaryDirectory(prefix="deskboard-bench-") as folder,
        SimulatorServer(msp, clock=SIMULATED_START) as server,
        FakeSlack() as slack,
        FollowingClock(server, start=SIMULATED_START) as clock,
    ):
        engine = create_engine_for(f"sqlite:///{Path(folder) / 'deskboard.db'}")
        migrate(engine)
        primed_at = clock()
        with server.connectwise_client() as client:
            run_sync(
                client=client,
                engine=engine,
                config=config,
                now=primed_at,
                since=(SIMULATED_START - HISTORY).date(),
            )
        web = WebClient(token="xoxb-bench", base_url=slack.api_url)
        runtime = Runtime(
            engine=engine,
            config=config,
            messengers=(SlackMessenger(web, engine=engine, clock=clock),),
            psa=server.connectwise_client,
            clock=clock,
            ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
        )
        scheduler = build_scheduler(runtime, now=datetime.now(UTC), sync_every=plan.interval)
        scheduler.start()
        try:
            wait_for_scheduled_sync(engine, after=primed_at, timeout=interval + 30)
            taken: set[int] = set()
            for _ in range(plan.repeats):
                ticket_id, by = open_ticket(server, rng, taken=taken)
                taken.add(ticket_id)
                time.sleep(rng.uniform(0, interval))  # a random moment of the polling cycle
                resolved = time.perf_counter()
                server.resolve_ticket_now(ticket_id, by=by)
                next_poll = _seconds_to_next_sync(scheduler.get_job("sync").next_run_time)
                kudos = slack.wait_for(_kudos_for(ticket_id), timeout=2 * interval + 30)
                delay = kudos.at - resolved
                resolutions.append(Resolution(ticket_id, by, delay, next_poll, kudos))
        finally:
            scheduler.shutdown(wait=True)
        with session_scope(engine) as session:
            names = {m.key: m.name or m.identifier for m in repo.list_members(session)}
        engine.dispose()
        posts = {
            r.ticket_id: sum(1 for a in list(slack.arrivals) if _kudos_for(r.ticket_id)(a))
            for r in resolutions
        }
    return Measured(plan, resolutions, names, posts)


def kudos_agrees(resolution: Resolution, measured: Measured) -> bool:
    """The kudos went to the kudos channel, once, and names the ticket and its resolver."""
    key = member_key(resolution.by)
    names = measured.names
    text = str(resolution.kudos.params["text"])
    return (
        measured.kudos_posts.get(resolution.ticket_id) == 1
        and resolution.kudos.params.get("channel") == KUDOS_CHANNEL
        and key is not None
        and text.startswith(f"Kudos to {names.get(key, key)} for resolving #{resolution.ticket_id}")
    )


def run(size: Size) -> CaseResult:
    measured = measure(size)
    plan, resolutions = measured.plan, measured.resolutions
    interval = plan.interval.total_seconds()
    delays = [r.delay for r in resolutions]
    worst, mean = max(delays), sum(delays) / len(delays)
    goal = f"≤ interval + {GOAL_SLACK:g} s"
    return CaseResult(
        case="freshness",
        size=size,
        figures=[
            Figure("worst delay", worst, interval, "s", goal, worst <= interval + GOAL_SLACK),
            Figure("mean delay", mean, interval, "s", goal, mean <= interval + GOAL_SLACK),
        ],
        numbers_agree=all(kudos_agrees(r, measured) for r in resolutions),
        details={
            "poll_interval_s": interval,
            "repeats": plan.repeats,
            "delays_s": [round(d, 3) for d in delays],
            # what followed the poll: the sync, the kudos decision and the delivery
            "after_poll_s": [round(r.after_poll, 3) for r in resolutions],
            "tickets": [{"id": r.ticket_id, "by": r.by} for r in resolutions],
        },
    )

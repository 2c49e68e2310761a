"""Push freshness: a ticket resolved in ConnectWise → its kudos at Slack, through signed callbacks.

As in the freshness case, everything runs as in production and in real time (the simulator's
clock follows the wall clock, the ``Runtime``, the APScheduler jobs of ``deskboard run``, a
``SlackMessenger`` posting to a fake Slack that stamps each arrival), and the database is
first filled with two weeks of history by one plain sync. What differs is the way in:

- Deskboard's HTTP app (``bot.web.routes.http_app``, whose ``POST /connectwise/callback``
  ``deskboard run`` serves) runs on uvicorn on 127.0.0.1, in a thread, with the callback
  receiver ``deskboard run`` builds (``Runtime.push_receiver``) over the production verifier
  (``psa.connectwise.callbacks.push_verifier``), which checks every signature with the key it
  fetches from the simulator's key URL;
- that URL is registered with the simulator as ``deskboard connectwise register-callback``
  registers it, so the simulator POSTs every ticket change to it, signed;
- the scheduler polls at the normal interval (``[connectwise] poll_minutes``, 5 minutes): after
  its first sync at start, no poll runs during the measurement (each job run is recorded and
  the count is reported), so only the push can explain a kudos arriving within seconds.

Then, open loop (the next resolution does not wait for the last one's kudos), at random gaps
of 1 to 3 s, a fresh open ticket is resolved in the simulator by the technician who responded
to it (so it earns kudos), and the delay is measured from the resolution to the arrival of the
kudos ``chat.postMessage`` for that ticket at the fake Slack: the callback's POST, its
signature check, the read of that one ticket, storing it, the kudos decision, the outbox and
the post. The gaps are never shorter than Slack's pace, one message a second per channel,
which ``SlackMessenger`` keeps: kudos resolved closer together wait their turn (up to a
second each), which would measure that pace rather than the push. Goals: p50 ≤ 1 s and
p99 ≤ 3 s; every resolution must get exactly one kudos.
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlalchemy import Engine

from bench.cases.freshness import (
    HISTORY,
    KUDOS_CHANNEL,
    SEED,
    SIMULATED_START,
    FollowingClock,
    make_config,
    make_msp,
    open_ticket,
    wait_for_scheduled_sync,
)
from bench.core import CaseResult, Figure, Size, median, percentile
from bench.fake_slack import Arrival, FakeSlack
from bot.cli_connectwise import CALLBACK_DESCRIPTION
from bot.config import DeskboardConfig
from bot.core.push import PushReceiver
from bot.core.runtime import Runtime
from bot.core.scheduler import build_scheduler
from bot.core.sync import run_sync
from bot.slack.messenger import SlackMessenger
from bot.web.callbacks import CALLBACK_PATH
from bot.web.routes import http_app
from metrics.records import member_key
from psa.connectwise.callbacks import push_verifier
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer
from storage import repo
from storage.db import create_engine_for, migrate, session_scope

P50_GOAL_S = 1.0
P99_GOAL_S = 3.0
WAIT_AFTER_LAST = 60.0  # seconds to wait for kudos still missing after the last resolution


@dataclass(frozen=True)
class Plan:
    resolutions: int
    gap: tuple[float, float]  # seconds between two resolutions, drawn uniformly


PLANS: dict[Size, Plan] = {
    "full": Plan(resolutions=50, gap=(1.0, 3.0)),
    "small": Plan(resolutions=5, gap=(1.0, 2.0)),
}


class StartableClock(FollowingClock):
    """``FollowingClock`` on ``time.perf_counter`` (the fake Slack's stamps), standing still at
    ``start`` until entered: what happens before (the first sync, the set-up) happens at
    ``start``, and ``wall`` says when, on the fake Slack's clock, a simulated moment came."""

    def __init__(self, server: SimulatorServer, *, start: datetime) -> None:
        super().__init__(server, start=start)
        self._perf_began: float | None = None

    def __call__(self) -> datetime:
        if self._perf_began is None:
            return self.start
        return self.start + timedelta(seconds=time.perf_counter() - self._perf_began)

    def __enter__(self) -> StartableClock:
        self._perf_began = time.perf_counter()
        super().__enter__()
        return self

    def wall(self, moment: datetime) -> float:
        """The ``time.perf_counter()`` at which this clock shows ``moment``."""
        if self._perf_began is None:
            raise RuntimeError("the clock has not started")
        return self._perf_began + (moment - self.start).total_seconds()


@dataclass
class JobRuns:
    """When each job of the scheduler was started (``time.perf_counter()``), by job id."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def listener(self, event: JobSubmissionEvent) -> None:
        with self._lock:
            self.runs.setdefault(event.job_id, []).append(time.perf_counter())

    def since(self, job_id: str, moment: float) -> list[float]:
        with self._lock:
            return [at for at in self.runs.get(job_id, []) if at >= moment]


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` on uvicorn at 127.0.0.1 (a port the system picks), in a thread; its base URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="bench-deskboard-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Rig:
    """``deskboard run`` with callbacks, over the simulator and the fake Slack."""

    server: SimulatorServer
    slack: FakeSlack
    clock: StartableClock
    engine: Engine
    runtime: Runtime
    receiver: PushReceiver
    scheduler: BackgroundScheduler
    jobs: JobRuns
    callback_url: str


@contextmanager
def deskboard_with_callbacks(msp: SimulatedMSP, config: DeskboardConfig) -> Iterator[Rig]:
    """The database filled by one sync of ``msp``'s history at ``SIMULATED_START`` (the clock
    standing still), Deskboard's HTTP app serving callbacks and registered with the simulator;
    then the clock runs, the scheduler starts and its first sync has finished."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="deskboard-bench-"))
        server = stack.enter_context(SimulatorServer(msp, clock=SIMULATED_START))
        slack = stack.enter_context(FakeSlack())
        clock = StartableClock(server, start=SIMULATED_START)
        engine = create_engine_for(f"sqlite:///{Path(folder) / 'deskboard.db'}")
        stack.callback(engine.dispose)
        migrate(engine)
        with server.connectwise_client() as client:
            run_sync(
                client=client,
                engine=engine,
                config=config,
                now=SIMULATED_START,
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
        # As ``bot.service.service_asgi`` wires the callback route of ``deskboard run``.
        verifier = push_verifier(api_url=server.url, clients=server.connectwise_client)
        receiver = runtime.push_receiver(verifier, source="ConnectWise")
        stack.callback(receiver.close)
        base_url = stack.enter_context(served(http_app(callbacks=receiver)))
        callback_url = base_url + CALLBACK_PATH
        with server.connectwise_client() as client:  # `deskboard connectwise register-callback`
            client.register_callback(url=callback_url, description=CALLBACK_DESCRIPTION)
        stack.enter_context(clock)  # time runs: every ticket change from now on is POSTed
        scheduler = build_scheduler(runtime, now=datetime.now(UTC))
        jobs = JobRuns()
        scheduler.add_listener(jobs.listener, EVENT_JOB_SUBMITTED)
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=True)
        poll = timedelta(minutes=config.connectwise.poll_minutes).total_seconds()
        wait_for_scheduled_sync(engine, after=SIMULATED_START, timeout=poll + 30)
        yield Rig(server, slack, clock, engine, runtime, receiver, scheduler, jobs, callback_url)


def posts_to(channel: str, text: re.Pattern[str]) -> Callable[[Arrival], bool]:
    """A ``chat.postMessage`` to ``channel`` whose text ``text`` finds."""
    return lambda a: (
        a.method == "chat.postMessage"
        and a.params.get("channel") == channel
        and text.search(str(a.params.get("text", ""))) is not None
    )


def kudos_for(ticket_id: int) -> Callable[[Arrival], bool]:
    return posts_to(KUDOS_CHANNEL, re.compile(rf"#{ticket_id}\b"))


def wait_all(
    slack: FakeSlack, matchers: dict[int, Callable[[Arrival], bool]], *, timeout: float
) -> dict[int, Arrival]:
    """The first arrival each matcher accepts, by key; those still missing after ``timeout``
    seconds (all together) are left out."""
    deadline = time.monotonic() + timeout
    found: dict[int, Arrival] = {}
    for key, match in matchers.items():
        try:
            found[key] = slack.wait_for(match, timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            continue
    return found


def count_arrivals(slack: FakeSlack, match: Callable[[Arrival], bool]) -> int:
    return sum(1 for a in list(slack.arrivals) if match(a))


@dataclass(frozen=True)
class Resolution:
    ticket_id: int
    by: str  # the technician's ConnectWise identifier
    at: float  # time.perf_counter() just before the simulator resolved it
    kudos: Arrival | None  # the first kudos for it at the fake Slack (None: none came)
    kudos_count: int  # kudos for it that arrived in all

    @property
    def delay(self) -> float | None:
        return None if self.kudos is None else self.kudos.at - self.at


@dataclass(frozen=True)
class Measured:
    plan: Plan
    resolutions: list[Resolution]
    names: dict[str, str]  # member key → name, as the database has them
    polls: int  # scheduled syncs started from the first resolution to the last kudos
    callbacks: dict[str, int]  # the simulator's POSTs for the resolved tickets, by answer
    poll_minutes: int


def measure(size: Size) -> Measured:
    plan = PLANS[size]
    rng = random.Random(SEED)
    msp = make_msp()
    config = make_config(msp)
    planned: list[tuple[int, str, float]] = []
    with deskboard_with_callbacks(msp, config) as rig:
        taken: set[int] = set()
        for _ in range(plan.resolutions):
            time.sleep(rng.uniform(*plan.gap))
            ticket_id, by = open_ticket(rig.server, rng, taken=taken)
            taken.add(ticket_id)
            resolved = time.perf_counter()
            rig.server.resolve_ticket_now(ticket_id, by=by)
            planned.append((ticket_id, by, resolved))
        arrived = wait_all(
            rig.slack, {t: kudos_for(t) for t, _, _ in planned}, timeout=WAIT_AFTER_LAST
        )
        polls = len(rig.jobs.since("sync", planned[0][2]))
        rig.server.wait_callbacks_sent()
        rig.receiver.join()  # every push synced and delivered: a second kudos would be here
        answers: dict[str, int] = {}
        for delivery in rig.server.callback_deliveries:
            if delivery.ticket_id in taken:
                answer = str(delivery.status or delivery.error)
                answers[answer] = answers.get(answer, 0) + 1
        resolutions = [
            Resolution(t, by, at, arrived.get(t), count_arrivals(rig.slack, kudos_for(t)))
            for t, by, at in planned
        ]
        with session_scope(rig.engine) as session:
            names = {m.key: m.name or m.identifier for m in repo.list_members(session)}
    return Measured(plan, resolutions, names, polls, answers, config.connectwise.poll_minutes)


def kudos_agrees(resolution: Resolution, names: dict[str, str]) -> bool:
    """Exactly one kudos, in the kudos channel, naming the ticket and its resolver."""
    key = member_key(resolution.by)
    if resolution.kudos is None or resolution.kudos_count != 1 or key is None:
        return False
    text = str(resolution.kudos.params["text"])
    return text.startswith(f"Kudos to {names.get(key, key)} for resolving #{resolution.ticket_id}")


def run(size: Size) -> CaseResult:
    measured = measure(size)
    resolutions = measured.resolutions
    delays = [r.delay for r in resolutions if r.delay is not None]
    p50, p99 = median(delays), percentile(delays, 99)
    complete = len(delays) == len(resolutions)
    return CaseResult(
        case="push",
        size=size,
        figures=[
            Figure("p50", p50, None, "s", f"≤ {P50_GOAL_S:g} s", complete and p50 <= P50_GOAL_S),
            Figure("p99", p99, None, "s", f"≤ {P99_GOAL_S:g} s", complete and p99 <= P99_GOAL_S),
        ],
        numbers_agree=all(kudos_agrees(r, measured.names) for r in resolutions),
        details={
            "resolutions": len(resolutions),
            "kudos": sum(r.kudos is not None for r in resolutions),
            "missing": [r.ticket_id for r in resolutions if r.kudos is None],
            "duplicated": [r.ticket_id for r in resolutions if r.kudos_count > 1],
            "polls_during": measured.polls,
            "callbacks": measured.callbacks,
            "poll_minutes": measured.poll_minutes,
            "delays_s": [None if r.delay is None else round(r.delay, 3) for r in resolutions],
            "max_s": round(max(delays), 3) if delays else None,
            "tickets": [{"id": r.ticket_id, "by": r.by} for r in resolutions],
        },
    )

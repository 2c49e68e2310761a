"""One Deskboard as ``deskboard run`` assembles it, against the ConnectWise simulator and the
fake Slack over HTTP, driven cycle by cycle through the scheduler's own job functions.

A cycle is what the scheduler does at each poll: the ``sync`` job (sync, kudos, delivery)
and the ``deliver`` job, each through its ``_guarded`` wrapper, so a fault that escaped a
job would escape here too. Time moves only between steps (``STEPS``): the simulator and the
runtime read the same clock, and a run with faults is compared with a fault-free run that
saw the same steps.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bench.cases.ingest import CHANGE_COLUMNS, TICKET_COLUMNS
from bot.cli import app as cli
from bot.config import DeskboardConfig, parse_config
from bot.core.runtime import Runtime
from bot.core.scheduler import build_scheduler
from bot.settings import Settings
from bot.slack.app import build_slack_app, messaging_client, slack_client
from bot.slack.deps import SlackDeps
from bot.slack.messenger import METADATA_EVENT, SlackMessenger
from psa.connectwise.client import ConnectWiseClient, RetryPolicy, build_http_client
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import STATUS_CHANGES, TICKETS
from tests.bot.slack.conftest import blocks_of, signed, texts
from tests.bot.slack.fake_slack import TEAM_ID, FakeSlack, SlackUser

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
FIRST_STEP = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
STEP = timedelta(hours=3)
STEPS = [FIRST_STEP + STEP * i for i in range(4)]
DRAIN = STEPS[-1] + STEP  # a last cycle that delivers what still waits for a retry
SIGNING_SECRET = "faults-signing-secret"
CLIENT_TIMEOUT = 2.0  # seconds: a delayed answer beyond it is a timeout (busy CI: not less)
RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)
ADMIN = SlackUser("UADMIN", "it.director@velocity-it.example", "Ines Director", is_admin=True)

CONFIG: dict[str, Any] = {
    "timezone": "America/Chicago",
    "kudos": {"channel": "#kudos", "daily_cap": 50},
    "nudges": {"enabled": False},
    "contests": [{"name": "Most resolved", "metric": "resolved", "period": "monthly"}],
}


def watching_since_start(engine: Engine) -> None:
    """The database of a Deskboard watching since ``START`` (installed at the start of the
    month, restarted for these steps): every step's resolutions are news, the first's too."""
    migrate(engine)
    with session_scope(engine) as session:
        repo.start_judging(session, at=START)


def make_msp() -> SimulatedMSP:
    return generate_msp(seed=23, start=START, end=END, tickets_per_workday=10)


def make_config() -> DeskboardConfig:
    return parse_config(CONFIG)


def delivered(slack: FakeSlack) -> Counter[str]:
    """How many messages Slack holds for each outbox key."""
    keys = Counter[str]()
    for message in slack.posted:
        metadata = message.metadata or {}
        if metadata.get("event_type") == METADATA_EVENT:
            keys[metadata["event_payload"]["key"]] += 1
    return keys


def table_checksum(url: str) -> tuple[int, str]:
    """How many tickets, and a hash of the ticket rows and status changes in order, on any
    database (the values as SQLAlchemy reads them, so two databases of one kind compare)."""
    digest = hashlib.sha256()
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            tickets = select(*(TICKETS.c[n] for n in TICKET_COLUMNS)).order_by(TICKETS.c.id)
            count = 0
            for row in connection.execute(tickets):
                digest.update(repr(tuple(row)).encode())
                count += 1
            s = STATUS_CHANGES.c
            changes = select(*(s[n] for n in CHANGE_COLUMNS)).order_by(s.ticket_id, s.at, s.id)
            for row in connection.execute(changes):
                digest.update(repr(tuple(row)).encode())
    finally:
        engine.dispose()
    return count, digest.hexdigest()


@dataclass
class World:
    """A Deskboard database, runtime and Slack app; the simulator and Slack it talks to."""

    database_url: str
    folder: Path
    simulator: SimulatorServer
    slack: FakeSlack
    now: datetime = STEPS[0]
    engine: Engine = field(init=False)
    runtime: Runtime = field(init=False)
    app: App = field(init=False)
    jobs: dict[str, Callable[[], None]] = field(init=False)
    cw_sleeps: list[float] = field(default_factory=list)  # the ConnectWise client's backoffs

    def __post_init__(self) -> None:
        self.engine = create_engine_for(self.database_url)
        watching_since_start(self.engine)
        config = make_config()
        client = slack_client(self.settings)
        messenger = SlackMessenger(
            messaging_client(self.settings, self.engine),
            engine=self.engine,
            clock=self.clock,
            sleep=lambda _: None,
        )
        self.runtime = Runtime(
            engine=self.engine,
            config=config,
            messengers=(messenger,),
            psa=self.connectwise,
            clock=self.clock,
            ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
        )
        scheduler = build_scheduler(self.runtime, now=self.now)
        self.jobs = {job.id: job.func for job in scheduler.get_jobs()}
        deps = SlackDeps(
            engine=self.engine,
            config=config,
            settings=self.settings,
            clock=self.clock,
            psa=self.connectwise,
            messenger=messenger,
            ticket_link=self.runtime.ticket_link,
            sync=self.runtime.sync,
        )
        self.app = build_slack_app(deps=deps, client=client)

    @property
    def path(self) -> Path:
        """The SQLite file (for the tests that lock it)."""
        url = make_url(self.database_url)
        assert url.get_backend_name() == "sqlite", "only a SQLite database is a file"
        assert url.database
        return Path(url.database)

    @property
    def settings(self) -> Settings:
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            SLACK_BOT_TOKEN="xoxb-faults",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
        )

    def clock(self) -> datetime:
        return self.now

    @contextmanager
    def connectwise(self) -> Iterator[ConnectWiseClient]:
        http = build_http_client(
            api_url=self.simulator.url,
            company=self.simulator.company,
            public_key=self.simulator.public_key,
            private_key=self.simulator.private_key,
            client_id=self.simulator.client_id,
            timeout=CLIENT_TIMEOUT,
        )
        with http:
            yield ConnectWiseClient(http, retry=RETRY, sleep=self.cw_sleeps.append, page_size=50)

    def at(self, moment: datetime) -> None:
        self.now = moment
        self.simulator.clock = moment

    def cycle(self) -> None:
        """One poll of ``deskboard run``: its sync job, then its deliver job."""
        self.jobs["sync"]()
        self.jobs["deliver"]()

    def checksum(self) -> tuple[int, str]:
        return table_checksum(self.database_url)

    def cli_status(self) -> str:
        """``deskboard status`` on this database, as an operator runs it."""
        config = self.folder / "deskboard.toml"
        config.write_text(f'timezone = "{CONFIG["timezone"]}"\n')
        env = {"DESKBOARD_DATABASE_URL": self.database_url}
        result = CliRunner().invoke(cli, ["status", "--config", str(config)], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def slash_status(self) -> str:
        """``/deskboard status`` as Slack sends it, signed; the text of the answer."""
        before = len(self.slack.responses)
        body = urlencode(
            {
                "team_id": TEAM_ID,
                "channel_id": "CSUPPORT",
                "user_id": ADMIN.id,
                "user_name": ADMIN.name,
                "command": "/deskboard",
                "text": "status",
                "api_app_id": "ADESK",
                "response_url": self.slack.response_url("status"),
                "trigger_id": "1.2.3",
            }
        )
        response = self.app.dispatch(signed(body, secret=SIGNING_SECRET))
        assert response.status == 200
        return texts(blocks_of(self.slack.wait_for_response(count=before + 1)[-1]))

    def close(self) -> None:
        self.engine.dispose()

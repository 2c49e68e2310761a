"""The Slack app against a fake Slack Web API and the ConnectWise simulator.

One simulated MSP (three weeks of tickets) is synced once per session into a template
database; each test gets a copy of it, a fresh simulator serving the same MSP (PATCHes
change the simulator's tickets), a fresh fake Slack and the Bolt app wired to all three.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot.config import DeskboardConfig, parse_config
from bot.core.sync import run_sync
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.deps import SlackDeps
from bot.slack.messenger import SlackMessenger
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, session_scope
from tests.bot.slack.fake_slack import TEAM_ID, FakeSlack, SlackUser
from tests.databases import Databases
from tests.history import notices_dealt_with

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # Friday 17:00 in Chicago
NOW = END
SECRET = "test-signing-secret"
HOSTILE = "<!channel> printer & <b>toner</b>"
HOSTILE_TICKET = 41237  # jsmith's uncategorized "Monitor flickering", resolved 18 Nov

# Technicians of the simulated MSP as Slack users (same emails as ConnectWise has).
BLESSING = SlackUser("UBLESSING", "blessing.okafor@velocity-it.example", "Blessing Okafor")
JORDAN = SlackUser("UJORDAN", "jordan.smith@velocity-it.example", "Jordan Smith")
TUAN = SlackUser("UTUAN", "tuan.nguyen@velocity-it.example", "Tuan Nguyen")
SARAH = SlackUser("USARAH", "sarah.cohen@velocity-it.example", "Sarah Cohen")
ADMIN = SlackUser("UADMIN", "it.director@velocity-it.example", "Ines Director", is_admin=True)
GUEST = SlackUser("UGUEST", "guest@elsewhere.example", "Gus Guest")


def make_msp() -> SimulatedMSP:
    msp = generate_msp(seed=11, start=START, end=END, tickets_per_workday=15)
    ticket = msp.ticket(HOSTILE_TICKET)
    assert ticket is not None
    ticket.base["summary"] = HOSTILE
    return msp


def make_config() -> DeskboardConfig:
    return parse_config(
        {
            "timezone": "America/Chicago",
            "contests": [
                {"name": "Most resolved", "metric": "resolved", "period": "monthly"},
                {
                    "name": "Clean tickets",
                    "metric": "categorized_pct",
                    "period": "weekly",
                    "min_resolved": 1,
                },
            ],
            "slack": {"admins": ["scohen"]},  # Sarah, by ConnectWise identifier
        }
    )


def _sync_the_msp(engine: Engine) -> None:
    with SimulatorServer(make_msp(), clock=END) as server, server.connectwise_client() as client:
        run_sync(client=client, engine=engine, config=make_config(), now=END, since=START.date())
    notices_dealt_with(engine)


@pytest.fixture(scope="session")
def template_db(databases: Databases) -> str:
    return databases.template_url(_sync_the_msp)


@pytest.fixture
def engine(databases: Databases, template_db: str) -> Iterator[Engine]:
    url = databases.fresh_url(template=template_db)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()
    databases.drop(url)


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(make_msp(), clock=END) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(users=[BLESSING, JORDAN, TUAN, SARAH, ADMIN, GUEST]) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def deps(
    engine: Engine, simulator: SimulatorServer, client: WebClient, sleeps: list[float]
) -> SlackDeps:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-test"
    )
    return SlackDeps(
        engine=engine,
        config=make_config(),
        settings=settings,
        clock=lambda: NOW,
        psa=simulator.connectwise_client,
        messenger=SlackMessenger(client, engine=engine, clock=lambda: NOW, sleep=sleeps.append),
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


@pytest.fixture
def app(deps: SlackDeps, client: WebClient) -> App:
    return build_slack_app(deps=deps, client=client)


# ---- requests as Slack sends them -------------------------------------------------------------

# Slack gives every request its own trigger or event id, so no two bodies are alike; Deskboard
# refuses a signed request seen before (bot.slack.replay).
_request_ids = itertools.count(1)


def signature_headers(
    body: str, *, content_type: str = "application/x-www-form-urlencoded", secret: str = SECRET
) -> dict[str, str]:
    """The headers Slack signs a request with (``v0=`` HMAC-SHA256 of the timestamped body)."""
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "content-type": content_type,
        "x-slack-signature": signature,
        "x-slack-request-timestamp": timestamp,
    }


def signed(
    body: str, *, content_type: str = "application/x-www-form-urlencoded", secret: str = SECRET
) -> BoltRequest:
    headers = signature_headers(body, content_type=content_type, secret=secret)
    return BoltRequest(body=body, headers={name: [value] for name, value in headers.items()})


def slash_body(slack: FakeSlack, command: str, text: str, *, user: SlackUser) -> str:
    return urlencode(
        {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "team_domain": "velocity",
            "channel_id": "CSUPPORT",
            "channel_name": "support",
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": "ADESK",
            "response_url": slack.response_url(f"{command.strip('/')}-{user.id}"),
            "trigger_id": f"13345224609.738474920.{next(_request_ids):019x}",
        }
    )


def slash(app: App, slack: FakeSlack, command: str, text: str, *, user: SlackUser) -> BoltResponse:
    return app.dispatch(signed(slash_body(slack, command, text, user=user)))


def interact(app: App, payload: dict[str, Any]) -> BoltResponse:
    payload = {
        "team": {"id": TEAM_ID},
        "api_app_id": "ADESK",
        "token": "verification",
        "trigger_id": f"13345224609.738474920.{next(_request_ids):019x}",
        **payload,
    }
    return app.dispatch(signed(urlencode({"payload": json.dumps(payload)})))


def event(app: App, body: dict[str, Any]) -> BoltResponse:
    envelope = {
        "token": "verification",
        "team_id": TEAM_ID,
        "api_app_id": "ADESK",
        "type": "event_callback",
        "event_id": f"Ev{next(_request_ids):08d}",
        "event_time": int(time.time()),
        "event": body,
    }
    return app.dispatch(signed(json.dumps(envelope), content_type="application/json"))


def texts(node: Any) -> str:
    """Every ``text`` string in Slack blocks (sections, headers, context, buttons, options)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return "\n".join(found)


def open_tickets_answered_by_their_technician(engine: Engine) -> list[tuple[int, str]]:
    found = []
    with session_scope(engine) as session:
        for record in repo.iter_tickets(session):
            open_ = not record.closed and record.resolved_at is None
            by_technician = record.responder_key not in (None, "dispatch")
            if open_ and by_technician and record.board in ("Service Desk", "Escalations"):
                found.append((record.id, record.responder or ""))
    assert len(found) >= 2, "the simulated MSP has too few open tickets answered by technicians"
    return found


def open_ticket_answered_by_its_technician(engine: Engine) -> tuple[int, str]:
    return open_tickets_answered_by_their_technician(engine)[0]


def blocks_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

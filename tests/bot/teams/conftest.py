"""The Teams app against a fake Bot Connector and the ConnectWise simulator.

One simulated MSP (three weeks of tickets) is synced once per session into a template
database; each test gets a copy of it, a fresh simulator serving the same MSP (PATCHes
change the simulator's tickets), a fresh fake connector, and the Teams app built on all
three: ``service_url`` = the fake, a fake token provider, and unauthenticated requests
allowed (tests only). Activities go to ``/api/messages`` through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from microsoft_teams.apps import App
from sqlalchemy import Engine

from bot.config import DeskboardConfig, parse_config
from bot.core.sync import run_sync
from bot.settings import Settings
from bot.teams.app import MESSAGING_PATH, build_teams_app, teams_asgi
from bot.teams.deps import TeamsDeps
from bot.teams.listeners import background_of
from bot.teams.messenger import TeamsMessenger
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from storage.db import create_engine_for
from tests.bot.teams.fake_connector import FakeConnector, RosterUser
from tests.databases import Databases
from tests.history import notices_dealt_with

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # Friday 17:00 in Chicago
NOW = END
HOSTILE = "**[pwned](https://evil.example)** <at>Everyone</at> & <b>toner</b>"
HOSTILE_TICKET = 41237  # jsmith's uncategorized "Monitor flickering", resolved 18 Nov

APP_ID = "00000000-0000-4000-8000-00000000d35c"
BOT = {"id": f"28:{APP_ID}", "name": "Deskboard"}
TENANT = "11111111-2222-4333-8444-555555555555"
TEAM_ID = "19:support-general@thread.tacv2"  # the team's id is its General channel's
WINS = "19:support-wins@thread.tacv2"

# Technicians of the simulated MSP as Teams users: Blessing's roster entry has her email,
# Jordan's only his user principal name; the director is an admin by email, Sarah by her
# ConnectWise identifier (see make_config); the guest matches nobody.
BLESSING = RosterUser(
    "29:blessing",
    "Blessing Okafor",
    email="blessing.okafor@velocity-it.example",
    aad_object_id="aad-blessing",
)
JORDAN = RosterUser("29:jordan", "Jordan Smith", upn="Jordan.Smith@velocity-it.example")
SARAH = RosterUser("29:sarah", "Sarah Cohen", email="sarah.cohen@velocity-it.example")
DIRECTOR = RosterUser("29:director", "Ines Director", email="it.director@velocity-it.example")
GUEST = RosterUser("29:guest", "Gus Guest", email="guest@elsewhere.example")
USERS = [BLESSING, JORDAN, SARAH, DIRECTOR, GUEST]


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
                {
                    "name": "Most resolved",
                    "metric": "resolved",
                    "period": "monthly",
                    "teams_channel": "Support/Wins",
                },
                {
                    "name": "Clean tickets",
                    "metric": "categorized_pct",
                    "period": "weekly",
                    "min_resolved": 1,
                },
            ],
            "teams": {"admins": ["scohen", "IT.Director@velocity-it.example"]},
        }
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


FAKE_TOKEN = ".".join(
    (
        _b64({"alg": "RS256", "typ": "JWT"}),
        _b64({"aud": "https://api.botframework.com", "appid": APP_ID, "exp": 4102444800}),
        "c2lnbmF0dXJl",
    )
)


def fake_token(scope: str | list[str], tenant_id: str | None = None) -> str:
    """A JWT-shaped bot token (never checked by the fake connector, but parsed by the SDK)."""
    return FAKE_TOKEN


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
def connector() -> Iterator[FakeConnector]:
    channels = [{"id": TEAM_ID}, {"id": WINS, "name": "Wins"}]  # General comes without a name
    with FakeConnector(users=list(USERS), teams={TEAM_ID: channels}) as fake:
        yield fake


@pytest.fixture
def settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, TEAMS_CLIENT_ID=APP_ID, TEAMS_TENANT_ID=TENANT
    )


class Clock:
    """A fake monotonic clock whose sleeps only move it on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def messenger(engine: Engine, clock: Clock) -> Iterator[TeamsMessenger]:
    messenger = TeamsMessenger(
        None, engine=engine, clock=lambda: NOW, sleep=clock.sleep, monotonic=clock.monotonic
    )
    yield messenger
    messenger.close()


@pytest.fixture
def deps(
    engine: Engine, simulator: SimulatorServer, settings: Settings, messenger: TeamsMessenger
) -> TeamsDeps:
    return TeamsDeps(
        engine=engine,
        config=make_config(),
        settings=settings,
        clock=lambda: NOW,
        psa=simulator.connectwise_client,
        messenger=messenger,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


@pytest.fixture
def app(deps: TeamsDeps, connector: FakeConnector) -> App:
    """The app, its messenger bound to it; unauthenticated requests allowed (tests only)."""
    return build_teams_app(
        deps=deps, service_url=connector.url, token_provider=fake_token, allow_unauthenticated=True
    )


# ---- activities as Teams sends them ---------------------------------------------------------

_ids = itertools.count(1)


def channel(connector: FakeConnector, *, thread: str = "1700000000000") -> dict[str, Any]:
    """Where a channel message comes from: the Support team's General channel, a thread."""
    return {
        "serviceUrl": connector.url,
        "conversation": {
            "id": f"{TEAM_ID};messageid={thread}",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": {
            "team": {"id": TEAM_ID, "name": "Support"},
            "channel": {"id": TEAM_ID},
            "tenant": {"id": TENANT},
        },
    }


def personal(connector: FakeConnector, user: RosterUser) -> dict[str, Any]:
    return {
        "serviceUrl": connector.url,
        "conversation": {
            "id": f"a:personal-{user.id.removeprefix('29:')}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
    }


def sender(user: RosterUser) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "aadObjectId": user.aad_object_id or "aad-x"}


def message(
    where: dict[str, Any],
    text: str,
    *,
    user: RosterUser,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"{1700000000000 + next(_ids)}",
        "channelId": "msteams",
        "timestamp": "2026-11-20T23:00:00.000Z",
        "from": sender(user),
        "recipient": dict(BOT),
        "text": text,
        "textFormat": "plain",
        "entities": entities or [],
        **where,
    }


def mention(who: dict[str, Any] | RosterUser) -> dict[str, Any]:
    """A mention entity, for the bot (``BOT``) or a user."""
    account = who if isinstance(who, dict) else {"id": who.id, "name": who.name}
    return {"type": "mention", "text": f"<at>{account['name']}</at>", "mentioned": account}


def bot_message(where: dict[str, Any], text: str, *, user: RosterUser) -> dict[str, Any]:
    """``@Deskboard TEXT`` in a channel."""
    return message(where, f"<at>Deskboard</at> {text}", user=user, entities=[mention(BOT)])


def invoke(
    where: dict[str, Any],
    *,
    user: RosterUser,
    verb: str,
    data: dict[str, Any],
    reply_to: str | None = None,
) -> dict[str, Any]:
    """An ``Action.Execute`` click: ``adaptiveCard/action`` with the card's inputs in data."""
    activity = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": f"{1700000000000 + next(_ids)}",
        "channelId": "msteams",
        "from": sender(user),
        "recipient": dict(BOT),
        "value": {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
        **where,
    }
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def installed(where: dict[str, Any], *, user: RosterUser) -> dict[str, Any]:
    """The bot added to a team (``teamMemberAdded``) or a personal chat."""
    activity = {
        "type": "conversationUpdate",
        "id": f"f:{next(_ids)}",
        "channelId": "msteams",
        "from": sender(user),
        "recipient": dict(BOT),
        "membersAdded": [{"id": BOT["id"]}],
        **where,
    }
    if "team" in activity.get("channelData", {}):
        activity["channelData"] = {**activity["channelData"], "eventType": "teamMemberAdded"}
        activity["conversation"] = {**activity["conversation"], "id": TEAM_ID}
    return activity


async def _post(
    app: App, activities: list[dict[str, Any]], headers: dict[str, str] | None
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=teams_asgi(app))
    responses = []
    async with httpx.AsyncClient(transport=transport, base_url="http://deskboard.test") as client:
        for activity in activities:
            responses.append(await client.post(MESSAGING_PATH, json=activity, headers=headers))
        await background_of(app).wait()  # what the listeners left running (a sync, an update)
    return responses


def post(
    app: App, *activities: dict[str, Any], headers: dict[str, str] | None = None
) -> list[httpx.Response]:
    """POST activities to ``/api/messages`` (one event loop for all), after-work included."""
    return asyncio.run(_post(app, list(activities), headers))

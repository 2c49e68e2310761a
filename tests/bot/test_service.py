"""What `deskboard run` assembles from the environment: Slack, Teams, both, or post-only."""

from __future__ import annotations

import socket

import httpx
import pytest
from rich.console import Console

from bot.config import parse_config
from bot.service import build_service
from bot.settings import Settings, SettingsError
from bot.slack.app import http_app
from bot.teams.app import teams_asgi
from storage.db import create_engine_for
from tests.bot.slack.fake_slack import FakeSlack

TEAMS_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
CW = {
    "CW_API_URL": "http://127.0.0.1:9/v4_6_release/apis/3.0",
    "CW_COMPANY": "msp",
    "CW_PUBLIC_KEY": "pub",
    "CW_PRIVATE_KEY": "priv",
    "CW_CLIENT_ID": "cid",
}


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Building the apps must not reach anything but this machine."""
    connect = socket.socket.connect

    def loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        assert str(host).startswith(("127.", "::1", "localhost")), f"tried to reach {address}"
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **CW, **values)  # type: ignore[call-arg]


def test_slack_and_teams_together_share_one_http_server(engine):
    with FakeSlack() as slack:
        service = build_service(
            settings(
                SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.api_url,
                TEAMS_CLIENT_ID=TEAMS_ID, TEAMS_CLIENT_SECRET="secret", TEAMS_TENANT_ID=TENANT,
            ),
            parse_config({}), engine, dry_run=False, console=Console(),
        )  # fmt: skip
        try:
            assert service.runtime.platforms == ("slack", "teams")
            assert service.slack is not None
            assert service.teams is not None
            asgi = teams_asgi(service.teams)
            asgi.mount("/", http_app(service.slack, signing_secret="s"))

            async def probe() -> tuple[int, int, int]:
                transport = httpx.ASGITransport(app=asgi)
                async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
                    health = await client.get("/health")
                    unsigned_slack = await client.post("/slack/events", content=b"{}")
                    unsigned_teams = await client.post("/api/messages", json={"type": "message"})
                return health.status_code, unsigned_slack.status_code, unsigned_teams.status_code

            import asyncio

            # both endpoints are served, and both refuse what is not signed
            assert asyncio.run(probe()) == (200, 401, 401)
        finally:
            service.close()


def test_post_only_teams_and_dry_run_need_no_bot(engine):
    service = build_service(
        settings(TEAMS_WORKFLOW_URL="https://flows.example/hook?sig=abc"),
        parse_config({}), engine, dry_run=False, console=Console(),
    )  # fmt: skip
    assert service.runtime.platforms == ("teams-workflow",)
    assert service.slack is None
    assert service.teams is None
    service.close()
    dry = build_service(settings(), parse_config({}), engine, dry_run=True, console=Console())
    assert dry.runtime.platforms == ("console",)


def test_nothing_configured_is_refused_with_what_to_set(engine):
    with pytest.raises(SettingsError, match="no chat platform is configured: set SLACK_BOT_TOKEN"):
        build_service(settings(), parse_config({}), engine, dry_run=False, console=Console())

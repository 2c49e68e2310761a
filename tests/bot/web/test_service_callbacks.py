"""``/connectwise/callback`` is served by ``deskboard run`` whatever the chat platforms: beside
Slack's HTTP routes, beside Teams', and alone when Slack uses Socket Mode."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from rich.console import Console

from bot.config import parse_config
from bot.service import build_service, service_asgi
from bot.settings import Settings
from storage.db import create_engine_for, migrate
from tests.bot.slack.fake_slack import FakeSlack

CW = {
    "CW_API_URL": "http://127.0.0.1:9/v4_6_release/apis/3.0",
    "CW_COMPANY": "msp",
    "CW_PUBLIC_KEY": "pub",
    "CW_PRIVATE_KEY": "priv",
    "CW_CLIENT_ID": "cid",
}
TEAMS = {
    "TEAMS_CLIENT_ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "TEAMS_CLIENT_SECRET": "secret",
    "TEAMS_TENANT_ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3302",
}
UNSIGNED = b'{"Action": "updated", "Type": "ticket", "ID": 1, "Metadata": {"key_url": "x"}}'


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def statuses(asgi, requests: list[tuple[str, bytes]]) -> list[int]:
    async def send() -> list[int]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
            return [(await client.post(path, content=body)).status_code for path, body in requests]

    return asyncio.run(send())


@pytest.mark.parametrize(
    ("platform", "slack_events"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s"}, 401),  # Slack HTTP mode
        ({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_APP_TOKEN": "xapp-t"}, 404),  # Socket Mode: no route
        ({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s", **TEAMS}, 401),
        (TEAMS, 404),
        ({"TEAMS_WORKFLOW_URL": "https://flows.example/hook?sig=abc"}, 404),  # post-only
    ],
)
def test_the_callback_is_served_beside_every_platform(engine, platform, slack_events):
    with FakeSlack() as slack:
        settings = Settings(_env_file=None, **CW, SLACK_API_URL=slack.api_url, **platform)  # type: ignore[call-arg]
        service = build_service(
            settings, parse_config({}), engine, dry_run=False, console=Console()
        )
        try:
            asgi = service_asgi(service, settings)
            callback, events, unknown = statuses(
                asgi,
                [("/connectwise/callback", UNSIGNED), ("/slack/events", b"{}"), ("/nope", b"")],
            )
        finally:
            service.close()
    assert callback == 401  # served, and refusing what is not signed
    assert events == slack_events
    assert unknown == 404


@pytest.mark.parametrize(("secret", "served"), [("csat-secret", True), (None, False)])
def test_the_rating_pages_are_served_when_the_links_have_a_secret(engine, secret, served):
    env = {**CW, "SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s"}
    if secret:
        env["CSAT_LINK_SECRET"] = secret
    with FakeSlack() as slack:
        settings = Settings(_env_file=None, **env, SLACK_API_URL=slack.api_url)  # type: ignore[call-arg]
        service = build_service(
            settings, parse_config({}), engine, dry_run=False, console=Console()
        )
        try:
            asgi = service_asgi(service, settings)

            async def get() -> httpx.Response:
                transport = httpx.ASGITransport(app=asgi)
                async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
                    return await client.get("/csat/41237/positive/forged")

            page = asyncio.run(get())
        finally:
            service.close()
    if served:
        assert page.status_code == 403  # the link checked, and refused with a page
        assert "not valid" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
    else:
        assert page.status_code == 404

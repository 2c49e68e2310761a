"""The OAuth install (HTTP mode, several workspaces) keeps its secrets out of the logs even
at DEBUG: the client secret Slack's ``oauth.v2.access`` is called with, and the bot token it
answers with (slack_sdk logs whole response bodies at DEBUG unless told otherwise)."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bot.settings import Settings
from bot.slack.app import build_slack_app, http_app, installed_bot_token
from tests.bot.slack.fake_slack import FakeSlack

CLIENT_ID = "2741963802.5839201746"
CLIENT_SECRET = "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
BOT_TOKEN = "xoxb-2741963802-5839201746-Qm7rT2kVbN9xLwZp4cY8dHfE"


def test_an_oauth_install_logs_neither_the_client_secret_nor_the_bot_token(
    deps, engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    for name in ("slack_sdk", "slack_bolt", "httpx", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    slack.installed_bot_token = BOT_TOKEN
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET="8f3c1e9a7b2d4f6e0a1c3e5b7d9f2a4c",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_API_URL=slack.api_url,
    )
    app = build_slack_app(deps=replace(deps, settings=settings))

    async def install() -> tuple[int, int]:
        transport = httpx.ASGITransport(
            app=http_app(app, signing_secret="8f3c1e9a7b2d4f6e0a1c3e5b7d9f2a4c")
        )
        async with httpx.AsyncClient(transport=transport, base_url="https://deskboard") as web:
            page = await web.get("/slack/install")
            link = next(
                part.split('"')[0]
                for part in page.text.split('href="')[1:]
                if "slack.com/oauth" in part
            )
            state = parse_qs(urlparse(link.replace("&amp;", "&")).query)["state"][0]
            done = await web.get(f"/slack/oauth_redirect?code=the-code&state={state}")
            return page.status_code, done.status_code

    assert asyncio.run(install()) == (200, 200)
    assert [c.method for c in slack.calls if c.method == "oauth.v2.access"]
    assert installed_bot_token(engine, client_id=CLIENT_ID) == BOT_TOKEN  # installed

    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for secret in (CLIENT_SECRET, BOT_TOKEN, basic):
        assert secret not in caplog.text

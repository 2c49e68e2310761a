"""``SlackMessenger`` and ``SlackIdentity`` against the fake Slack Web API, and how
``build_slack_app`` reads the settings."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine, inspect

from bot.chat.message import Message, Paragraph, Span
from bot.chat.messenger import DeliveryFailed, DeliveryRefused, PlatformUnavailable
from bot.settings import Settings, SettingsError
from bot.slack.app import build_slack_app, http_app, slack_client
from bot.slack.deps import SlackDeps
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import SlackMessenger
from storage import people
from storage.db import session_scope
from tests.bot.slack.conftest import (
    JORDAN,
    NOW,
    SECRET,
    blocks_of,
    signature_headers,
    slash_body,
    texts,
)

HELLO = Message(text="hello", blocks=(Paragraph(((Span("<!channel> hello & bye"),),)),))


class Clock:
    """A monotonic clock that only moves when slept on (or told to)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Today:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def today() -> Today:
    return Today(NOW)


@pytest.fixture
def messenger(client: WebClient, engine: Engine, clock: Clock, today: Today) -> SlackMessenger:
    return SlackMessenger(
        client, engine=engine, clock=today, sleep=clock.sleep, monotonic=clock.monotonic
    )


def test_post_sends_escaped_blocks_then_the_chart(messenger, slack, clock):
    ref = messenger.post("#deskboard", HELLO, b"\x89PNG chart bytes", "standings.png")
    post = slack.calls_to("chat.postMessage")[0].params
    assert ref == f"CDESKBOARD:{slack.posted[0].ts}"  # the fake's channel id and ts
    assert post["channel"] == "#deskboard"
    assert "&lt;!channel&gt; hello &amp; bye" in texts(blocks_of(post))
    assert slack.calls_to("files.getUploadURLExternal")[0].params["filename"] == "standings.png"
    assert slack.uploads == [b"\x89PNG chart bytes"]
    complete = slack.calls_to("files.completeUploadExternal")[0].params
    assert complete["channel_id"] == "CDESKBOARD"
    # The chart is a second post to the same channel: it waited a second after the message.
    assert clock.slept == [1.0]


def test_posts_to_one_channel_are_a_second_apart(messenger, clock):
    messenger.post("C1", HELLO)
    clock.now += 0.25
    messenger.post("C1", HELLO)  # 0.25 s after the first: waits the other 0.75 s
    messenger.post("C2", HELLO)  # another channel: no wait
    clock.now += 5
    messenger.post("C1", HELLO)  # long after: no wait
    assert clock.slept == [0.75]


def test_a_failed_chart_upload_keeps_the_posted_message(messenger, slack):
    slack.failures["files.getUploadURLExternal"] = "not_in_channel"
    ref = messenger.post("C1", HELLO, b"png", "chart.png")
    assert ref == f"C1:{slack.posted[0].ts}"  # not raised: retrying would post it twice
    assert slack.uploads == []


def test_errors_no_retry_can_fix_are_refused_others_raised(messenger, slack):
    slack.failures["chat.postMessage"] = "invalid_blocks"
    with pytest.raises(DeliveryRefused, match="invalid_blocks"):
        messenger.post("C1", HELLO)
    slack.failures["chat.postMessage"] = "not_in_channel"  # an admin can invite the bot
    with pytest.raises(DeliveryFailed, match="not_in_channel"):  # retried: nothing was posted
        messenger.post("C1", HELLO)
    slack.failures["chat.postMessage"] = "invalid_auth"  # every message would fail: pass stops
    with pytest.raises(PlatformUnavailable, match="invalid_auth"):
        messenger.post("C1", HELLO)


def test_rate_limited_calls_are_retried_by_the_client(slack):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.root + "/api"
    )
    client = slack_client(settings)
    assert client.base_url == slack.api_url  # the trailing slash slack_sdk needs is added
    assert any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers)
    slack.failures["chat.postMessage"] = "ratelimited"
    reply = client.chat_postMessage(channel="C1", text="hi")
    assert reply["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2  # the 429, then the retry


def test_dm_finds_the_technician_by_email_and_remembers_misses(messenger, slack, engine, today):
    ref = messenger.dm("bokafor", HELLO)
    assert ref == f"DUBLESSING:{slack.posted[0].ts}"
    assert slack.calls_to("conversations.open")[0].params["users"] == "UBLESSING"

    assert messenger.dm("dispatch", HELLO) is None  # dana.whitaker@... has no Slack user
    assert messenger.dm("dispatch", HELLO) is None
    lookups = [c.params["email"] for c in slack.calls_to("users.lookupByEmail")]
    assert lookups == ["blessing.okafor@velocity-it.example", "dana.whitaker@velocity-it.example"]

    today.moment = NOW + timedelta(days=1, minutes=1)  # a day later, asked again
    assert messenger.dm("dispatch", HELLO) is None
    assert len(slack.calls_to("users.lookupByEmail")) == 3
    with session_scope(engine) as session:
        assert people.chat_user_checked_at(session, platform="slack", member_key="dispatch") == (
            today.moment
        )


def test_dm_skips_opted_out_technicians(messenger, slack, engine):
    with session_scope(engine) as session:
        people.set_opt_out(session, member_key="bokafor", opted_out=True, at=NOW)
    assert messenger.dm("bokafor", HELLO) is None
    assert slack.calls == []


def test_an_admins_link_beats_the_email_and_never_goes_stale(client, slack, engine, today):
    with session_scope(engine) as session:
        people.set_chat_user(
            session,
            platform="slack",
            member_key="bokafor",
            user_id="ULINKED",
            source="link",
            at=NOW,
        )
    identity = SlackIdentity(client, engine=engine, clock=today)
    today.moment = NOW + timedelta(days=30)
    assert identity.user_for_member("bokafor") == "ULINKED"
    assert slack.calls_to("users.lookupByEmail") == []
    assert identity.member_for_user("ULINKED") == "bokafor"


def test_update_rewrites_the_referenced_message(messenger, slack):
    messenger.update("D123:1700000000.000200", HELLO)
    update = slack.calls_to("chat.update")[0].params
    assert (update["channel"], update["ts"]) == ("D123", "1700000000.000200")
    with pytest.raises(ValueError, match="CHANNEL:TS"):
        messenger.update("no-reference", HELLO)


def test_admins_are_workspace_admins_or_named_in_the_config(client, slack, engine, today):
    identity = SlackIdentity(client, engine=engine, clock=today, admins=["scohen", "UBOSS"])
    assert identity.is_admin("UADMIN")  # is_admin in users.info
    assert identity.is_admin("USARAH")  # ConnectWise identifier scohen, by her email
    assert identity.is_admin("UBOSS")  # a Slack user id in the list
    assert not identity.is_admin("UBLESSING")
    assert not identity.is_admin("UGUEST")


def test_build_slack_app_refuses_http_mode_without_a_signing_secret(deps, client):
    settings = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-test")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        build_slack_app(deps=_with(deps, settings), client=client)


def test_oauth_mode_keeps_installations_in_our_database(deps, engine, slack):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET="secret",
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="client-secret",
        SLACK_API_URL=slack.api_url,
    )
    app = build_slack_app(deps=_with(deps, settings))
    tables = set(inspect(engine).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables
    assert app.oauth_flow is not None
    assert app.client.base_url == slack.api_url
    assert slack.calls == []  # no token: nothing asked of Slack at start


def _with(deps: SlackDeps, settings: Settings) -> SlackDeps:
    return replace(deps, settings=settings)


def test_http_mode_serves_signed_events_and_refuses_others(app, slack):
    body = slash_body(slack, "/deskboard", "help", user=JORDAN)

    async def exchange() -> tuple[str, int, int]:
        transport = httpx.ASGITransport(app=http_app(app, signing_secret=SECRET))
        async with httpx.AsyncClient(transport=transport, base_url="http://deskboard") as web:
            health = (await web.get("/health")).text
            good = await web.post("/slack/events", content=body, headers=signature_headers(body))
            forged = signature_headers(body, secret="guessed")
            bad = await web.post("/slack/events", content=body, headers=forged)
            return health, good.status_code, bad.status_code

    assert asyncio.run(exchange()) == ("ok", 200, 401)
    assert "Deskboard commands" in texts(blocks_of(slack.wait_for_response()[0]))
    assert len(slack.responses) == 1  # the forged one was never answered


def test_oauth_mode_posts_with_the_installed_bots_token(engine, slack):
    """No SLACK_BOT_TOKEN: scheduled messages use the token the OAuth install stored."""
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from bot.slack.app import messaging_client
    from tests.bot.slack.fake_slack import TEAM_ID

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="oauth-secret",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
    )
    client = messaging_client(settings, engine)
    messenger = SlackMessenger(client, engine=engine, sleep=lambda _s: None)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    store.create_tables()
    store.save(
        Installation(
            app_id="ADESK", team_id=TEAM_ID, user_id="UADMIN",
            bot_token="xoxb-installed-1", bot_id="B1", bot_user_id="UBOT",
        )
    )  # fmt: skip

    messenger.post("CSTANDINGS", Message(text="hello"))

    (call,) = slack.calls_to("chat.postMessage")
    assert call.token == "xoxb-installed-1"


# ---- exactly-once: the outbox key in the metadata, and finding a message by it --------------


def test_a_posted_message_is_found_again_by_its_outbox_key(messenger, slack):
    ref = messenger.post("#deskboard", HELLO, key="slack:kudos:7")
    assert slack.posted[0].metadata == {
        "event_type": "deskboard_outbox",
        "event_payload": {"key": "slack:kudos:7"},
    }
    messenger.post("#deskboard", HELLO, key="slack:kudos:8")  # a later one, same channel
    since = NOW - timedelta(days=30)  # the fake's ts are the wall clock's: after NOW
    # "#deskboard" is looked up by name (conversations.list), its history read with metadata
    found = messenger.find_delivered(
        kind="post", target="#deskboard", key="slack:kudos:7", since=since
    )
    assert found == ref
    history = slack.calls_to("conversations.history")[-1].params
    assert history["channel"] == "CDESKBOARD"
    assert str(history["include_all_metadata"]).lower() in ("1", "true")
    missing = messenger.find_delivered(
        kind="post", target="CDESKBOARD", key="slack:kudos:9", since=since
    )
    assert missing is None
    later = datetime.now(UTC) + timedelta(minutes=1)  # only messages since then: none
    assert (
        messenger.find_delivered(kind="post", target="CDESKBOARD", key="slack:kudos:7", since=later)
        is None
    )


def test_a_dm_is_found_in_the_technicians_dm_channel(messenger, slack):
    ref = messenger.dm("bokafor", HELLO, key="slack:nudges:bokafor:1")
    found = messenger.find_delivered(
        kind="dm", target="bokafor", key="slack:nudges:bokafor:1", since=NOW - timedelta(days=30)
    )
    assert found == ref
    assert slack.calls_to("conversations.history")[-1].params["channel"] == "DUBLESSING"


def test_history_the_app_may_not_read_means_send_again(messenger, slack):
    messenger.post("C1", HELLO, key="k")
    slack.failures["conversations.history"] = "missing_scope"  # installed without the scope
    since = NOW - timedelta(days=30)
    assert messenger.find_delivered(kind="post", target="C1", key="k", since=since) is None
    slack.failures["conversations.history"] = "invalid_auth"
    with pytest.raises(PlatformUnavailable):  # cannot tell: the outbox retries the lookup
        messenger.find_delivered(kind="post", target="C1", key="k", since=since)

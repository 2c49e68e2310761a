"""HTTP mode lets in only signed, fresh, first-time requests: unsigned, forged, stale and
replayed ones get 401 and reach no listener; Slack's own retries (signed anew) get through."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import http_app
from bot.slack.replay import WINDOW_SECONDS, ReplayGuard
from tests.bot.slack.conftest import (
    BLESSING,
    JORDAN,
    SECRET,
    TEAM_ID,
    blocks_of,
    slash_body,
    texts,
)
from tests.bot.slack.fake_slack import FakeSlack

FORM = "application/x-www-form-urlencoded"


def headers_for(
    body: str, *, timestamp: int, secret: str = SECRET, content_type: str = FORM
) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {
        "content-type": content_type,
        "x-slack-signature": signature,
        "x-slack-request-timestamp": str(timestamp),
    }


def bolt_request(body: str, headers: dict[str, str]) -> BoltRequest:
    return BoltRequest(body=body, headers={name: [value] for name, value in headers.items()})


def help_body(slack: FakeSlack) -> str:
    return slash_body(slack, "/deskboard", "help", user=JORDAN)


def test_unsigned_forged_and_stale_requests_are_refused(app: App, slack: FakeSlack):
    body = help_body(slack)
    now = int(time.time())
    unsigned = app.dispatch(bolt_request(body, {"content-type": FORM}))
    forged = app.dispatch(bolt_request(body, headers_for(body, timestamp=now, secret="guess")))
    stale_ts = now - WINDOW_SECONDS - 60
    stale = app.dispatch(bolt_request(body, headers_for(body, timestamp=stale_ts)))
    future = app.dispatch(bolt_request(body, headers_for(body, timestamp=now + 3600)))
    tampered = headers_for(body, timestamp=now)
    altered = app.dispatch(bolt_request(body.replace("help", "sync"), tampered))
    assert [r.status for r in (unsigned, forged, stale, future, altered)] == [401] * 5

    # The same body, signed properly now, is served: the refusals were about the signature.
    assert app.dispatch(bolt_request(body, headers_for(body, timestamp=now))).status == 200
    (reply,) = slack.wait_for_response()
    assert "Deskboard commands" in texts(blocks_of(reply))
    assert len(slack.responses) == 1


def test_a_replayed_request_is_refused_and_runs_nothing(app: App, slack: FakeSlack):
    body = help_body(slack)
    headers = headers_for(body, timestamp=int(time.time()))
    first = app.dispatch(bolt_request(body, headers))
    replay = app.dispatch(bolt_request(body, headers))
    assert (first.status, replay.status) == (200, 401)
    assert "replayed" in replay.body

    other = slash_body(slack, "/deskboard", "help", user=BLESSING)
    assert app.dispatch(bolt_request(other, headers_for(other, timestamp=int(time.time())))).status
    replies = slack.wait_for_response(count=2)
    assert len(replies) == 2  # the first and the other, never the replay
    assert app.dispatch(bolt_request(body, headers)).status == 401  # and not a third time


def test_slacks_own_retries_are_signed_anew_and_get_through(app: App, slack: FakeSlack):
    envelope = {
        "token": "verification",
        "team_id": TEAM_ID,
        "api_app_id": "ADESK",
        "type": "event_callback",
        "event_id": "EvRETRY",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": BLESSING.id, "tab": "home", "channel": "D1"},
    }
    body = json.dumps(envelope)
    now = int(time.time())
    first = headers_for(body, timestamp=now - 4, content_type="application/json")
    retry = {
        **headers_for(body, timestamp=now, content_type="application/json"),
        "x-slack-retry-num": "1",
        "x-slack-retry-reason": "http_timeout",
    }
    assert app.dispatch(bolt_request(body, first)).status == 200
    assert app.dispatch(bolt_request(body, retry)).status == 200
    assert len(slack.wait_for_call("views.publish", count=2)) == 2


def test_the_http_endpoint_refuses_a_replay(app: App, slack: FakeSlack):
    body = help_body(slack)
    headers = headers_for(body, timestamp=int(time.time()))

    async def exchange() -> list[int]:
        transport = httpx.ASGITransport(app=http_app(app, signing_secret=SECRET))
        async with httpx.AsyncClient(transport=transport, base_url="http://deskboard") as web:
            unsigned = await web.post("/slack/events", content=body, headers={"content-type": FORM})
            first = await web.post("/slack/events", content=body, headers=headers)
            again = await web.post("/slack/events", content=body, headers=headers)
            return [unsigned.status_code, first.status_code, again.status_code]

    assert asyncio.run(exchange()) == [401, 200, 401]
    slack.wait_for_response()
    assert len(slack.responses) == 1


def test_the_guard_forgets_a_signature_once_bolt_would_refuse_it_as_stale():
    now = [1_000_000.0]
    guard = ReplayGuard(clock=lambda: now[0])
    assert guard.first_sight("v0=abc", "1000000")
    assert not guard.first_sight("v0=abc", "1000000")
    now[0] += WINDOW_SECONDS  # still within Bolt's window: still remembered
    assert not guard.first_sight("v0=abc", "1000000")
    now[0] += 2  # past it: Bolt refuses the timestamp itself, so the memory may go
    assert guard.first_sight("v0=new", str(int(now[0])))
    assert len(guard) == 1
    assert not guard.first_sight("", str(int(now[0])))  # no signature is never "new"


def test_socket_mode_requests_carry_no_signature_and_are_not_refused(app: App, slack: FakeSlack):
    """Socket Mode events come over Slack's authenticated connection, unsigned; the replay
    guard must let them through (Slack may redeliver one: the listeners ack first)."""
    body = help_body(slack)
    first = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    again = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert (first.status, again.status) == (200, 200)
    assert len(slack.wait_for_response(count=2)) == 2

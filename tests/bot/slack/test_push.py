"""``POST /connectwise/callback`` through the service's ASGI app: a callback signed as
ConnectWise signs it syncs that one ticket at once (kudos reach the fake Slack); anything
unsigned, wrongly signed, keyed elsewhere, stale, replayed or malformed is refused, and then
nothing is read from ConnectWise, stored or posted."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.config import parse_config
from bot.core.runtime import Runtime
from bot.service import Service, service_asgi
from bot.settings import Settings
from bot.slack.messenger import SlackMessenger
from psa.connectwise.callbacks import push_verifier
from psa.connectwise.simulator import SimulatorServer
from psa.connectwise.simulator.faults import Fault
from storage import repo
from storage.db import session_scope
from tests.bot.slack.conftest import (
    END,
    open_ticket_answered_by_its_technician,
    open_tickets_answered_by_their_technician,
)
from tests.bot.slack.fake_slack import FakeSlack
from tests.loopback import Loopback, QuietHandler

LATER = END + timedelta(minutes=20)
CONFIG = {
    "timezone": "America/Chicago",
    "members": {"exclude": ["dispatch"]},
    "kudos": {"channel": "CKUDOS", "mode": "instant", "daily_cap": 5},
}


def spec_signature(body: bytes, signing_key: str) -> str:
    """base64(HMAC-SHA256(key = SHA256(signing key), body)), as API.md describes."""
    key = hashlib.sha256(signing_key.encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


class Push:
    """The service's ASGI app over the simulator and the fake Slack, at a settable clock."""

    def __init__(
        self, engine, simulator: SimulatorServer, slack: FakeSlack, config: dict[str, Any] = CONFIG
    ) -> None:
        self.now = LATER
        self.simulator = simulator
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        clock = lambda: self.now  # noqa: E731
        runtime = Runtime(
            engine=engine,
            config=parse_config(config),
            messengers=(SlackMessenger(client, engine=engine, clock=clock, sleep=lambda _s: None),),
            psa=simulator.connectwise_client,
            clock=clock,
            ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
        )
        verifier = push_verifier(api_url=simulator.url, clients=simulator.connectwise_client)
        self.service = Service(runtime, push_verifier=verifier)
        settings = Settings(_env_file=None, CW_API_URL=simulator.url)  # type: ignore[call-arg]
        self.asgi = service_asgi(self.service, settings)

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://deskboard") as c:
                return await c.post("/connectwise/callback", content=body, headers=headers or {})

        response = asyncio.run(send())
        assert self.service.callbacks is not None
        self.service.callbacks.join()  # whatever was queued has been synced
        return response

    def signed(self, body: bytes, key: str | None = None) -> httpx.Response:
        signature = spec_signature(body, key or self.simulator.signing_key)
        return self.post(body, {"x-content-signature": signature})

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def push(engine, simulator, slack) -> Iterator[Push]:
    simulator.clock = LATER
    wiring = Push(engine, simulator, slack)
    yield wiring
    wiring.close()


def callback_body(
    simulator: SimulatorServer, ticket_id: int, *, action: str = "updated", key_url: str = ""
) -> bytes:
    with simulator.connectwise_client() as client:
        entity = client.get_ticket_raw(ticket_id)
    payload = {
        "Action": action,
        "Type": "ticket",
        "ID": ticket_id,
        "CompanyId": simulator.company,
        "MemberId": "jsmith",
        "FromUrl": simulator.root_url,
        "Entity": json.dumps(entity),
        "Metadata": {"key_url": key_url or simulator.callback_key_url},
    }
    return json.dumps(payload).encode()


def stored_resolution(engine, ticket_id: int):
    with session_scope(engine) as session:
        (record,) = repo.get_tickets(session, ids=[ticket_id])
    return record.resolved_at


def kudos_posts(slack: FakeSlack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CKUDOS"]


def ticket_reads(simulator: SimulatorServer) -> list[str]:
    return [r.path for r in simulator.requests if r.path.startswith("/service/tickets")]


def test_a_signed_callback_syncs_that_ticket_at_once_and_kudos_arrive(
    push, engine, simulator, slack
):
    ticket_id, technician = open_ticket_answered_by_its_technician(engine)
    simulator.resolve_ticket_now(ticket_id, by=technician)
    body = callback_body(simulator, ticket_id)
    simulator.clear_requests()

    response = push.signed(body)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "queued"}
    assert stored_resolution(engine, ticket_id) == LATER.replace(microsecond=0)
    (post,) = kudos_posts(slack)
    assert f"#{ticket_id}" in json.dumps(post.params)
    # that one ticket was read, by id: no poll of the ticket list explains it
    assert ticket_reads(simulator) == [f"/service/tickets/{ticket_id}"]


def test_a_push_that_cannot_read_its_ticket_is_the_last_error_and_the_poll_catches_up(
    push, engine, simulator, slack
):
    ticket_id, technician = open_ticket_answered_by_its_technician(engine)
    simulator.resolve_ticket_now(ticket_id, by=technician)
    body = callback_body(simulator, ticket_id)
    simulator.inject(Fault(path=f"/service/tickets/{ticket_id}", status=403, times=10))

    assert push.signed(body).status_code == 200  # accepted; the read fails afterwards

    assert stored_resolution(engine, ticket_id) is None
    assert kudos_posts(slack) == []
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
    assert state.last_error is not None
    assert state.last_error.startswith(f"push of ticket #{ticket_id}: ")
    assert state.failing  # deskboard status says the latest sync failed
    simulator.clear_faults()
    push.service.runtime.sync()  # the next poll
    assert stored_resolution(engine, ticket_id) == LATER.replace(microsecond=0)
    about_it = [p for p in kudos_posts(slack) if f"#{ticket_id} " in json.dumps(p.params)]
    assert len(about_it) == 1


def test_the_signing_key_is_fetched_once_and_cached(push, engine, simulator):
    (first, by_first), (second, by_second) = open_tickets_answered_by_their_technician(engine)[:2]
    simulator.resolve_ticket_now(first, by=by_first)
    simulator.resolve_ticket_now(second, by=by_second)
    simulator.clear_requests()
    assert push.signed(callback_body(simulator, first)).status_code == 200
    assert push.signed(callback_body(simulator, second)).status_code == 200
    assert stored_resolution(engine, second) is not None
    keys = [r for r in simulator.requests if r.path.startswith("/system/callbackkeys/")]
    assert len(keys) == 1


class KeyServer:
    """An attacker's server handing out its own signing key; it counts who asks."""

    def __init__(self) -> None:
        self.requests = 0
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                data = b'{"signing_key": "attacker-key"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = Loopback(Handler).start()

    @property
    def url(self) -> str:
        return f"{self.server.url}/v4_6_release/apis/3.0/system/callbackkeys/k"


@pytest.fixture
def attacker() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.server.stop()


def refused_cases(push: Push, simulator: SimulatorServer, body: bytes, foreign: bytes):
    yield "unsigned", push.post(body), 401
    yield "signed with another key", push.signed(body, key="a-guessed-key"), 401
    tampered = body.replace(b'"Action": "updated"', b'"Action": "added"')
    yield (
        "tampered",
        push.post(tampered, {"x-content-signature": spec_signature(body, simulator.signing_key)}),
        401,
    )
    yield "foreign key_url", push.signed(foreign, key="attacker-key"), 401
    yield "malformed", push.signed(b'{"Action": "updated", "Type": "ticket", "ID": "x"}'), 400
    push.now = LATER + timedelta(minutes=16)
    yield "stale", push.signed(body), 403
    push.now = LATER - timedelta(minutes=16)
    yield "from the future", push.signed(body), 403
    push.now = LATER


def test_refused_callbacks_read_store_and_post_nothing(
    push, engine, simulator, slack, attacker, caplog
):
    caplog.set_level(logging.DEBUG)
    ticket_id, technician = open_ticket_answered_by_its_technician(engine)
    simulator.resolve_ticket_now(ticket_id, by=technician)
    body = callback_body(simulator, ticket_id)
    foreign = callback_body(simulator, ticket_id, key_url=attacker.url)
    seen = []
    simulator.clear_requests()
    for case, response, status in refused_cases(push, simulator, body, foreign):
        seen.append(case)
        assert response.status_code == status, case
        assert response.json()["ok"] is False
        assert simulator.signing_key not in response.text
    assert len(seen) == 7
    assert attacker.requests == 0  # the foreign key URL was never fetched (no SSRF)
    assert ticket_reads(simulator) == []
    assert stored_resolution(engine, ticket_id) is None
    assert kudos_posts(slack) == []
    # refusals are logged with their reason, never with the key, a signature or the body
    assert "refused (401): the signature does not match" in caplog.text
    assert simulator.signing_key not in caplog.text
    assert spec_signature(body, simulator.signing_key) not in caplog.text
    assert simulator.private_key not in caplog.text
    assert '"Entity"' not in caplog.text


def test_a_replayed_callback_is_refused(push, engine, simulator, slack):
    ticket_id, technician = open_ticket_answered_by_its_technician(engine)
    simulator.resolve_ticket_now(ticket_id, by=technician)
    body = callback_body(simulator, ticket_id)
    assert push.signed(body).status_code == 200
    simulator.clear_requests()

    replay = push.signed(body)

    assert replay.status_code == 403
    assert "replayed" in replay.json()["message"]
    assert ticket_reads(simulator) == []
    assert len(kudos_posts(slack)) == 1


def test_deleted_is_acknowledged_and_changes_nothing(push, engine, simulator):
    ticket_id, _ = open_ticket_answered_by_its_technician(engine)
    body = callback_body(simulator, ticket_id, action="deleted")
    simulator.clear_requests()
    response = push.signed(body)
    assert response.status_code == 200
    assert response.json()["message"] == "ignored"
    assert ticket_reads(simulator) == []
    with session_scope(engine) as session:
        assert repo.get_tickets(session, ids=[ticket_id])  # still stored; the poll reconciles


def test_a_ticket_on_a_board_not_selected_is_not_stored(engine, simulator, slack):
    ticket_id, technician = next(
        (i, t) for i, t in open_tickets_answered_by_their_technician(engine)
        if board_of(engine, i) == "Service Desk"
    )  # fmt: skip
    simulator.clock = LATER
    simulator.resolve_ticket_now(ticket_id, by=technician)
    body = callback_body(simulator, ticket_id)
    only_escalations = Push(
        engine, simulator, slack, {**CONFIG, "connectwise": {"boards": ["Escalations"]}}
    )
    try:
        assert only_escalations.signed(body).status_code == 200
    finally:
        only_escalations.close()
    assert stored_resolution(engine, ticket_id) is None
    assert kudos_posts(slack) == []


def board_of(engine, ticket_id: int) -> str | None:
    with session_scope(engine) as session:
        (record,) = repo.get_tickets(session, ids=[ticket_id])
    return record.board

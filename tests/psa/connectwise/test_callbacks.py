"""ConnectWise callbacks in psa: the signature as API.md describes it, the key-URL origin
check, the body parser, and the simulator's /system/callbacks, signing key and signed POSTs
against a small recording HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from psa.connectwise.callbacks import (
    ConnectWisePushVerifier,
    KeyFetchLimited,
    MalformedCallback,
    SigningKeys,
    parse_callback,
    same_site,
    sign,
    signature_matches,
)
from psa.connectwise.errors import ConnectWiseError, NotFound
from psa.connectwise.simulator import SimulatorServer, generate_msp
from psa.port import Push, PushRejected
from tests.loopback import Loopback, QuietHandler

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)
API = "https://na.myconnectwise.net/v4_6_release/apis/3.0"


def spec_signature(body: bytes, signing_key: str) -> str:
    """base64(HMAC-SHA256(key = SHA256(signing key), body)), written out from API.md."""
    key = hashlib.sha256(signing_key.encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


class Recorder:
    """An HTTP server on 127.0.0.1:0 that answers 200 and keeps every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        recorder = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.body()
                recorder.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = Loopback(Handler).start()

    @property
    def url(self) -> str:
        return f"{self.server.url}/connectwise/callback"

    def close(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def msp():
    return generate_msp(seed=5, start=START, end=END, tickets_per_workday=10)


@pytest.fixture
def simulator(msp) -> Iterator[SimulatorServer]:
    with SimulatorServer(msp, clock=END) as server:
        yield server


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


# ---- signature, origin, parsing ----------------------------------------------------------


def test_the_signature_is_the_one_the_spec_describes():
    body = b'{"Action":"updated","Type":"ticket","ID":7}'
    assert sign(body, "k3y") == spec_signature(body, "k3y")
    assert signature_matches(body, spec_signature(body, "k3y"), "k3y")
    assert not signature_matches(body + b" ", spec_signature(body, "k3y"), "k3y")
    assert not signature_matches(body, spec_signature(body, "other"), "k3y")
    # a plain HMAC with the key itself (not its SHA-256) is not the ConnectWise signature
    plain = base64.b64encode(hmac.new(b"k3y", body, hashlib.sha256).digest()).decode()
    assert not signature_matches(body, plain, "k3y")
    assert not signature_matches(body, "not base64 at all!", "k3y")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://na.myconnectwise.net/v4_6_release/apis/3.0/system/callbackkeys/1", True),
        ("https://NA.myconnectwise.net:443/anything/else", True),
        ("http://na.myconnectwise.net/v4_6_release/apis/3.0/key", False),  # scheme
        ("https://evil.example/v4_6_release/apis/3.0/key", False),
        ("https://na.myconnectwise.net.evil.example/key", False),
        ("https://na.myconnectwise.net:8443/key", False),
        ("https://user:pw@na.myconnectwise.net/key", False),
        ("https://evil.example@na.myconnectwise.net/key", False),
        ("file:///etc/passwd", False),
        ("https://[::1/key", False),
        ("", False),
    ],
)
def test_only_key_urls_on_the_configured_site_are_trusted(url, ok):
    assert same_site(url, API) is ok


def body_of(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "Action": "updated",
        "Type": "ticket",
        "ID": 12,
        "Entity": json.dumps({"id": 12, "_info": {"lastUpdated": "2026-11-13T22:00:00Z"}}),
        "Metadata": {"key_url": f"{API}/system/callbackkeys/x"},
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def test_a_callback_body_is_read_for_action_id_key_url_and_last_updated():
    payload = parse_callback(body_of())
    assert (payload.action, payload.type, payload.id) == ("updated", "ticket", 12)
    assert payload.key_url == f"{API}/system/callbackkeys/x"
    assert payload.last_updated == datetime(2026, 11, 13, 22, 0, tzinfo=UTC)
    assert parse_callback(body_of(Entity=None)).last_updated is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (body_of(Action="exploded"), "Action"),
        (body_of(ID="twelve"), "ID"),
        (body_of(ID=-1), "ID"),
        (body_of(Metadata={}), "key_url"),
        (body_of(Entity="{broken"), "Entity is not JSON"),
        (body_of(Entity=json.dumps({"_info": {"lastUpdated": "yesterday"}})), "lastUpdated"),
    ],
)
def test_malformed_bodies_are_named_without_their_values(body, problem):
    with pytest.raises(MalformedCallback, match=problem) as caught:
        parse_callback(body)
    assert "exploded" not in str(caught.value)
    assert "twelve" not in str(caught.value)


# ---- the simulator -------------------------------------------------------------------------


def test_register_and_list_callbacks_and_fetch_the_signing_key(simulator):
    with simulator.connectwise_client() as client:
        assert client.callbacks() == []
        created = client.register_callback(url="https://bot.example/connectwise/callback",
                                           description="Deskboard")  # fmt: skip
        (listed,) = client.callbacks()
        assert listed == created
        assert (listed.type, listed.level, listed.object_id) == ("ticket", "owner", 1)
        assert client.signing_key(simulator.callback_key_url) == simulator.signing_key
        with pytest.raises(NotFound):
            client.signing_key(f"{simulator.url}/system/callbackkeys/nope")
    # the key is not handed to anyone without the API credentials
    assert httpx.get(simulator.callback_key_url).status_code == 401


def test_registration_checks_the_body(simulator):
    bad = httpx.post(
        f"{simulator.url}/system/callbacks",
        json={"url": "ftp://x", "type": "ticket", "level": "owner", "objectId": "one"},
        headers=simulator.headers,
    )
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"url", "objectId"}


def test_changed_tickets_are_posted_signed_when_the_clock_moves(simulator, recorder):
    with simulator.connectwise_client() as client:
        client.register_callback(url=recorder.url, description="Deskboard")
    before = simulator.clock
    later = before + timedelta(hours=3)
    changed = httpx.get(
        f"{simulator.url}/service/tickets",
        params={"conditions": f"lastUpdated > [{before:%Y-%m-%dT%H:%M:%SZ}]", "pageSize": 1000,
                "fields": "id"},
        headers=simulator.headers,
    )  # fmt: skip
    assert changed.json() == []  # nothing after the clock yet
    simulator.clock = later
    simulator.wait_callbacks_sent()
    expected = httpx.get(
        f"{simulator.url}/service/tickets",
        params={"conditions": f"lastUpdated > [{before:%Y-%m-%dT%H:%M:%SZ}]", "pageSize": 1000,
                "fields": "id"},
        headers=simulator.headers,
    ).json()  # fmt: skip
    assert expected, "three hours of the simulated MSP changed no ticket"
    posted_ids = []
    for headers, body in recorder.posts:
        assert headers["x-content-signature"] == spec_signature(body, simulator.signing_key)
        payload = json.loads(body)
        entity = json.loads(payload["Entity"])
        assert payload["Type"] == "ticket"
        assert payload["Metadata"]["key_url"] == simulator.callback_key_url
        assert entity["id"] == payload["ID"]
        assert before < datetime.fromisoformat(entity["_info"]["lastUpdated"]) <= later
        posted_ids.append(payload["ID"])
    assert sorted(posted_ids) == sorted(t["id"] for t in expected)
    assert all(d.status == 200 for d in simulator.callback_deliveries)


def test_a_resolution_is_posted_at_once(simulator, recorder):
    with simulator.connectwise_client() as client:
        client.register_callback(url=recorder.url, description="Deskboard")
        open_ticket = next(
            t for page in client.iter_ticket_pages() for t in page.records
            if t.resolved_at is None and not t.closed
        )  # fmt: skip
    simulator.resolve_ticket_now(open_ticket.id, by="jsmith")
    simulator.wait_callbacks_sent()
    ((_, body),) = recorder.posts
    payload = json.loads(body)
    assert (payload["Action"], payload["ID"]) == ("updated", open_ticket.id)
    assert json.loads(payload["Entity"])["resolvedBy"] == "jsmith"


def test_signing_keys_are_cached_and_fetched_again_only_after_a_pause():
    fetched: list[str] = []
    keys_by_url = {"u": "first"}
    clock = [0.0]

    def fetch(url: str) -> str:
        fetched.append(url)
        return keys_by_url[url]

    keys = SigningKeys(fetch, ttl=3600, min_refresh=60, monotonic=lambda: clock[0])
    assert keys.get("u") == "first"
    assert keys.get("u") == "first"
    assert fetched == ["u"]  # cached
    keys_by_url["u"] = "rotated"
    assert keys.refresh("u") is None  # asked a moment ago: not again
    clock[0] = 61
    assert keys.refresh("u") == "rotated"
    assert keys.get("u") == "rotated"
    clock[0] = 61 + 3600
    assert keys.get("u") == "rotated"
    assert fetched == ["u", "u", "u"]  # refreshed once, then again when the hour was up


def test_key_requests_are_limited_per_minute_whatever_the_urls():
    fetched: list[str] = []
    clock = [0.0]

    def fetch(url: str) -> str:
        fetched.append(url)
        return "k"

    keys = SigningKeys(fetch, fetches_per_minute=3, monotonic=lambda: clock[0])
    for n in range(3):
        assert keys.get(f"https://cw.example/key/{n}") == "k"
    with pytest.raises(KeyFetchLimited):
        keys.get("https://cw.example/key/3")
    assert keys.get("https://cw.example/key/0") == "k"  # cached keys still answer
    assert len(fetched) == 3
    clock[0] = 60.0
    assert keys.get("https://cw.example/key/3") == "k"
    assert len(fetched) == 4


def callback(*, action: str = "updated", kind: str = "ticket", stamp: str | None = None) -> bytes:
    entity = {"id": 7, "_info": {"lastUpdated": stamp}} if stamp else {"id": 7}
    return json.dumps(
        {
            "Action": action,
            "Type": kind,
            "ID": 7,
            "Entity": json.dumps(entity),
            "Metadata": {"key_url": f"{API}/system/callbackkeys/1"},
        }
    ).encode()


def rejection(verifier: ConnectWisePushVerifier, headers: dict[str, str], body: bytes):
    with pytest.raises(PushRejected) as caught:
        verifier.verify(headers, body)
    return caught.value.status, caught.value.reason


def test_the_push_verifier_returns_the_push_or_the_http_answer_of_its_refusal():
    """``psa.port.PushVerifier`` for ConnectWise: a verified body becomes a ``Push``; each
    refusal carries the status and the message the route answers with."""
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        return "the-key"

    verifier = ConnectWisePushVerifier(api_url=API, fetch_key=fetch)
    body = callback(stamp="2026-11-13T22:50:00Z")
    signed = {"x-content-signature": spec_signature(body, "the-key")}
    assert verifier.verify(signed, body) == Push(
        record_id=7,
        action="updated",
        kind="ticket",
        changed_at=datetime(2026, 11, 13, 22, 50, tzinfo=UTC),
    )
    assert rejection(verifier, {}, body) == (401, "no x-content-signature header")
    assert rejection(verifier, signed, b"[]") == (
        400,
        "not a ConnectWise callback: the body is not a JSON object",
    )
    foreign = body.replace(b"na.myconnectwise.net", b"evil.example")
    assert rejection(
        verifier, {"x-content-signature": spec_signature(foreign, "the-key")}, foreign
    ) == (401, "the signing key is not on the configured ConnectWise site")
    wrong = {"x-content-signature": spec_signature(body, "another-key")}
    assert rejection(verifier, wrong, body) == (401, "the signature does not match")
    unstamped = callback()
    assert rejection(
        verifier, {"x-content-signature": spec_signature(unstamped, "the-key")}, unstamped
    ) == (400, "the entity has no _info.lastUpdated: freshness unknown")
    deleted = callback(action="deleted")  # no time needed: nothing is synced
    push = verifier.verify({"x-content-signature": spec_signature(deleted, "the-key")}, deleted)
    assert (push.action, push.syncs_ticket, push.changed_at) == ("deleted", False, None)
    assert set(fetched) == {f"{API}/system/callbackkeys/1"}  # the foreign URL never fetched


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (NotFound("no such key"), 401, "ConnectWise has no signing key at the given key_url"),
        (ConnectWiseError("timed out"), 503, "the signing key could not be fetched; try again"),
        (KeyFetchLimited("busy"), 503, "too many signing-key requests; try again in a minute"),
    ],
)
def test_a_signing_key_that_cannot_be_read_is_refused_with_its_status(error, status, reason):
    def fetch(_url: str) -> str:
        raise error

    verifier = ConnectWisePushVerifier(api_url=API, fetch_key=fetch)
    body = callback(stamp="2026-11-13T22:50:00Z")
    headers = {"x-content-signature": spec_signature(body, "k")}
    assert rejection(verifier, headers, body) == (status, reason)

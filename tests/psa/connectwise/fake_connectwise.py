"""A small real HTTP server that plays ConnectWise for the client tests.

It listens on 127.0.0.1:0 in a thread, records every request (method, path below
/apis/3.0, query, headers, body) and answers from per-route queues of scripted responses.
An unscripted request gets HTTP 418, which the client does not retry, so a test that forgot a
response fails at once. Ticket JSON comes from ``ticket()``: our own fixture in ConnectWise's
shape (``_info`` dates, references with hrefs, null keys omitted).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.loopback import Loopback, QuietHandler

API_PREFIX = "/v4_6_release/apis/3.0"


@dataclass
class Scripted:
    """One response: JSON ``body`` (or ``raw`` bytes), status, headers; ``delay`` seconds
    before answering; ``drop`` closes the connection without any response."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # below /apis/3.0, e.g. /service/tickets
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    raw_target: str  # the request line's target, as sent

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class FakeConnectWise:
    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[Scripted]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # the most ever answered at once
        self._server = Loopback(self._handler_class(), poll_interval=0.01)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def script(self, method: str, path: str, *responses: Scripted) -> None:
        """Queue responses for ``method path`` (path below /apis/3.0), answered in order."""
        with self._lock:
            self._queues[(method.upper(), path)].extend(responses)

    def reply(self, method: str, path: str, body: Any, **options: Any) -> None:
        self.script(method, path, Scripted(body=body, **options))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def _next(self, method: str, path: str) -> Scripted | None:
        with self._lock:
            queue = self._queues.get((method, path))
            return queue.popleft() if queue else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def _serve(self) -> None:
                split = urlsplit(self.path)
                path = split.path
                if path.startswith(API_PREFIX):
                    path = path[len(API_PREFIX) :] or "/"
                body = self.body()
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(
                            method=self.command,
                            path=path,
                            query=parse_qs(split.query),
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            raw_target=self.path,
                        )
                    )
                scripted = fake._next(self.command, path) or Scripted(
                    status=418,
                    body={"code": "Unscripted", "message": f"no response for {path}"},
                )
                with fake._lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    if scripted.delay:
                        time.sleep(scripted.delay)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                if scripted.drop:
                    self.close_connection = True
                    return
                content = (
                    scripted.raw
                    if scripted.raw is not None
                    else json.dumps(scripted.body).encode()
                    if scripted.body is not None
                    else b""
                )
                try:
                    self.send_response(scripted.status)
                    headers = {"Content-Type": "application/json; charset=utf-8"}
                    headers.update(scripted.headers)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler


@pytest.fixture
def fake_cw() -> Iterator[FakeConnectWise]:
    server = FakeConnectWise()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def link_header(fake: FakeConnectWise, path: str, query: str, rel: str = "next") -> str:
    """A ConnectWise-style ``Link`` header pointing back at the fake."""
    return f'<{fake.api_url}{path}?{query}>; rel="{rel}"'


def ref(kind: str, ref_id: int, name: str, **extra: Any) -> dict[str, Any]:
    href = f"https://cw.example.test{API_PREFIX}/{kind}/{ref_id}"
    return {"id": ref_id, "name": name, **extra, "_info": {f"{kind.split('/')[-1]}_href": href}}


def ticket(ticket_id: int, **overrides: Any) -> dict[str, Any]:
    """A ticket as ConnectWise sends it; an override of None removes the key (null omitted)."""
    raw: dict[str, Any] = {
        "id": ticket_id,
        "summary": f"Printer offline #{ticket_id}",
        "recordType": "ServiceTicket",
        "board": ref("service/boards", 1, "Service Desk"),
        "status": ref("service/boards/1/statuses", 11, "In Progress"),
        "company": ref("company/companies", 250, "Harbor Dental", identifier="HarborDental"),
        "type": ref("service/boards/1/types", 12, "Hardware"),
        "subType": ref("service/boards/1/subtypes", 34, "Printer"),
        "priority": ref("service/priorities", 8, "Priority 3 - Normal"),
        "source": ref("service/sources", 2, "Email"),
        "owner": {"id": 176, "identifier": "AGarcia", "name": "Ana Garcia"},
        "closedFlag": False,
        "actualHours": 1.5,
        "respondMinutes": 12,
        "resPlanMinutes": 0,
        "resolveMinutes": 0,
        "minutesWaiting": 0,
        "dateResponded": "2026-11-02T14:20:00Z",
        "respondedBy": "AGarcia",
        "_info": {
            "lastUpdated": "2026-11-03T09:15:00Z",
            "updatedBy": "AGarcia",
            "dateEntered": "2026-11-02T14:05:00Z",
            "enteredBy": "template",
        },
    }
    for key, value in overrides.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw

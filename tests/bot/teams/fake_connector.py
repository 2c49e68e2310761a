"""A fake Bot Connector on 127.0.0.1:0: records what the bot sends and answers like Teams.

- ``POST /v3/conversations/{id}/activities`` (and ``.../activities/{reply_to}``): a new
  message; answered with a fresh numeric id, like Teams' message ids.
- ``PUT /v3/conversations/{id}/activities/{activity}``: a message rewritten.
- ``GET /v3/conversations/{id}/members/{user}``, ``.../members``, ``.../pagedMembers``: the
  roster, from ``users`` (anyone in every conversation); an unknown user gets 404.
- ``GET /v3/teams/{id}/conversations``: a team's channels, from ``teams``.

``failures`` holds HTTP statuses for the next sends (429 comes with ``Retry-After: 0``).
Every request is recorded with its bearer token. The server speaks HTTP/1.0, closing each
connection, so that clients on different event loops never share one.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.loopback import Loopback, QuietHandler


@dataclass(frozen=True)
class RosterUser:
    id: str  # "29:..."
    name: str
    email: str | None = None
    upn: str | None = None
    aad_object_id: str | None = None

    def account(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.aad_object_id:
            data["objectId"] = self.aad_object_id
        if self.email:
            data["email"] = self.email
        if self.upn:
            data["userPrincipalName"] = self.upn
        return data


@dataclass
class Request:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None  # PUT: the message rewritten; POST: the one replied to
    body: dict[str, Any] | None
    authorization: str | None
    answered_id: str | None = None  # the id the fake gave a new message


@dataclass
class FakeConnector:
    users: list[RosterUser] = field(default_factory=list)
    teams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # team id → channels
    requests: list[Request] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next POST/PUT
    _server: Loopback | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1700000000001))

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> FakeConnector:
        fake = self

        class Handler(QuietHandler):
            def _serve(self) -> None:
                raw = self.body()
                body = json.loads(raw) if raw else None
                status, reply = fake.handle(
                    self.command, self.path, body, self.headers.get("Authorization")
                )
                data = json.dumps(reply).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

        self._server = Loopback(Handler).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    # -- answering -----------------------------------------------------------------------
    def handle(
        self, method: str, path: str, body: dict[str, Any] | None, authorization: str | None
    ) -> tuple[int, Any]:
        parts = [unquote(p) for p in urlsplit(path).path.strip("/").split("/")]
        conversation = parts[2] if len(parts) > 2 and parts[1] == "conversations" else None
        activity = parts[4] if len(parts) > 4 and parts[3] == "activities" else None
        request = Request(method, path, conversation, activity, body, authorization)
        with self._lock:
            self.requests.append(request)
            failure = self.failures.pop(0) if self.failures and method != "GET" else None
        if failure is not None:
            return failure, {"error": {"code": "Failure", "message": f"status {failure}"}}
        if parts[:2] == ["v3", "teams"] and len(parts) == 4 and parts[3] == "conversations":
            return 200, {"conversations": self.teams.get(parts[2], [])}
        if conversation is None:
            return 404, {"error": {"code": "NotFound", "message": path}}
        if method == "GET":
            return self._roster(parts)
        if method == "PUT" and activity is not None:
            return 200, {"id": activity}
        if method == "POST" and len(parts) >= 4 and parts[3] == "activities":
            request.answered_id = str(next(self._ids))
            return 201, {"id": request.answered_id}
        return 404, {"error": {"code": "NotFound", "message": path}}

    def _roster(self, parts: list[str]) -> tuple[int, Any]:
        accounts = [u.account() for u in self.users]
        if len(parts) == 5 and parts[3] == "members":
            found = next((a for a in accounts if a["id"] == parts[4]), None)
            if found is None:
                return 404, {"error": {"code": "MemberNotFoundInConversation", "message": "?"}}
            return 200, found
        if len(parts) == 4 and parts[3] == "members":
            return 200, accounts
        if len(parts) == 4 and parts[3] == "pagedMembers":
            return 200, {"members": accounts}
        return 404, {"error": {"code": "NotFound", "message": "/".join(parts)}}

    # -- reading -------------------------------------------------------------------------
    def sent(self) -> list[Request]:
        """Messages posted (POST of an activity), in order."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and r.conversation_id and "/activities" in r.path
            ]

    def updated(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "PUT"]

    def roster_reads(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def wait_for(self, found: Callable[[], Any], *, timeout: float = 10.0) -> Any:
        """Poll until ``found()`` is truthy (work after the HTTP response); return it."""
        deadline = time.monotonic() + timeout
        while True:
            value = found()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("the fake connector never saw what the test waited for")
            time.sleep(0.02)


def card_of(request: Request) -> dict[str, Any]:
    """The Adaptive Card a sent activity carries."""
    assert request.body is not None
    attachments = request.body.get("attachments") or []
    assert len(attachments) == 1, request.body
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachments[0]["content"]
    return card


def card_texts(card: Any) -> str:
    """Every TextBlock text, choice title and action title of a card, one per line."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "TextBlock":
                found.append(str(value.get("text")))
            if isinstance(value.get("title"), str):
                found.append(value["title"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(card)
    return "\n".join(found)

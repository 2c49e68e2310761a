"""A fake Slack Web API on 127.0.0.1:0: records every call and answers like Slack would.

``WebClient(base_url=fake.api_url)`` sends every method here (``/api/METHOD``, form, JSON or
query parameters); ``fake.response_url(...)`` stands in for a slash command's or an
action's ``response_url``; ``files.getUploadURLExternal`` hands out an upload URL on this
server too. Users are configured by email (``users.lookupByEmail``) and admin flag
(``users.info``). Listeners run on Bolt's threads after ``ack()``, so tests wait for what
they expect with ``wait_for`` (a bounded poll), never a bare sleep.

Posted messages are kept (``posted``: channel id, ``ts`` from the real clock as Slack's
are, text, ``metadata``) and read back by ``conversations.history`` (newest first,
``oldest``, ``limit``/``cursor`` paging, metadata only with ``include_all_metadata``);
``conversations.list`` lists every channel posted to.

Faults: ``failures[method] = error`` answers the method's next call with it; ``outages``
answers every call until removed. An error is a Slack ``error`` code (``ok: false``), or
``"ratelimited"`` (HTTP 429 with ``Retry-After: retry_after``), ``"http500"`` (HTTP 500,
an HTML page), or ``"drop"`` (the connection closes without a response); prefixed with
``accepted_`` (``"accepted_http500"``), the call is carried out first and then fails: Slack
posted the message, but the caller never learns it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import Loopback, QuietHandler

TEAM_ID = "T0DESK"
BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None = None  # the bearer token the call carried


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    metadata: dict[str, Any] | None


@dataclass
class SlackUser:
    id: str
    email: str
    name: str
    is_admin: bool = False


@dataclass
class FakeSlack:
    users: list[SlackUser] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posted to response_url
    uploads: list[bytes] = field(default_factory=list)
    # method → error for its next call; "ratelimited" answers HTTP 429, Retry-After: 0
    failures: dict[str, str] = field(default_factory=dict)
    installed_bot_token: str = "xoxb-9-8-installed"  # what oauth.v2.access hands out
    outages: dict[str, str] = field(default_factory=dict)  # method → error for every call
    retry_after: int = 0  # seconds in a 429's Retry-After
    posted: list[Posted] = field(default_factory=list)
    # method → called after the fake carried the call out, before it answers (the crash
    # test kills the process under test here: Slack has the message, the caller never knows)
    hooks: dict[str, Callable[[], None]] = field(default_factory=dict)
    _server: Loopback | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(QuietHandler):
            def _serve(self) -> None:
                body = self.body()
                status, reply = fake.handle(
                    self.path,
                    self.headers.get("Content-Type") or "",
                    body,
                    authorization=self.headers.get("Authorization"),
                )
                if status == 0:  # "drop": close without answering
                    self.close_connection = True
                    return
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", str(fake.retry_after))
                html = status >= 500
                kind = "text/html" if html else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self._server = Loopback(Handler).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def root(self) -> str:
        assert self._server is not None
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "hook") -> str:
        return f"{self.root}/response/{name}"

    # -- reading what happened -----------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 5.0) -> Any:
        """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing happened within {timeout} s")
            time.sleep(0.01)

    def wait_for_call(self, method: str, *, count: int = 1) -> list[Call]:
        return self.wait_for(lambda: len(self.calls_to(method)) >= count and self.calls_to(method))

    def wait_for_response(self, *, count: int = 1) -> list[dict[str, Any]]:
        return self.wait_for(lambda: len(self.responses) >= count and list(self.responses))

    # -- answering -----------------------------------------------------------------------
    def handle(
        self, target: str, content_type: str, body: bytes, *, authorization: str | None = None
    ) -> tuple[int, Any]:
        parts = urlsplit(target)
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if parts.path.startswith("/upload/"):
            with self._lock:
                self.uploads.append(body)
            return 200, b"OK"
        if "json" in content_type and body:
            params.update(json.loads(body))
        elif body:
            params.update(parse_qsl(body.decode()))
        if parts.path.startswith("/response/"):
            with self._lock:
                self.responses.append(params)
            return 200, b"ok"
        method = parts.path.removeprefix("/api/")
        with self._lock:
            token = authorization.removeprefix("Bearer ") if authorization else None
            self.calls.append(Call(method, params, token))
            error = self.failures.pop(method, None) or self.outages.get(method)
        if error is not None and error.startswith("accepted_"):
            with self._lock:
                self._answer(method, params)
            error = error.removeprefix("accepted_")
        if error == "ratelimited":  # HTTP 429 with Retry-After, as Slack answers
            return 429, {"ok": False, "error": error}
        if error == "http500":
            return 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"
        if error == "drop":
            return 0, b""
        if error is not None:
            return 200, {"ok": False, "error": error}
        with self._lock:
            answer = self._answer(method, params)
            hook = self.hooks.get(method)
        if hook is not None:
            hook()
        return 200, answer

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        channel_id = channel if channel[:1] in "CDG" else "C" + channel.strip("#").upper()
        metadata = params.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.posted.append(Posted(channel_id, ts, str(params.get("text") or ""), metadata))
        return {"ok": True, "channel": channel_id, "ts": ts}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        found = [p for p in reversed(self.posted) if p.channel == channel and float(p.ts) >= oldest]
        page = found[start : start + limit]
        messages = [
            {"type": "message", "ts": p.ts, "text": p.text, "bot_id": "BDESK"}
            | ({"metadata": p.metadata} if with_metadata and p.metadata else {})
            for p in page
        ]
        more = start + limit < len(found)
        cursor = str(start + limit) if more else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def _user(self, user_id: str) -> SlackUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": "BDESK"}
        if method == "chat.postMessage":
            return self._post(params)
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.list":
            ids = sorted({p.channel for p in self.posted if p.channel.startswith("C")})
            channels = [{"id": i, "name": i[1:].lower(), "is_archived": False} for i in ids]
            return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        if method == "chat.update":
            return {"ok": True, "channel": params["channel"], "ts": params["ts"]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params["users"])}}
        if method == "users.lookupByEmail":
            email = str(params["email"]).casefold()
            user = next((u for u in self.users if u.email.casefold() == email), None)
            if user is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": user.id, "name": user.name}}
        if method == "users.info":
            user = self._user(str(params["user"]))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {
                "ok": True,
                "user": {
                    "id": user.id,
                    "name": user.name,
                    "is_admin": user.is_admin,
                    "is_owner": False,
                    "profile": {"email": user.email, "real_name": user.name},
                },
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params["files"]
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1"}}
        if method in ("views.open", "views.update"):  # a modal: its id and a new hash
            return {"ok": True, "view": {"id": "VMODAL", "hash": f"h{next(self._ts)}"}}
        if method == "oauth.v2.access":  # an OAuth install's code exchanged for a bot token
            return {
                "ok": True,
                "access_token": self.installed_bot_token,
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": BOT_USER,
                "app_id": "ADESK",
                "team": {"id": TEAM_ID, "name": "Velocity IT"},
                "enterprise": None,
                "authed_user": {"id": "UADMIN"},
                "is_enterprise_install": False,
            }
        return {"ok": True}

"""A minimal fake Slack for the benchmarks: the Web API methods Deskboard calls and the
``response_url`` of slash commands, on 127.0.0.1:0, stamping each arrival with
``time.perf_counter()`` so a case can measure up to the moment Slack would have the message.

The test suite has a fuller fake (``tests/bot/slack/fake_slack.py``: uploads, failures, rate
limits); the benchmarks keep their own so that ``bench/`` never imports ``tests/``, and so
that every call carries its arrival time.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0BENCH"
BOT_USER = "UBOT"


@dataclass(frozen=True)
class SlackUser:
    id: str
    email: str
    name: str


@dataclass(frozen=True)
class Arrival:
    """A Web API call (``method``) or a response_url POST (``method`` = ``"response"``)."""

    method: str
    params: dict[str, Any]
    at: float  # time.perf_counter() when the request had arrived in full
    hook: str = ""  # the response_url's name, for ``"response"``


@dataclass
class FakeSlack:
    users: list[SlackUser] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                arrived = time.perf_counter()
                reply = fake.handle(
                    self.path, self.headers.get("Content-Type") or "", body, arrived
                )
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bench-fake-slack",
            daemon=True,
        ).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Slack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.root}/response/{name}"

    # -- reading what arrived -------------------------------------------------------------
    def wait_for(self, match: Callable[[Arrival], bool], *, timeout: float) -> Arrival:
        """The first arrival ``match`` accepts, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((a for a in self.arrivals if match(a)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"nothing matching arrived at the fake Slack in {timeout} s")
                self._arrived.wait(left)

    # -- answering ------------------------------------------------------------------------
    def handle(self, target: str, content_type: str, body: bytes, arrived: float) -> Any:
        parts = urlsplit(target)
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if "json" in content_type and body:
            params.update(json.loads(body))
        elif body:
            params.update(parse_qsl(body.decode()))
        if parts.path.startswith("/response/"):
            arrival = Arrival("response", params, arrived, parts.path.removeprefix("/response/"))
            reply: Any = {"ok": True}
        else:
            arrival = Arrival(parts.path.removeprefix("/api/"), params, arrived)
            reply = self._answer(arrival.method, params)
        with self._arrived:
            self.arrivals.append(arrival)
            self._arrived.notify_all()
        return reply

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": "BBENCH"}
        if method == "chat.postMessage":
            channel = str(params["channel"])
            channel_id = channel if channel[:1] in "CDG" else "C" + channel.strip("#").upper()
            return {"ok": True, "channel": channel_id, "ts": f"{next(self._ts)}.000100"}
        if method == "users.info":
            user = next((u for u in self.users if u.id == params.get("user")), None)
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"email": user.email, "real_name": user.name}
            return {
                "ok": True,
                "user": {"id": user.id, "name": user.name, "is_admin": False, "profile": profile},
            }
        if method == "users.lookupByEmail":
            email = str(params.get("email", "")).casefold()
            user = next((u for u in self.users if u.email.casefold() == email), None)
            if user is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": user.id, "name": user.name}}
        return {"ok": True}

"""What every HTTP request meets before any route: a cap on its body, and JSON that parses.

Nothing here trusts the request. A body longer than its route's cap is refused with 413 as
soon as that is known: at once when ``Content-Length`` says so, otherwise as soon as the
streamed body passes the cap, so a 200 MB upload costs at most the cap in memory. Routes
whose body must be a JSON object (Teams' ``/api/messages``) get 400 for anything else
(empty, ``[1]``, too deeply nested to parse) before their handler runs. Bodies are never
logged.

Caps: 1 MiB by default (Slack's own requests, even a large modal's ``view_submission``,
are a few kilobytes), and ``bot.web.callbacks.MAX_BODY`` for ConnectWise's callbacks.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024


class GuardedApp:
    """Wraps an ASGI app: body caps per path (``limits``, else ``default``) and JSON
    objects on ``json_paths``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Mapping[str, int] | None = None,
        default: int = DEFAULT_MAX_BODY,
        json_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.limits = dict(limits or {})
        self.default = default
        self.json_paths = json_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        cap = self.limits.get(path, self.default)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _answer(send, 413, "the request body is too large")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > cap:
                await _answer(send, 413, "the request body is too large")
                return
            if not message.get("more_body", False):
                break
        if path in self.json_paths and scope.get("method") == "POST" and not _json_object(body):
            await _answer(send, 400, "the request body is not a JSON object")
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _json_object(body: bytes | bytearray) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed


async def _answer(send: Send, status: int, text: str) -> None:
    data = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})

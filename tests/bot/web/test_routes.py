"""``bot.web.routes.http_app``: the explicit routes, each platform's paths handed to its own
app and nothing else, the callback and ``/health`` always, all behind the guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.core.push import PushReceiver
from bot.web.routes import Served, http_app
from psa.port import PushRejected


class Refusing:
    def verify(self, headers: Any, body: bytes) -> Any:
        raise PushRejected(401, "the signature does not match")


def platform(name: str) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        data = f"{name} {scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": data})

    return app


def test_each_path_goes_to_its_own_app_and_nothing_else_is_served():
    started: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        started.append("teams")
        yield

    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: datetime.now(UTC))
    asgi = http_app(
        callbacks=receiver,
        slack=Served(platform("slack"), ("/slack/events",)),
        teams=Served(platform("teams"), ("/api/messages",), lifespan=lifespan),
        json_paths=frozenset({"/api/messages"}),
    )

    async def probe() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
            answers = [
                await client.post("/connectwise/callback", content=b"{}"),
                await client.post("/slack/events", content=b"x"),
                await client.post("/api/messages", json={"type": "message"}),
                await client.post("/api/messages", content=b"[1]"),
                await client.get("/health"),
                await client.get("/slack/other"),
            ]
        return [(a.status_code, a.text) for a in answers]

    assert asyncio.run(probe()) == [
        (401, '{"ok":false,"message":"the signature does not match"}'),
        (200, "slack /slack/events"),
        (200, "teams /api/messages"),
        (400, "the request body is not a JSON object"),
        (200, "ok"),
        (404, "Not Found"),
    ]
    receiver.close()

    async def lifespan_events() -> None:
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> Any:
            return next(messages)

        async def send(_message: Any) -> None:
            pass

        await asgi({"type": "lifespan"}, receive, send)

    asyncio.run(lifespan_events())
    assert started == ["teams"]  # Teams' lifespan runs with the whole app's

"""``POST /connectwise/callback``: the PSA tells us a ticket changed; we sync it now.

A thin route: the body (read up to ``MAX_BODY`` and one byte more) and the headers go to
the core's ``PushReceiver`` (``bot.core.push``), which checks them through the PSA's
verifier and queues the ticket; its ``Outcome`` is answered as JSON
``{"ok": …, "message": …}`` with its status. What is checked, and in which order, is
described in ``bot.core.push``.
"""

from __future__ import annotations

from typing import Any

from bot.core.push import MAX_BODY, PushReceiver

__all__ = ["CALLBACK_PATH", "MAX_BODY", "callback_endpoint"]

CALLBACK_PATH = "/connectwise/callback"


def callback_endpoint(receiver: PushReceiver) -> Any:
    """The Starlette endpoint for ``POST /connectwise/callback`` (``bot.web.routes``)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def endpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                break
        outcome = await run_in_threadpool(receiver.handle, request.headers, bytes(body))
        return JSONResponse({"ok": outcome.ok, "message": outcome.message}, outcome.status)

    return endpoint

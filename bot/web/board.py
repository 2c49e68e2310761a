"""The wallboard's pages (README "The wallboard"; ``bot.core.boards`` holds the rules):

- ``GET /board/{token}``: the TV page, server-rendered (it shows the first contest without
  scripts), then kept live by ``board.js``;
- ``GET /board/{token}/events``: a server-sent events stream: the board's state at once, then
  each time it changes (checked every second: a sync or push shows within two), a comment
  every 15 s to keep proxies from closing it, and ``event: gone`` when the board is revoked;
- ``GET /board/static/{board.js,board.css}``: the page's own script and styles; nothing comes
  from another site (a TV may have no internet);
- ``GET /me/{token}``: a technician's own page (``bot.core.personal_page``), from the
  personal link ``/mystats`` gives; 404 for a link that is not one, 410 once it expired;
  with ``?in=teams`` it may show inside Teams (the personal tab, ``bot.web.teams_tab``).

An unknown or revoked token gets a plain 404 page at once, on every process (each request
reads the database). Every page is sent with a strict Content-Security-Policy, no referrer
and no framing; names and ticket text are escaped (Jinja2, ``textContent`` in the script).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.boards import Board, board_state, find_board
from bot.core.links import TicketLink
from bot.core.personal_page import PageRefused, member_of, personal_page
from bot.core.teams_tab import TabSignIn
from bot.web.pages import HERE, environment, static_file
from bot.web.teams_tab import in_teams_headers, teams_tab_routes

STATIC = {"board.js": "text/javascript", "board.css": "text/css"}
CHECK_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@cache
def app_version() -> str:
    """Changes when Deskboard is upgraded (its version and the page's own files): an open
    board reloads itself when the stream reports another one."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("deskboard")
    except PackageNotFoundError:
        package = "dev"
    files = b"".join((HERE / "static" / name).read_bytes() for name in sorted(STATIC))
    return f"{package}-{hashlib.sha256(files).hexdigest()[:10]}"


@dataclass(frozen=True)
class BoardPages:
    """What the board's routes need: the database, the configuration that applies now, and
    the clock."""

    engine: Engine
    config: Callable[[], DeskboardConfig]
    clock: Callable[[], datetime]
    ticket_link: TicketLink | None = None  # the personal pages' ticket links
    tab: TabSignIn | None = None  # the Teams personal tab's sign-in (None: not set up)

    def state(self, board: Board) -> dict[str, Any]:
        state = board_state(self.engine, self.config(), board, now=self.clock())
        return {**state, "app": app_version()}


def board_routes(pages: BoardPages) -> list[Any]:
    """The wallboard's routes, for ``bot.web.routes.http_app``."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response, StreamingResponse
    from starlette.routing import Route

    def missing() -> HTMLResponse:
        html = environment().get_template("board_missing.html.j2").render()
        return HTMLResponse(html, status_code=404, headers=SECURITY_HEADERS)

    async def page(request: Request) -> Response:
        token = request.path_params["token"]
        board = await run_in_threadpool(find_board, pages.engine, token)
        if board is None:
            return missing()
        state = await run_in_threadpool(pages.state, board)
        first = state["contests"][0] if state["contests"] else None
        html = (
            environment()
            .get_template("board_page.html.j2")
            .render(state=state, first=first, stream=f"/board/{token}/events", app=state["app"])
        )
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    async def events(request: Request) -> Response:
        token = request.path_params["token"]
        board = await run_in_threadpool(find_board, pages.engine, token)
        if board is None:
            return missing()

        async def stream() -> AsyncIterator[str]:
            sent = None
            quiet = 0.0
            yield f"retry: {RETRY_MS}\n\n"
            while not await request.is_disconnected():
                current = await run_in_threadpool(find_board, pages.engine, token)
                if current is None:
                    yield "event: gone\ndata: {}\n\n"
                    return
                try:
                    state = await run_in_threadpool(pages.state, current)
                except Exception:  # the database away: keep the last good screen
                    state = None
                if state is not None and state["version"] != sent:
                    sent = state["version"]
                    quiet = 0.0
                    yield f"data: {json.dumps(state, separators=(',', ':'))}\n\n"
                elif quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(CHECK_SECONDS)
                quiet += CHECK_SECONDS

        headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        return static_file(name, STATIC, SECURITY_HEADERS)

    async def nothing(_request: Request) -> Response:
        return missing()

    def me_page(status: int, in_teams: bool, **context: Any) -> HTMLResponse:
        values: dict[str, Any] = {"page": None, "title": "", "reason": ""}
        values.update(context)
        html = environment().get_template("me_page.html.j2").render(**values)
        headers = in_teams_headers(SECURITY_HEADERS) if in_teams else SECURITY_HEADERS
        return HTMLResponse(html, status_code=status, headers=headers)

    def personal(token: str) -> dict[str, Any]:
        now = pages.clock()
        member = member_of(pages.engine, token, now=now)
        return personal_page(
            pages.engine,
            pages.config(),
            member=member,
            now=now,
            ticket_link=pages.ticket_link or (lambda _ticket: None),
        )

    async def me(request: Request) -> Response:
        in_teams = request.query_params.get("in") == "teams"
        try:
            page = await run_in_threadpool(personal, request.path_params["token"])
        except PageRefused as exc:
            title = "This link has expired" if exc.status == 410 else "This page does not exist"
            return me_page(exc.status, in_teams, title=title, reason=exc.reason)
        return me_page(200, in_teams, page=page)

    return [
        Route("/board/static/{name}", static, methods=["GET"]),
        Route("/board/{token}", page, methods=["GET"]),
        Route("/board/{token}/events", events, methods=["GET"]),
        Route("/board/{rest:path}", nothing, methods=["GET"]),
        Route("/me/{token}", me, methods=["GET"]),
        *teams_tab_routes(pages.tab, SECURITY_HEADERS),
    ]

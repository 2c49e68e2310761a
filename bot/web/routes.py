"""The one HTTP app: every route Deskboard serves, listed explicitly, behind the guard.

``bot.service`` builds the handlers (the callback receiver, Slack's and Teams' ASGI apps)
and hands them here; nothing is discovered or mounted as a catch-all. The routes:

- ``POST /connectwise/callback``: the PSA's callbacks (``bot.web.callbacks``), always;
- Slack's paths (``/slack/events``, and the OAuth install and redirect paths) when Slack
  runs in HTTP mode, each handed to Slack's own app;
- Teams' ``/api/messages`` when Teams is configured, handed to Teams' own app, whose
  lifespan becomes the app's;
- the customers' rating pages under ``/csat/`` (``bot.web.csat``) when ``CSAT_LINK_SECRET``
  is set;
- the wallboards under ``/board/`` (``bot.web.board``);
- ``GET /health``: ``ok``.

Everything meets ``bot.web.guard`` first: a cap on every body (``MAX_BODY`` for the
callback) and, on ``json_paths`` (Teams' endpoint), a body that is a JSON object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.push import PushReceiver
from bot.core.rating_links import RatingLinks
from bot.web.board import BoardPages, board_routes
from bot.web.callbacks import CALLBACK_PATH, MAX_BODY, callback_endpoint
from bot.web.csat import csat_routes
from bot.web.guard import ASGIApp, GuardedApp, Receive, Scope, Send

HEALTH_PATH = "/health"


@dataclass(frozen=True, slots=True)
class Served:
    """A platform's own ASGI app and the paths it answers (any method: the app decides)."""

    app: ASGIApp
    paths: Sequence[str]
    lifespan: Any = None  # the app's lifespan context factory, to run with the whole app's


class _Delegate:
    """An ASGI app as a route's endpoint: an object, so that Starlette hands it the request
    as it came (any method, the full path) rather than treating a function as a view."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def http_app(
    *,
    callbacks: PushReceiver,
    slack: Served | None = None,
    teams: Served | None = None,
    json_paths: frozenset[str] = frozenset(),
    rating_links: RatingLinks | None = None,
    boards: BoardPages | None = None,
) -> GuardedApp:
    """The app serving every route above, guarded (``bot.web.guard``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route(CALLBACK_PATH, callback_endpoint(callbacks), methods=["POST"])]
    lifespan = None
    for served in (teams, slack):
        if served is None:
            continue
        routes += [Route(path, _Delegate(served.app)) for path in served.paths]
        lifespan = lifespan or served.lifespan
    if rating_links is not None:
        routes += csat_routes(rating_links)
    if boards is not None:
        routes += board_routes(boards)
    routes.append(Route(HEALTH_PATH, health, methods=["GET"]))
    return GuardedApp(
        Starlette(routes=routes, lifespan=lifespan),
        limits={CALLBACK_PATH: MAX_BODY},
        json_paths=json_paths,
    )

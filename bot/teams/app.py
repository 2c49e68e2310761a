"""The Teams app: the Teams SDK's ``App``, its dependencies, and how it is served.

``build_teams_app`` builds a ``microsoft_teams.apps.App`` from ``TeamsDeps``:

- Credentials: ``TEAMS_CLIENT_ID``, ``TEAMS_CLIENT_SECRET`` and ``TEAMS_TENANT_ID`` (the Azure
  bot's app registration; without a tenant id the app is taken as multi-tenant). The SDK's
  own environment variables (``CLIENT_ID``, ``SERVICE_URL``,
  ``DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS``, ...) are not consulted for what Deskboard
  passes: every option is given explicitly.
- Every request to the messaging endpoint (``POST /api/messages``) must carry a Bot Framework
  token the SDK validates; an unsigned one gets 401. ``allow_unauthenticated`` turns that
  off **for tests only**: nothing in the environment or the config can set it.
- The app is initialized on return (its messaging route exists, and ``app.send`` works), so
  the same ``App`` serves incoming activities and proactive posts (``TeamsMessenger``).

Serving: ``teams_asgi(app)`` is the FastAPI app (``POST /api/messages``, ``GET /health``);
other routes can be mounted on it (Slack's ``/slack/events``), or pass your own FastAPI app
as ``fastapi_app``. ``serve_teams`` runs it with uvicorn on ``PORT`` until the process stops;
``http_server`` gives the ``uvicorn.Server`` for a caller that stops it itself
(``server.should_exit = True``).

Listeners (``bot.teams.listeners``) answer quickly: a command's reply is sent before the
HTTP response, except ``sync``, which answers "on it" and reports when it is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from microsoft_teams.api.auth.credentials import TokenProvider
from microsoft_teams.apps import App, FastAPIAdapter

from bot.settings import Settings, SettingsError
from bot.teams.deps import TeamsDeps
from bot.teams.messenger import TeamsMessenger

log = logging.getLogger(__name__)

MESSAGING_PATH = "/api/messages"
HEALTH_PATH = "/health"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams"
"""Where proactive messages go until a conversation tells its own service URL (each stored
conversation keeps the one its activities came with)."""


def teams_configured(settings: Settings) -> bool:
    """Whether the environment sets up the Teams bot (``TEAMS_CLIENT_ID`` and its secret)."""
    return bool(settings.teams_client_id and settings.teams_client_secret)


def _run_to_completion(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine from synchronous code, also when the caller runs in an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def build_teams_app(
    *,
    deps: TeamsDeps,
    service_url: str | None = None,
    token_provider: TokenProvider | None = None,
    allow_unauthenticated: bool = False,
    fastapi_app: FastAPI | None = None,
) -> App:
    """The initialized Teams app with Deskboard's listeners (see the module docstring).

    ``service_url``: where proactive messages go when no conversation says otherwise (tests:
    a fake Bot Connector). ``token_provider``: a callable ``(scope, tenant_id) -> token``
    used instead of the client secret (tests). ``allow_unauthenticated``: accept activities
    without a valid token — for tests only; production never sets it. ``fastapi_app``: the
    FastAPI app to add ``/api/messages`` to (default: a new one).
    """
    from bot.teams.listeners import register_all

    settings = deps.settings
    client_id = settings.teams_client_id
    secret = settings.teams_client_secret
    if not client_id or (secret is None and token_provider is None):
        raise SettingsError(
            "Teams is not configured: set TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and "
            "TEAMS_TENANT_ID (the Azure bot's app registration)"
        )
    asgi = fastapi_app or FastAPI(title="Deskboard", docs_url=None, redoc_url=None)
    app = App(
        client_id=client_id,
        client_secret=secret.get_secret_value() if token_provider is None and secret else None,
        tenant_id=settings.teams_tenant_id,
        token=token_provider,
        service_url=service_url or DEFAULT_SERVICE_URL,
        http_server_adapter=FastAPIAdapter(app=asgi),
        messaging_endpoint=MESSAGING_PATH,
        # Explicit, so that the SDK's environment variable can never turn verification off.
        dangerously_allow_unauthenticated_requests=bool(allow_unauthenticated),
    )
    if isinstance(deps.messenger, TeamsMessenger) and deps.messenger.app is None:
        deps.messenger.bind(app)
    register_all(app, deps)
    _run_to_completion(app.initialize())  # registers the messaging route; enables app.send

    if not any(getattr(route, "path", None) == HEALTH_PATH for route in asgi.routes):

        async def health() -> PlainTextResponse:
            return PlainTextResponse("ok")

        asgi.add_api_route(HEALTH_PATH, health, methods=["GET"])
    return app


def teams_asgi(app: App) -> FastAPI:
    """The FastAPI app serving ``/api/messages``: serve it, or mount more routes on it."""
    adapter = app.server.adapter
    if not isinstance(adapter, FastAPIAdapter):
        raise TypeError("the Teams app was not built by build_teams_app (no FastAPI adapter)")
    return adapter.app


def http_server(asgi: Any, *, port: int) -> Any:
    """A ``uvicorn.Server`` for ``asgi`` on ``port``: ``.run()`` blocks until it stops
    (SIGINT/SIGTERM when run in the main thread, or ``.should_exit = True``)."""
    import uvicorn

    config = uvicorn.Config(asgi, host="0.0.0.0", port=port, log_level="warning")
    return uvicorn.Server(config)


def serve_teams(app: App, settings: Settings) -> None:
    """Serve the Teams messaging endpoint on ``PORT`` until the process stops. Blocks."""
    log.info("Teams: HTTP on port %d, %s", settings.port, MESSAGING_PATH)
    http_server(teams_asgi(app), port=settings.port).run()

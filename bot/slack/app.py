"""The Slack app: Bolt, its dependencies, and how it is served.

``build_slack_app`` builds the Bolt ``App`` from ``SlackDeps``:

- Socket Mode when ``SLACK_APP_TOKEN`` is set (with ``SLACK_BOT_TOKEN``): no public URL.
- HTTP mode otherwise (``SLACK_SIGNING_SECRET``, ``POST /slack/events``, port ``PORT``), for
  one workspace with ``SLACK_BOT_TOKEN``, or for several through OAuth when
  ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` are set: installations and OAuth states are
  kept by slack_sdk's SQLAlchemy stores in Deskboard's own database (tables
  ``slack_installations``, ``slack_bots``, ``slack_oauth_states``).
- Every Web API call goes to ``SLACK_API_URL`` when it is set (a proxy, a test server), and
  the client retries rate-limited calls (``RateLimitErrorRetryHandler``).

Listeners are plain functions in ``bot.slack.listeners``, registered per kind; a middleware
puts ``SlackDeps`` into every request's context as ``context["deps"]``. Each command,
action and event is an ack that answers Slack at once on the request's own thread
(``process_before_response`` is True) and a lazy listener that does the work on Bolt's
listener pool (``bot.slack.listeners.replies.acked``): Slack waits 3 s at most, and a slow
query must not hold up another request's ack. Options (``block_suggestion``) are the
exception: their answer is the ack itself.

In HTTP mode every request must be signed with ``SLACK_SIGNING_SECRET`` within Bolt's
five-minute window, and a signed request is served once (``bot.slack.replay``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.locks import migration_lock
from bot.settings import Settings, SettingsError
from bot.slack.deps import SlackDeps
from bot.slack.replay import ReplayGuard

log = logging.getLogger(__name__)

BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "files:write",
    "im:write",
    "users:read",
    "users:read.email",
)
"""What the code uses; manifest.yml declares the same."""

OAUTH_STATE_SECONDS = 600
RATE_LIMIT_RETRIES = 2
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def api_base_url(settings: Settings) -> str:
    """``SLACK_API_URL`` (with the trailing slash slack_sdk needs) or Slack's own."""
    url = settings.slack_api_url or WebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def api_logger() -> logging.Logger:
    """The logger Web API clients write to, never at DEBUG.

    At DEBUG slack_sdk logs every request's parameters and every response's body, and those
    carry secrets: the bot token ``oauth.v2.access`` hands out, the Socket Mode URL. It
    checks its logger's own level before doing so, so this one is held at INFO whatever
    the root logger's level; warnings and errors still go through.
    """
    logger = logging.getLogger("bot.slack.api")
    if logger.level == logging.NOTSET or logger.level < logging.INFO:
        logger.setLevel(logging.INFO)
    return logger


def slack_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A Web API client for ``SLACK_API_URL`` that retries rate-limited calls."""
    client = WebClient(
        token=token if token is not None else _secret(settings.slack_bot_token),
        base_url=api_base_url(settings),
        logger=api_logger(),
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


class InstalledBotClient(WebClient):
    """A Web API client whose token is the bot token of the latest installation.

    In OAuth mode (``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``, no ``SLACK_BOT_TOKEN``) the bot
    token lives in the installation store; scheduled posts, kudos and nudge DMs use the most
    recent installation's, read again before each call so a reinstall takes effect at once.
    Deskboard serves one MSP: one workspace at a time.
    """

    def __init__(self, *, token_source: Callable[[], str | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token_source = token_source

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        self.token = self._token_source() or self.token
        return super().api_call(api_method, **kwargs)


def installed_bot_token(engine: Engine, *, client_id: str) -> str | None:
    """The bot token of the newest installation of this Slack app, if any."""
    store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)
    bots = store.bots
    query = (
        select(bots.c.bot_token)
        .where(bots.c.client_id == client_id, bots.c.bot_token.is_not(None))
        .order_by(bots.c.installed_at.desc())
        .limit(1)
    )
    try:
        with engine.connect() as conn:
            row = conn.execute(query).first()
    except SQLAlchemyError:  # not installed yet: the store's tables do not exist
        return None
    return str(row[0]) if row else None


def messaging_client(settings: Settings, engine: Engine) -> WebClient:
    """The client scheduled messages go out with: the bot token, or the installed bot's.

    It does not resend a request whose connection dropped (slack_sdk's default
    ``ConnectionErrorRetryHandler``): Slack may have posted the message before the connection
    went, and a blind resend would post it twice. The outbox retries instead, and looks the
    message up in the channel first (``bot.core.delivery``)."""
    if settings.slack_bot_token is not None or not uses_oauth(settings):
        client = slack_client(settings)
    else:
        client_id = settings.slack_client_id or ""
        client = InstalledBotClient(
            token_source=lambda: installed_bot_token(engine, client_id=client_id),
            base_url=api_base_url(settings),
            logger=api_logger(),
        )
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    client.retry_handlers[:] = [
        h for h in client.retry_handlers if not isinstance(h, ConnectionErrorRetryHandler)
    ]
    return client


def uses_oauth(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def _oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    client_id = settings.slack_client_id or ""
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)
    states = SQLAlchemyOAuthStateStore(
        expiration_seconds=OAUTH_STATE_SECONDS, engine=engine, logger=log
    )
    with migration_lock(engine):  # processes starting together
        installations.create_tables()
        states.create_tables()
    return OAuthSettings(
        client_id=client_id,
        client_secret=_secret(settings.slack_client_secret),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installations,
        state_store=states,
        logger=log,
    )


LISTENER_THREADS = 32
"""Lazy listeners running at once; more wait their turn (acked already, answered later)."""


def _deps_middleware(deps: SlackDeps) -> Callable[..., BoltResponse]:
    def inject_deps(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["deps"] = deps
        return next()

    return inject_deps


def build_slack_app(
    *, deps: SlackDeps, client: WebClient | None = None, replay_guard: ReplayGuard | None = None
) -> App:
    """The Bolt app for the mode the settings choose (see the module docstring).

    Every HTTP request must carry a valid signature with a timestamp within five minutes
    (Bolt's check; no setting turns it off) and is served once: ``replay_guard`` refuses a
    signature seen before (``bot.slack.replay``; a new one per app by default).
    """
    from bot.slack.listeners import register_all

    settings = deps.settings
    socket_mode = settings.slack_app_token is not None
    signing_secret = _secret(settings.slack_signing_secret)
    if not socket_mode and not signing_secret:
        raise SettingsError(
            "Slack is not configured: set SLACK_APP_TOKEN and SLACK_BOT_TOKEN (Socket Mode), "
            "or SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET"
            " (HTTP mode)"
        )
    oauth = not socket_mode and uses_oauth(settings)
    token = _secret(settings.slack_bot_token)
    if not oauth and not token:
        raise SettingsError("Slack is not configured: set SLACK_BOT_TOKEN (xoxb-...)")
    if client is None:
        client = slack_client(settings, token=None if oauth else token)
    app = App(
        client=client,
        signing_secret=signing_secret or "",  # the client carries the token
        oauth_settings=_oauth_settings(settings, deps.engine) if oauth else None,
        # Every command and action is an ack that runs at once, on the request's own thread,
        # and lazy work on the listener pool (bot.slack.listeners.replies.acked), so a slow
        # query can delay its own answer but never another request's ack.
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="slack-listener"
        ),
        name="deskboard",
        logger=log,
        request_verification_enabled=True,
        before_authorize=replay_guard or ReplayGuard(),
    )
    app.use(_deps_middleware(deps))
    register_all(app)
    return app


def http_app(app: App, *, signing_secret: str) -> Any:
    """An ASGI app (Starlette) serving ``/slack/events`` and, with OAuth, the install flow.

    Bolt's ``App`` is synchronous: each request is handled on Starlette's thread pool, so a
    slow listener never holds up the event loop (and every other request with it).
    """
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    def handler_for(request: Request) -> Callable[[BoltRequest], BoltResponse] | None:
        flow = app.oauth_flow
        if request.method == "POST":
            return app.dispatch
        if flow is not None and request.url.path == flow.install_path:
            return flow.handle_installation
        if flow is not None and request.url.path == flow.redirect_uri_path:
            return flow.handle_callback
        return None

    verifier = SignatureVerifier(signing_secret)

    async def slack(request: Request) -> Response:
        handle = handler_for(request)
        if handle is None:
            return PlainTextResponse("Not found", status_code=404)
        body = await request.body()
        if request.method == "POST" and not _signed(verifier, body, request.headers):
            # Before Bolt parses anything: an unsigned body is never read, whatever it holds.
            return PlainTextResponse("invalid request signature", status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, TypeError, KeyError):  # signed, yet not a body Bolt can read
            return PlainTextResponse("malformed request", status_code=400)
        return to_starlette_response(await run_in_threadpool(handle, bolt_request))

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack, methods=["POST"]),
            Route(INSTALL_PATH, slack, methods=["GET"]),
            Route(REDIRECT_PATH, slack, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def _signed(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's signature check, for any headers: a missing or non-numeric timestamp fails."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not timestamp.isdigit() or not signature:
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def serve_slack(app: App, settings: Settings) -> None:
    """Run the app until the process stops: Socket Mode, or HTTP on ``PORT``. Blocks."""
    app_token = _secret(settings.slack_app_token)
    if app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("Slack: Socket Mode")
        SocketModeHandler(app, app_token).start()
        return
    import uvicorn

    log.info("Slack: HTTP mode on port %d, %s", settings.port, EVENTS_PATH)
    asgi = http_app(app, signing_secret=_secret(settings.slack_signing_secret) or "")
    uvicorn.run(asgi, host="0.0.0.0", port=settings.port, log_level="warning")

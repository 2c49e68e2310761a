"""The running bot, assembled: which chat platforms are configured, their messengers and
apps, and serving them from one process.

- **Slack** when ``SLACK_BOT_TOKEN`` (or OAuth's ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``)
  is set: Socket Mode with ``SLACK_APP_TOKEN``, HTTP mode (``/slack/events``) otherwise.
- **Teams** when ``TEAMS_CLIENT_ID`` and ``TEAMS_CLIENT_SECRET`` are set: ``/api/messages``.
- **Teams Workflows** (post-only) when ``[teams] workflow_url`` or ``TEAMS_WORKFLOW_URL`` is set.
- **Dry run**: one console messenger, nothing served.

Everything HTTP shares one server on ``PORT``: the Teams FastAPI app with Slack's routes
mounted on it, and ConnectWise's ``/connectwise/callback`` (``bot.callbacks``) whatever the
platforms, so the port is served even with only Slack in Socket Mode (which needs no port
and runs beside it on its own thread). A dry run serves nothing: it only prints.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from slack_bolt import App as SlackApp
from sqlalchemy import Engine

from bot.callbacks import CallbackReceiver, callback_receiver, callback_route
from bot.config import DeskboardConfig
from bot.messenger import ConsoleMessenger, Messenger
from bot.runtime import Runtime
from bot.settings import Settings, SettingsError
from bot.wiring import build_runtime

log = logging.getLogger(__name__)


@dataclass
class Service:
    runtime: Runtime
    slack: SlackApp | None = None
    teams: Any | None = None  # microsoft_teams.apps.App
    callbacks: CallbackReceiver | None = None
    dry_run: bool = False
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self.closers:
            try:
                closer()
            except Exception:
                log.exception("while shutting down")


def _workflow_url(settings: Settings, config: DeskboardConfig) -> str | None:
    secret = settings.teams_workflow_url or config.teams.workflow_url
    return secret.get_secret_value() if secret is not None else None


def build_service(
    settings: Settings,
    config: DeskboardConfig,
    engine: Engine,
    *,
    dry_run: bool,
    console: Console,
) -> Service:
    """Messengers for every configured platform, the runtime over them, and the apps."""
    if dry_run:
        runtime = build_runtime(settings, config, engine, (ConsoleMessenger(console),))
        return Service(runtime, dry_run=True)
    from bot.slack.app import messaging_client, uses_oauth
    from bot.teams.app import teams_configured

    messengers: list[Messenger] = []
    closers: list[Any] = []
    slack_messenger = teams_messenger = None
    if settings.slack_bot_token or uses_oauth(settings):
        from bot.slack.messenger import SlackMessenger

        slack_messenger = SlackMessenger(messaging_client(settings, engine), engine=engine)
        messengers.append(slack_messenger)
    if teams_configured(settings):
        from bot.teams.messenger import TeamsMessenger

        teams_messenger = TeamsMessenger(None, engine=engine)
        messengers.append(teams_messenger)
        closers.append(teams_messenger.close)
    workflow_url = _workflow_url(settings, config)
    if workflow_url:
        from bot.teams.workflow import WorkflowMessenger

        workflow = WorkflowMessenger(workflow_url)
        messengers.append(workflow)
        closers.append(workflow.close)
    if not messengers:
        raise SettingsError(
            "no chat platform is configured: set SLACK_BOT_TOKEN (Slack), TEAMS_CLIENT_ID and "
            "TEAMS_CLIENT_SECRET (Teams), or [teams] workflow_url; or use --dry-run"
        )
    runtime = build_runtime(settings, config, engine, tuple(messengers))
    service = Service(runtime, closers=closers)
    if slack_messenger is not None:
        from bot.slack.app import SlackDeps, build_slack_app

        service.slack = build_slack_app(
            deps=SlackDeps(
                engine=engine,
                config=config,
                settings=settings,
                clock=runtime.clock,
                connectwise=runtime.connectwise,
                messenger=slack_messenger,
                ticket_link=runtime.ticket_link,
                sync=runtime.sync,
            )
        )
    if teams_messenger is not None:
        from bot.teams.app import TeamsDeps, build_teams_app

        service.teams = build_teams_app(
            deps=TeamsDeps(
                engine=engine,
                config=config,
                settings=settings,
                clock=runtime.clock,
                connectwise=runtime.connectwise,
                messenger=teams_messenger,
                ticket_link=runtime.ticket_link,
                sync=runtime.sync,
            )
        )
    return service


def service_asgi(service: Service, settings: Settings) -> Any:
    """One ASGI app for everything served over HTTP (see the module docstring)."""
    receiver = callback_receiver(service.runtime, api_url=settings.cw_api_url or "")
    service.callbacks = receiver
    service.closers.append(receiver.close)
    slack_socket_mode = service.slack is not None and settings.slack_app_token is not None
    asgi: Any = None
    if service.teams is not None:
        from bot.teams.app import teams_asgi

        asgi = teams_asgi(service.teams)
    if service.slack is not None and not slack_socket_mode:
        from bot.slack.app import http_app

        slack_http = http_app(service.slack)
        if asgi is None:
            asgi = slack_http
        else:
            asgi.mount("/", slack_http)  # after the Teams routes: /api/messages stays Teams'
    if asgi is None:
        from starlette.applications import Starlette

        return Starlette(routes=[callback_route(receiver)])
    asgi.router.routes.insert(0, callback_route(receiver))  # before Slack's catch-all mount
    return asgi


def serve(service: Service, settings: Settings) -> None:
    """Serve the configured apps until the process is stopped (Ctrl-C, SIGTERM). Blocks."""
    if service.slack is not None and settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(service.slack, settings.slack_app_token.get_secret_value())
        handler.connect()  # runs on the SDK's own threads
        service.closers.append(handler.close)
        log.info("Slack: Socket Mode")
    if service.dry_run:
        threading.Event().wait()  # nothing to serve: the scheduler does the work
        return
    asgi = service_asgi(service, settings)
    from bot.teams.app import http_server

    log.info("HTTP on port %d", settings.port)
    http_server(asgi, port=settings.port).run()

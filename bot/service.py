"""The running bot, assembled: which chat platforms are configured, their messengers and
apps, and serving them from one process.

- **Slack** when ``SLACK_BOT_TOKEN`` (or OAuth's ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``)
  is set: commands in Socket Mode with ``SLACK_APP_TOKEN``, in HTTP mode (``/slack/events``)
  with ``SLACK_SIGNING_SECRET``, and with neither it only posts (``bot.chat_setup``).
- **Teams** when ``TEAMS_CLIENT_ID`` and ``TEAMS_CLIENT_SECRET`` are set: ``/api/messages``.
- **Teams Workflows** (post-only) when ``[teams] workflow_url`` or ``TEAMS_WORKFLOW_URL`` is set.
- **Dry run**: one console messenger, nothing served.

Everything HTTP shares one server on ``PORT``: one app with explicit routes
(``bot.web.routes``): Teams' ``/api/messages``, Slack's ``/slack/events`` (HTTP mode), and
ConnectWise's ``/connectwise/callback`` (``bot.web.callbacks``) whatever the platforms, so
the port is served even with only Slack in Socket Mode (which needs no port and runs beside
it on its own thread). A dry run serves nothing: it only prints.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from slack_bolt import App as SlackApp
from sqlalchemy import Engine

from bot.chat.messenger import ConsoleMessenger, Messenger
from bot.chat_setup import NO_PLATFORM, ChatSetup, chat_setup
from bot.config import DeskboardConfig
from bot.core.program import LiveConfig
from bot.core.push import PushReceiver
from bot.core.rating_links import RatingLinks
from bot.core.runtime import Runtime
from bot.core.teams_tab import tab_sign_in
from bot.settings import Settings, SettingsError
from bot.web.board import BoardPages
from bot.web.guard import GuardedApp
from bot.web.routes import Served, http_app
from bot.wiring import build_runtime, connectwise_client
from psa.connectwise.callbacks import push_verifier
from psa.port import PushVerifier

if TYPE_CHECKING:
    from bot.slack.messenger import SlackMessenger
    from bot.teams.messenger import TeamsMessenger

log = logging.getLogger(__name__)


@dataclass
class Service:
    runtime: Runtime
    slack: SlackApp | None = None
    teams: Any | None = None  # microsoft_teams.apps.App
    callbacks: PushReceiver | None = None
    # checks ConnectWise's callbacks; None: one reading signing keys with the settings' keys
    push_verifier: PushVerifier | None = None
    dry_run: bool = False
    closers: list[Any] = field(default_factory=list)
    notes: tuple[str, ...] = ()  # chat features left off, and what would turn them on

    def close(self) -> None:
        for closer in self.closers:
            try:
                closer()
            except Exception:
                log.exception("while shutting down")


@dataclass
class Messengers:
    """What posting needs, and nothing more: one messenger per configured platform."""

    all: tuple[Messenger, ...]
    slack: SlackMessenger | None = None
    teams: TeamsMessenger | None = None
    closers: list[Any] = field(default_factory=list)


def build_messengers(
    setup: ChatSetup, settings: Settings, engine: Engine, *, dry_run: bool, console: Console
) -> Messengers:
    """A messenger for every platform ``setup`` can post to (``bot.chat_setup``)."""
    if dry_run:
        return Messengers((ConsoleMessenger(console),))
    if not setup.any_platform:
        raise SettingsError(NO_PLATFORM)
    made = Messengers(())
    messengers: list[Messenger] = []
    if setup.slack_posts:
        from bot.slack.app import messaging_client
        from bot.slack.messenger import SlackMessenger

        made.slack = SlackMessenger(messaging_client(settings, engine), engine=engine)
        messengers.append(made.slack)
    if setup.teams:
        from bot.teams.messenger import TeamsMessenger

        made.teams = TeamsMessenger(None, engine=engine)
        messengers.append(made.teams)
        made.closers.append(made.teams.close)
    if setup.workflow_url:
        from bot.teams.workflow import WorkflowMessenger

        workflow = WorkflowMessenger(setup.workflow_url)
        messengers.append(workflow)
        made.closers.append(workflow.close)
    made.all = tuple(messengers)
    return made


def build_service(
    settings: Settings,
    config: DeskboardConfig,
    engine: Engine,
    *,
    dry_run: bool,
    console: Console,
    commands: bool = True,
) -> Service:
    """Messengers for every configured platform, the runtime over them, and the apps that
    answer commands where the environment lets commands in (``bot.chat_setup``).

    ``commands=False`` (``deskboard post``) builds what posting needs: no Slack app, whose
    settings posting does not need; the Teams app all the same, since it is what sends."""
    live = LiveConfig.adopt(engine, config, now=datetime.now(UTC))
    config = live.current()
    setup = chat_setup(settings, config)
    messengers = build_messengers(setup, settings, engine, dry_run=dry_run, console=console)
    runtime = build_runtime(settings, config, engine, messengers.all)
    runtime.live = live
    service = Service(runtime, dry_run=dry_run, closers=messengers.closers)
    if dry_run:
        return service
    service.notes = setup.notes
    if messengers.slack is not None and setup.slack_commands is not None and commands:
        from bot.slack.app import build_slack_app
        from bot.slack.deps import SlackDeps

        service.slack = build_slack_app(
            deps=SlackDeps(
                engine=engine,
                config=config,
                settings=settings,
                clock=runtime.clock,
                psa=runtime.psa,
                messenger=messengers.slack,
                ticket_link=runtime.ticket_link,
                sync=runtime.sync,
                live=live,
            )
        )
    if messengers.teams is not None:
        from bot.teams.app import build_teams_app
        from bot.teams.deps import TeamsDeps

        service.teams = build_teams_app(
            deps=TeamsDeps(
                engine=engine,
                config=config,
                settings=settings,
                clock=runtime.clock,
                psa=runtime.psa,
                messenger=messengers.teams,
                ticket_link=runtime.ticket_link,
                sync=runtime.sync,
                live=live,
            )
        )
    return service


def service_asgi(service: Service, settings: Settings) -> GuardedApp:
    """One ASGI app for everything served over HTTP (see the module docstring)."""
    verifier = service.push_verifier or push_verifier(
        api_url=settings.cw_api_url or "", clients=lambda: connectwise_client(settings)
    )
    receiver = service.runtime.push_receiver(verifier, source="ConnectWise")
    service.callbacks = receiver
    service.closers.append(receiver.close)
    from bot.teams.app import MESSAGING_PATH

    teams: Served | None = None
    slack: Served | None = None
    if service.teams is not None:
        from bot.teams.app import teams_asgi

        fastapi = teams_asgi(service.teams)
        teams = Served(fastapi, (MESSAGING_PATH,), lifespan=fastapi.router.lifespan_context)
    slack_socket_mode = service.slack is not None and settings.slack_app_token is not None
    if service.slack is not None and not slack_socket_mode:
        from bot.slack.app import EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH
        from bot.slack.app import http_app as slack_http_app

        secret = settings.slack_signing_secret
        slack = Served(
            slack_http_app(
                service.slack, signing_secret=secret.get_secret_value() if secret else ""
            ),
            (EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH),
        )
    # Teams' body must be a JSON object (``bot.web.guard``), with or without Teams configured
    json_paths = frozenset({MESSAGING_PATH})
    return http_app(
        callbacks=receiver,
        slack=slack,
        teams=teams,
        json_paths=json_paths,
        rating_links=rating_links(service, settings),
        boards=board_pages(service, settings),
    )


def board_pages(service: Service, settings: Settings) -> BoardPages:
    """The wallboards' pages, over the configuration as it stands (``Runtime.current``), and
    the Teams personal tab when Teams and ``[csat] public_url`` are set."""
    runtime = service.runtime
    tab = tab_sign_in(
        runtime.engine,
        client_id=settings.teams_client_id,
        tenant_id=settings.teams_tenant_id,
        public_url=runtime.config.csat.public_url,
        clock=runtime.clock,
    )
    return BoardPages(
        engine=runtime.engine,
        config=lambda: runtime.current,
        clock=runtime.clock,
        ticket_link=runtime.ticket_link,
        tab=tab,
    )


def rating_links(service: Service, settings: Settings) -> RatingLinks | None:
    """The customers' rating links, when ``CSAT_LINK_SECRET`` is set; each answer is acted on
    (kudos, alerts) and delivered on a thread of its own, so the customer never waits for
    a chat platform."""
    secret = settings.csat_link_secret
    if secret is None:
        log.info("CSAT rating links are off (set CSAT_LINK_SECRET to serve them)")
        return None
    runtime = service.runtime

    def act() -> None:
        def work() -> None:
            try:
                runtime.queue_instant_kudos()
                runtime.deliver()
            except Exception:
                log.exception("acting on a rating link's answer")

        threading.Thread(target=work, name="csat-answer", daemon=True).start()

    return RatingLinks(
        engine=runtime.engine,
        config=runtime.config,
        secret=secret.get_secret_value(),
        clock=runtime.clock,
        on_answer=act,
    )


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

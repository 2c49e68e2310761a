"""Which chat features the environment turns on, and what is missing for the others.

Posting (scheduled standings, winners, kudos, nudge DMs) and commands (slash commands, App
Home, the buttons of nudges; Teams messages and cards) need different things:

- **Slack posting**: ``SLACK_BOT_TOKEN``, or OAuth (``SLACK_CLIENT_ID`` and
  ``SLACK_CLIENT_SECRET``: the installed bot's token).
- **Slack commands**: posting's token plus a way in: ``SLACK_APP_TOKEN`` (Socket Mode) or
  ``SLACK_SIGNING_SECRET`` (HTTP mode, ``/slack/events``; OAuth installs need this one).
  Without either, Slack is post-only: ``deskboard run`` says so and serves no Slack route.
- **Teams** (posting and commands alike): ``TEAMS_CLIENT_ID`` and ``TEAMS_CLIENT_SECRET``.
- **Teams Workflows** (post-only): ``TEAMS_WORKFLOW_URL`` or ``[teams] workflow_url``.

Half a setting (an OAuth client id without its secret, a signing secret without any bot
token) is refused with ``SettingsError`` naming the variable to set, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from bot.config import DeskboardConfig
from bot.settings import Settings, SettingsError

SlackMode = Literal["socket", "http"]

POSTING = "standings, winners, kudos and nudge DMs"
SLACK_COMMANDS = "slash commands, App Home and the nudge buttons"


@dataclass(frozen=True, slots=True)
class ChatSetup:
    slack_posts: bool
    slack_commands: SlackMode | None  # None: Slack posts only, or is not configured
    teams: bool
    workflow_url: str | None
    notes: tuple[str, ...]  # features left off, each with what would turn it on

    @property
    def any_platform(self) -> bool:
        return self.slack_posts or self.teams or self.workflow_url is not None


def chat_setup(settings: Settings, config: DeskboardConfig) -> ChatSetup:
    oauth = _slack_oauth(settings)
    has_token = _given(settings.slack_bot_token)
    socket = _given(settings.slack_app_token)
    signing = _given(settings.slack_signing_secret)
    if (socket or signing) and not (has_token or oauth):
        given = "SLACK_APP_TOKEN" if socket else "SLACK_SIGNING_SECRET"
        raise SettingsError(
            f"SLACK_BOT_TOKEN: Slack needs the bot token (xoxb-...) to post and to answer; "
            f"{given} only lets commands in (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "to install the app by OAuth)"
        )
    if socket and not has_token:
        raise SettingsError(
            "SLACK_BOT_TOKEN: Socket Mode (SLACK_APP_TOKEN) needs the bot token; an OAuth "
            "install needs HTTP mode (SLACK_SIGNING_SECRET without SLACK_APP_TOKEN)"
        )
    slack_posts = has_token or oauth
    commands: SlackMode | None = "socket" if socket else "http" if signing else None
    notes: list[str] = []
    if slack_posts and commands is None:
        notes.append(
            f"Slack posts only ({POSTING}): {SLACK_COMMANDS} need SLACK_SIGNING_SECRET "
            "(HTTP mode) or SLACK_APP_TOKEN (Socket Mode)"
        )
    teams = _teams(settings)
    secret = settings.teams_workflow_url or config.teams.workflow_url
    workflow = secret.get_secret_value() if secret is not None and _given(secret) else None
    return ChatSetup(slack_posts, commands if slack_posts else None, teams, workflow, tuple(notes))


def _given(value: SecretStr | str | None) -> bool:
    """Set and not empty (an empty variable counts as unset)."""
    return bool(value.get_secret_value() if isinstance(value, SecretStr) else value)


def _slack_oauth(settings: Settings) -> bool:
    client_id, secret = _given(settings.slack_client_id), _given(settings.slack_client_secret)
    if client_id and not secret:
        raise SettingsError("SLACK_CLIENT_SECRET: set it with SLACK_CLIENT_ID (Slack OAuth)")
    if secret and not client_id:
        raise SettingsError("SLACK_CLIENT_ID: set it with SLACK_CLIENT_SECRET (Slack OAuth)")
    return client_id and secret


def _teams(settings: Settings) -> bool:
    client_id, secret = _given(settings.teams_client_id), _given(settings.teams_client_secret)
    if client_id and not secret:
        raise SettingsError(
            "TEAMS_CLIENT_SECRET: Teams needs the bot's client secret with TEAMS_CLIENT_ID"
        )
    if secret and not client_id:
        raise SettingsError(
            "TEAMS_CLIENT_ID: Teams needs the bot's app id with TEAMS_CLIENT_SECRET"
        )
    return client_id and secret


NO_PLATFORM = (
    "no chat platform is configured: set SLACK_BOT_TOKEN (Slack), TEAMS_CLIENT_ID and "
    "TEAMS_CLIENT_SECRET (Teams), or TEAMS_WORKFLOW_URL / [teams] workflow_url (Teams "
    "Workflows, post-only); or use --dry-run"
)

"""Where each kind of message goes on each chat platform.

Every event is queued once per configured platform, under ``PLATFORM:EVENT``, so one
platform's failure never makes another post twice. Targets:

- Slack: a contest's ``channel``, ``[kudos] channel``; DMs by Slack user.
- Teams (the bot): a contest's ``teams_channel``, ``[kudos] teams_channel`` ("Team/Channel",
  a channel name, or a conversation id the bot was installed in); DMs in personal chats.
- Teams Workflows (post-only, ``[teams] workflow_url``): the webhook's channel receives every
  contest's standings and winners and all kudos; no DMs, so no nudges there.
- console / demo: the Slack targets, printed.
"""

from __future__ import annotations

from bot.config import DeskboardConfig
from metrics.contests import Contest

SLACK = "slack"
TEAMS = "teams"
TEAMS_WORKFLOW = "teams-workflow"
WORKFLOW_TARGET = "workflow"


def _for(platform: str, slack: str | None, teams: str | None) -> str | None:
    if platform == TEAMS:
        return teams
    if platform == TEAMS_WORKFLOW:
        return WORKFLOW_TARGET
    return slack


def contest_target(platform: str, config: DeskboardConfig, contest: Contest) -> str | None:
    """Where ``contest``'s standings and winners go on ``platform`` (its ``[[contests]]``
    channel or teams_channel in deskboard.toml, ``bot.config.ContestDelivery``)."""
    delivery = config.delivery_of(contest)
    return _for(platform, delivery.channel, delivery.teams_channel)


def kudos_target(platform: str, config: DeskboardConfig) -> str | None:
    return _for(platform, config.kudos.channel, config.kudos.teams_channel)


def csat_alert_target(platform: str, config: DeskboardConfig) -> str | None:
    """Where bad-rating alerts go: the managers' channel of ``[csat]``. Never a Teams
    workflow's channel: a webhook posts where everybody reads, and an alert is no public
    shaming post."""
    if platform == TEAMS_WORKFLOW:
        return None
    return _for(platform, config.csat.alert_channel, config.csat.alert_teams_channel)


def can_dm(platform: str) -> bool:
    return platform != TEAMS_WORKFLOW


def outbox_key(platform: str, event: str) -> str:
    return f"{platform}:{event}"

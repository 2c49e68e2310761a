"""The App Home tab: the viewer's numbers this month and the live contests; for admins, a
second tab with every contest and the buttons that manage them (README "Running a contest")."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.chat.message import Actions, Button, Message
from bot.chat.views import home_view, stat_rows
from bot.core.contest_admin import contests_overview
from bot.core.people import people_directory
from bot.core.reports import metrics_from_database, standings_for_window
from bot.slack.blocks import to_slack
from bot.slack.deps import SlackDeps
from bot.slack.identity import PLATFORM
from bot.slack.listeners.replies import acked, deps_of
from metrics.windows import named_window

log = logging.getLogger(__name__)

HOME_PERIOD = "month"


def home_message(deps: SlackDeps, client: WebClient, user_id: str) -> Message:
    config = deps.current
    now = deps.clock()
    member = deps.identity(client).member_for_user(user_id)
    window = named_window(HOME_PERIOD, now=now, tz=config.tz, week_start=config.week_start_day)
    report = metrics_from_database(
        deps.engine, config=config, window=window, basis=config.metrics.time_basis
    )
    own = report.members.get(member) if member is not None else None
    contests = [
        standings_for_window(
            deps.engine,
            config=config,
            contest=contest,
            window=contest.window(now=now, tz=config.tz, week_start=config.week_start_day),
        )
        for contest in config.contest_list()
    ]
    directory = people_directory(deps.engine, platform=PLATFORM)
    keys = {s.member for standings in contests for s in standings.ranked[:3]}
    return home_view(
        viewer=directory.person(member, viewer=member) if member is not None else None,
        window_label=window.label(),
        rows=stat_rows(report.metrics, own.values if own is not None else {})
        if member is not None
        else [],
        contests=contests,
        people=directory.people(keys),
        as_of=report.data_as_of,
        tz=config.tz,
    )


TABS = (("mine", "My numbers"), ("admin", "Contests (admin)"))


def tab_bar(tab: str) -> Message:
    """The admins' switch between their own numbers and the contests' admin tab."""
    return Message(
        text="Tabs",
        blocks=(
            Actions(
                tuple(
                    Button(label, "home_tab", key, "primary" if key == tab else None)
                    for key, label in TABS
                ),
                block_id="home_tabs",
            ),
        ),
    )


def publish_home(deps: SlackDeps, client: WebClient, user_id: str, *, tab: str = "mine") -> None:
    """Publish the App Home: everyone's own numbers and the live contests; admins also get
    the admin tab (every contest, New contest / Edit / End now / Duplicate)."""
    admin = deps.identity(client).is_admin(user_id)
    if admin and tab == "admin":
        message = contests_overview(
            deps.engine, deps.current, now=deps.clock(), platform=PLATFORM, admin=True
        )
    else:
        tab = "mine"
        message = home_message(deps, client, user_id)
    if admin:
        message = Message(message.text, tab_bar(tab).blocks + message.blocks)
    _, blocks = to_slack(message)
    client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab
    user_id = str(event.get("user") or "")
    deps = deps_of(context)
    try:
        publish_home(deps, client, user_id)
    except Exception:
        log.exception("publishing the home tab for %s failed", user_id)


def register(app: App) -> None:
    acked(app.event("app_home_opened"), on_home_opened)

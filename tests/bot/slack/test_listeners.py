"""Listeners called as plain functions: a ``SlackDeps`` in the context, the fake Slack's
client, a recording ``respond``; no Bolt app, no signed request."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.deps import SlackDeps
from bot.slack.listeners.commands import _answer, command_context, slack_user_of
from bot.slack.listeners.home import on_home_opened
from tests.bot.slack.conftest import ADMIN, BLESSING, texts
from tests.bot.slack.fake_slack import FakeSlack


class Responses:
    """A ``respond`` that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def context_with(deps: SlackDeps) -> BoltContext:
    return BoltContext({"deps": deps})


def test_the_home_listener_publishes_the_viewers_numbers(
    deps: SlackDeps, client: WebClient, slack: FakeSlack
):
    home = {"type": "app_home_opened", "user": BLESSING.id, "tab": "home", "channel": "D1"}
    on_home_opened(home, client, context_with(deps))
    calls = slack.calls_to("views.publish")
    assert len(calls) == 1
    assert calls[0].params["user_id"] == BLESSING.id
    view = calls[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    body = texts(view["blocks"])
    assert "Your numbers, November 2026" in body
    assert "Resolved: 20" in body
    # The viewer was found by email (users.info) and is stored for next time.
    assert deps.identity(client).member_for_user(BLESSING.id) == "bokafor"


def test_the_home_listener_leaves_the_messages_tab_alone(
    deps: SlackDeps, client: WebClient, slack: FakeSlack
):
    messages = {"type": "app_home_opened", "user": BLESSING.id, "tab": "messages"}
    on_home_opened(messages, client, context_with(deps))
    assert slack.calls_to("views.publish") == []


def test_the_mystats_listener_answers_the_caller_only(deps: SlackDeps, client: WebClient):
    respond = Responses()
    mystats = _answer("mystats", admin_check=False)
    mystats(
        command={"user_id": BLESSING.id, "text": "", "command": "/mystats"},
        respond=respond,
        client=client,
        context=context_with(deps),
    )
    assert len(respond.sent) == 1
    answer = respond.sent[0]
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert texts(answer["blocks"]).startswith("Blessing Okafor — November 2026")


def test_a_command_context_knows_the_caller_and_whether_they_are_admin(
    deps: SlackDeps, client: WebClient
):
    identity = deps.identity(client)
    ctx = command_context(deps, identity, ADMIN.id, respond=Responses(), admin_check=True)
    assert ctx.platform == "slack"
    assert ctx.caller.user_id == ADMIN.id
    assert ctx.caller.member_key is None  # a workspace admin, but no technician
    assert ctx.caller.is_admin is True
    ctx = command_context(deps, identity, BLESSING.id, respond=Responses(), admin_check=False)
    assert ctx.caller.member_key == "bokafor"
    assert ctx.caller.is_admin is False
    assert ctx.resolve_user("<@UNEWBIE|newbie>") == "UNEWBIE"
    assert slack_user_of("not a user") is None

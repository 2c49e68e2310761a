"""An SLA-risk alert's buttons in Slack: **Take it** (``bot.core.alert_take``) answers the
clicker only; **Open in ConnectWise** is a link button, whose click Slack still reports and
which is acknowledged and nothing more."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.core.alert_take import TakeRequest, take_ticket
from bot.slack.listeners.actions import member_of
from bot.slack.listeners.replies import ack_at_once, acked, deps_of, reply_text


def on_take(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "")
    if not value.isdigit():
        reply_text(respond, "That button does not name a ticket.")
        return
    request = TakeRequest(int(value), member_of(deps, client, body))
    result = take_ticket(
        request, engine=deps.engine, config=deps.current, psa=deps.psa, now=deps.clock()
    )
    reply_text(respond, result.text)


def register(app: App) -> None:
    acked(app.action("alert_take"), on_take)
    app.action("alert_open")(ack_at_once)

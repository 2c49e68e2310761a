"""Options loaded on demand (``external_select``) for the nudge DM's selects.

- ``nudge_company``: ConnectWise companies whose name starts with what was typed
  (``name like "x*"``), the catch-all company left out.
- ``nudge_type`` / ``nudge_subtype`` / ``nudge_item``: when a board has too many to draw
  inline, the ones its associations allow with what is picked so far, filtered by the text.
- ``nudge_agreement``: the agreements of the picked company (else the ticket's).

Slack waits 3 s for options; a ConnectWise failure answers an empty list (and is logged).
Only the technician the nudge was sent to gets options (``bot.core.nudge_flow.authorize``: the
asking Slack user must map to the member of a nudge for the block's ticket); anyone else,
and a block that is no nudge, gets an empty list: no company, agreement or catalog name, and
no ConnectWise call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.chat.message import Option
from bot.core import nudge_choices, nudge_flow
from bot.slack.blocks import MAX_OPTION_TEXT, MAX_OPTIONS, cut
from bot.slack.deps import SlackDeps
from bot.slack.identity import PLATFORM
from bot.slack.listeners.actions import member_of, selection_of
from bot.slack.listeners.replies import deps_of

log = logging.getLogger(__name__)


def slack_options(options: Sequence[Option], query: str = "") -> list[dict[str, Any]]:
    wanted = query.strip().casefold()
    return [
        {
            "text": {"type": "plain_text", "text": cut(o.text, MAX_OPTION_TEXT) or " "},
            "value": o.value[:150],
        }
        for o in options
        if wanted in o.text.casefold()
    ][:MAX_OPTIONS]


def nudged(
    deps: SlackDeps, client: WebClient, body: dict[str, Any]
) -> nudge_flow.Authorized | None:
    """The select's ticket, when the Slack user asking is the technician its nudge was sent
    to; else None."""
    member = member_of(deps, client, body)
    block_id = str(body.get("block_id") or "")
    return nudge_flow.authorize(deps.engine, nudge_flow.Click(PLATFORM, block_id, member))


def on_company_options(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    deps = deps_of(context)
    query = str(body.get("value") or "")
    found: Sequence[Option] = ()
    try:
        who = nudged(deps, client, body)
        if who is not None:
            request = nudge_choices.ChoicesRequest(who, "nudge_company", query=query)
            found = nudge_choices.choices(deps, request)
    except Exception:
        log.exception("company options for %r failed", query)
    ack(options=slack_options(found))


def on_ticket_options(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    deps = deps_of(context)
    block_id = str(body.get("block_id") or "")
    action_id = str(body.get("action_id") or "")
    found: Sequence[Option] = ()
    try:
        who = nudged(deps, client, body)
        if who is not None:
            selection = selection_of(body, block_id)
            request = nudge_choices.ChoicesRequest(who, action_id, selection)
            found = nudge_choices.choices(deps, request)
    except Exception:
        log.exception("%s options for %s failed", action_id, block_id)
    ack(options=slack_options(found, str(body.get("value") or "")))


def register(app: App) -> None:
    app.options("nudge_company")(on_company_options)
    for action_id in ("nudge_type", "nudge_subtype", "nudge_item", "nudge_agreement"):
        app.options(action_id)(on_ticket_options)

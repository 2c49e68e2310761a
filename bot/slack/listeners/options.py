"""Options loaded on demand (``external_select``) for the nudge DM's selects.

- ``nudge_company``: ConnectWise companies whose name starts with what was typed
  (``name like "x*"``), the catch-all company left out.
- ``nudge_type`` / ``nudge_subtype`` / ``nudge_item``: when a board has too many to draw
  inline, the ones its associations allow with what is picked so far, filtered by the text.
- ``nudge_agreement``: the agreements of the picked company (else the ticket's).

Slack waits 3 s for options; a ConnectWise failure answers an empty list (and is logged).
Only the technician the nudge was sent to gets options (``bot.core.fixes.nudge_target``: the
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
from bot.core.fixes import agreements_for, company_options, nudge_target, ticket_state
from bot.slack.blocks import MAX_OPTION_TEXT, MAX_OPTIONS, cut
from bot.slack.deps import SlackDeps
from bot.slack.listeners.actions import selection_of
from bot.slack.listeners.replies import deps_of, user_id_of

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


def nudged_ticket(deps: SlackDeps, client: WebClient, body: dict[str, Any]) -> int | None:
    """The ticket of the select's block, when the Slack user asking is the technician its
    nudge was sent to; else None."""
    user_id = user_id_of(body)
    member = deps.identity(client).member_for_user(user_id) if user_id else None
    block_id = str(body.get("block_id") or "")
    target = nudge_target(deps.engine, block_id=block_id, value=None, member=member)
    return target.ticket_id if target is not None else None


def on_company_options(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    deps = deps_of(context)
    query = str(body.get("value") or "")
    found: Sequence[Option] = ()
    try:
        if nudged_ticket(deps, client, body) is not None:
            with deps.connectwise() as cw:
                found = company_options(
                    cw, query, catchall_company=deps.config.connectwise.catchall_company
                )
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
        ticket_id = nudged_ticket(deps, client, body)
        if ticket_id is not None:
            found = _ticket_options(deps, ticket_id, block_id, action_id, body)
    except Exception:
        log.exception("%s options for %s failed", action_id, block_id)
    ack(options=slack_options(found, str(body.get("value") or "")))


def _ticket_options(
    deps: SlackDeps, ticket_id: int, block_id: str, action_id: str, body: dict[str, Any]
) -> Sequence[Option]:
    selection = selection_of(body, block_id)
    with deps.connectwise() as cw:
        ticket = ticket_state(cw, ticket_id)
        if action_id == "nudge_agreement":
            reasons = ("no_agreement",)  # whichever reason: the picked company's, else the ticket's
            refs = agreements_for(cw, ticket=ticket, reasons=reasons, selection=selection)
            return [Option(r.name, str(r.id)) for r in refs if not r.inactive]
        if ticket.board_id is None:
            return ()
        catalog = deps.catalogs.get(cw, ticket.board_id)
    type_id = selection.type_id if selection.type_id is not None else ticket.type_id
    if action_id == "nudge_type":
        return catalog.type_options()
    if action_id == "nudge_subtype":
        return catalog.subtype_options(type_id) if type_id is not None else ()
    if action_id == "nudge_item":
        subtype_id = selection.subtype_id if selection.type_id is not None else ticket.subtype_id
        return catalog.item_options(type_id, subtype_id) if type_id is not None else ()
    return ()


def register(app: App) -> None:
    app.options("nudge_company")(on_company_options)
    for action_id in ("nudge_type", "nudge_subtype", "nudge_item", "nudge_agreement"):
        app.options(action_id)(on_ticket_options)

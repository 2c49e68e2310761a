"""The nudge DM's controls: fix a ticket in place, or say it needs nothing.

Each ticket in a nudge digest has an actions block ``nudge:TICKET_ID`` with selects
(type, subtype, item, company, agreement) and two buttons (Save, Not needed).

- Picking a type shows the subtypes the ticket's board allows with it; picking a subtype,
  the items; picking a company, its agreements (the message is updated in place, keeping
  whatever else was picked in it).
- Save checks the picks against the ticket's open nudge reasons, PATCHes ConnectWise, adds
  an internal note naming who fixed it from Slack, marks the nudge fixed, and replaces the
  ticket's part of the DM with what was done. Not needed marks it dismissed.

Only the technician the nudge is for may act on it (the clicking Slack user must map to the
nudge's member), and only on the ticket the block is about, in a message that carries that
block (the DM the click came from); anyone else gets a refusal only they see, and nothing
changes.

This module parses Slack's payload and renders the answer in place (Block Kit); the steps in
between (who may act, the ConnectWise change, storing it) are ``bot.core.nudge_flow``'s.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.chat.message import Message, Option
from bot.core import nudge_choices, nudge_flow
from bot.core.fix_apply import FixError
from bot.core.fixes import Selection
from bot.core.nudge_flow import NOT_YOURS, NUDGE_SELECTS, Authorized
from bot.slack.blocks import to_slack
from bot.slack.deps import SlackDeps
from bot.slack.identity import PLATFORM
from bot.slack.listeners.replies import (
    FAILED,
    ack_at_once,
    acked,
    deps_of,
    reply_text,
    user_id_of,
)

log = logging.getLogger(__name__)

SELECTS = NUDGE_SELECTS


@dataclass(frozen=True, slots=True)
class NudgeClick:
    """An authorized click on a nudge control."""

    who: Authorized
    user_id: str
    action: dict[str, Any]

    @property
    def ticket_id(self) -> int:
        return self.who.ticket_id

    @property
    def block_id(self) -> str:
        return self.who.block_id


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def _in_message(body: dict[str, Any], block_id: str) -> bool:
    blocks = (body.get("message") or {}).get("blocks") or []
    return any(isinstance(b, dict) and b.get("block_id") == block_id for b in blocks)


def member_of(deps: SlackDeps, client: WebClient, body: dict[str, Any]) -> str | None:
    """The member the clicking Slack user is linked to."""
    user_id = user_id_of(body)
    return deps.identity(client).member_for_user(user_id) if user_id else None


def authorize(deps: SlackDeps, client: WebClient, body: dict[str, Any]) -> NudgeClick | None:
    """The click, when it is the nudged technician's, in the DM that carries the ticket's
    block, and about that block's ticket."""
    action = _action(body)
    block_id = str(action.get("block_id") or "")
    if not _in_message(body, block_id):
        return None
    value = str(action.get("value") or "") if action.get("type") == "button" else None
    member = member_of(deps, client, body)
    click = nudge_flow.Click(PLATFORM, block_id, member, value)
    who = nudge_flow.authorize(deps.engine, click)
    if who is None:
        return None
    return NudgeClick(who, user_id_of(body), action)


# ---- reading the picks ------------------------------------------------------------------------


def _picked(element: dict[str, Any] | None) -> dict[str, Any] | None:
    if not element:
        return None
    option = element.get("selected_option")
    return option if isinstance(option, dict) and option.get("value") else None


def _id(option: dict[str, Any] | None) -> int | None:
    value = str(option.get("value")) if option else ""
    return int(value) if value.isdigit() else None


def selection_of(body: dict[str, Any], block_id: str) -> Selection:
    """What is picked in the ticket's block: the message state plus the action itself."""
    state = ((body.get("state") or {}).get("values") or {}).get(block_id) or {}
    picks = {name: _picked(state.get(name)) for name in SELECTS}
    action = _action(body)
    if action.get("action_id") in SELECTS and action.get("block_id") == block_id:
        picks[str(action["action_id"])] = _picked(action)
    company = picks["nudge_company"]
    return Selection(
        type_id=_id(picks["nudge_type"]),
        subtype_id=_id(picks["nudge_subtype"]),
        item_id=_id(picks["nudge_item"]),
        company=_company_option(company),
        agreement_id=_id(picks["nudge_agreement"]),
    )


def _company_option(picked: dict[str, Any] | None) -> Option | None:
    if picked is None or _id(picked) is None:
        return None
    value = str(picked["value"])
    text = str((picked.get("text") or {}).get("text") or "")
    return Option(text=text or f"#{value}", value=value)


# ---- updating the DM --------------------------------------------------------------------------


def _with_state(blocks: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's blocks showing what is picked so far, so an update keeps the picks."""
    values = (body.get("state") or {}).get("values") or {}
    kept: list[dict[str, Any]] = []
    for block in blocks:
        picks = values.get(block.get("block_id") or "")
        if block.get("type") != "actions" or not picks:
            kept.append(block)
            continue
        elements = []
        for element in block.get("elements", []):
            option = _picked(picks.get(element.get("action_id") or ""))
            static = element.get("type") == "static_select"
            offered = {o.get("value") for o in element.get("options", [])}
            if option is not None and (not static or option["value"] in offered):
                element = {**element, "initial_option": option}
            elements.append(element)
        kept.append({**block, "elements": elements})
    return kept


def _mentions(block: dict[str, Any], ticket_id: int) -> bool:
    text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
    return re.search(rf"#{ticket_id}(?!\d)", str(text)) is not None


def _update(client: WebClient, body: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    ts = str(container.get("message_ts") or message.get("ts") or "")
    client.chat_update(channel=channel, ts=ts, text=message.get("text") or "", blocks=blocks)


def replace_controls(
    client: WebClient, body: dict[str, Any], block_id: str, controls: dict[str, Any]
) -> None:
    blocks = _with_state(list((body.get("message") or {}).get("blocks") or []), body)
    _update(client, body, [controls if b.get("block_id") == block_id else b for b in blocks])


def replace_section(
    client: WebClient, body: dict[str, Any], click: NudgeClick, message: Message
) -> None:
    """The ticket's paragraph and controls give way to ``message``; the rest stays."""
    blocks = _with_state(list((body.get("message") or {}).get("blocks") or []), body)
    end = next((i for i, b in enumerate(blocks) if b.get("block_id") == click.block_id), None)
    if end is None:
        return  # already replaced (a second click)
    start = end
    while start > 0 and _mentions(blocks[start - 1], click.ticket_id):
        start -= 1
    _, done = to_slack(message)
    _update(client, body, [*blocks[:start], *done, *blocks[end + 1 :]])


# ---- the listeners ----------------------------------------------------------------------------


def _controls(deps: SlackDeps, click: NudgeClick, selection: Selection) -> dict[str, Any]:
    """The ticket's actions block redrawn for ``selection``."""
    _, blocks = to_slack(nudge_choices.redraw(deps, click.who, selection))
    controls = next(b for b in blocks if b.get("block_id") == click.block_id)
    if selection.company is not None:  # an on-demand select shows the pick only if told
        chosen = {
            "text": {"type": "plain_text", "text": selection.company.text[:75]},
            "value": selection.company.value,
        }
        for element in controls.get("elements", []):
            if element.get("action_id") == "nudge_company":
                element["initial_option"] = chosen
    return controls


def _click(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> tuple[SlackDeps, NudgeClick] | None:
    deps = deps_of(context)
    click = authorize(deps, client, body)
    if click is None:
        reply_text(respond, NOT_YOURS)
        return None
    return deps, click


def on_pick(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """A type, subtype or company was picked: offer what goes with it."""
    found = _click(body, respond, client, context)
    if found is None:
        return
    deps, click = found
    selection = selection_of(body, click.block_id)
    action_id = click.action.get("action_id")
    if action_id == "nudge_type":
        selection = replace(selection, subtype_id=None, item_id=None)
    elif action_id == "nudge_subtype":
        selection = replace(selection, item_id=None)
    elif action_id == "nudge_company":
        selection = replace(selection, agreement_id=None)
    try:
        replace_controls(client, body, click.block_id, _controls(deps, click, selection))
    except Exception:
        log.exception("updating the nudge controls of ticket %d failed", click.ticket_id)
        reply_text(respond, FAILED)


def on_save(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    found = _click(body, respond, client, context)
    if found is None:
        return
    deps, click = found
    request = nudge_flow.FixRequest(click.who, selection_of(body, click.block_id))
    try:
        fixed = nudge_flow.fix(deps, request)
    except FixError as exc:
        reply_text(respond, str(exc))
        return
    except Exception:
        log.exception("fixing ticket %d failed", click.ticket_id)
        reply_text(respond, FAILED)
        return
    if isinstance(fixed, nudge_flow.Fixed):
        replace_section(client, body, click, fixed.message)


def on_dismiss(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    found = _click(body, respond, client, context)
    if found is None:
        return
    deps, click = found
    done = nudge_flow.dismiss(deps, nudge_flow.DismissRequest(click.who))
    replace_section(client, body, click, done)


def register(app: App) -> None:
    for action_id in ("nudge_type", "nudge_subtype", "nudge_company"):
        acked(app.action(action_id), on_pick)
    for action_id in ("nudge_item", "nudge_agreement"):
        # an item or agreement was picked: it is read from the message state on Save
        app.action(action_id)(ack_at_once)
    acked(app.action("nudge_save"), on_save)
    acked(app.action("nudge_dismiss"), on_dismiss)

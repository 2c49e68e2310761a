"""Card buttons (``Action.Execute`` → invoke ``adaptiveCard/action``), by verb:

- ``leaderboard_share``: posts the same standings for everyone in the conversation (a channel:
  a new post in it, not a reply in the thread), naming who shared it; the clicker gets a
  short "Shared" message.
- ``nudge_save`` / ``nudge_dismiss``, and the Search button under a nudge select
  (``bot.teams.cards.SEARCH_VERB``): ``bot.teams.listeners.nudges``; the answer is the
  card updated in place (the invoke response replaces the card; a finished ticket also
  updates the message itself, so every device shows it). Anyone but the nudged technician
  gets a message saying so, and nothing changes or shows.

- ``contest_*``: the contests card and the contest form (``bot.teams.listeners.program``).

- ``alert_take``: an SLA-risk alert's Take it (``bot.core.alert_take``); the clicker gets
  the outcome as a message. Open in ConnectWise is an ``Action.OpenUrl`` and never comes here.

An unknown verb (a button of an older Deskboard) gets a message asking to run it again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.apps import ActivityContext

from bot.chat.message import Message
from bot.chat.views import shared_by
from bot.core.alert_take import TakeRequest, take_ticket
from bot.core.commands import UsageError, handle_share, usage_reply
from bot.core.fix_apply import FixError
from bot.core.nudge_flow import NOT_YOURS
from bot.teams.cards import SEARCH_VERB, to_adaptive_card
from bot.teams.deps import TeamsDeps
from bot.teams.identity import user_from_activity
from bot.teams.listeners import nudges, program
from bot.teams.listeners.activity import (
    FAILED,
    Background,
    base_conversation_id,
    card_message,
    card_response,
    raw_activity,
    text_response,
)
from bot.teams.listeners.caller import command_context

log = logging.getLogger(__name__)

OLD_BUTTON = "That button is from an older Deskboard message; run the command again."
SHARED = "Shared with everyone here."


async def on_share(
    deps: TeamsDeps, ctx: ActivityContext[Any], raw: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    sender = user_from_activity(raw)
    if sender is None:
        return text_response(FAILED)
    cmd = await command_context(deps, ctx, sender)
    shared = await asyncio.to_thread(handle_share, str(data.get("value") or ""), cmd)
    if isinstance(shared, UsageError):
        return text_response(usage_reply(shared).text)
    user = deps.roster.get(sender.id) or sender
    message = shared_by(shared, user.name or "a teammate")
    conversation = ctx.conversation_ref.conversation
    channel = conversation.model_copy(update={"id": base_conversation_id(conversation.id)})
    where = ctx.conversation_ref.model_copy(update={"conversation": channel})
    await ctx.send(card_message(message), where)
    return text_response(SHARED)


async def on_take(deps: TeamsDeps, raw: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    sender = user_from_activity(raw)
    value = str(data.get("value") or "")
    if sender is None or not value.isdigit():
        return text_response(FAILED)
    member = await asyncio.to_thread(deps.identity().member_for_user, sender.id)
    request = TakeRequest(int(value), member)
    result = await asyncio.to_thread(
        take_ticket, request, engine=deps.engine, config=deps.current, psa=deps.psa,
        now=deps.clock(),
    )  # fmt: skip
    return text_response(result.text)


def _card_key(raw: dict[str, Any]) -> str | None:
    """The clicked card's message: its conversation and activity id."""
    reply_to = raw.get("replyToId")
    conversation = str((raw.get("conversation") or {}).get("id") or "")
    return f"{conversation}|{reply_to}" if reply_to and conversation else None


async def _update_message(ctx: ActivityContext[Any], raw: dict[str, Any], card: Message) -> None:
    """Rewrite the clicked message itself (the invoke response shows it at once)."""
    reply_to = raw.get("replyToId")
    if not reply_to:
        return
    activity = card_message(card)
    activity.id = str(reply_to)
    try:
        await ctx.send(activity)
    except Exception as exc:
        log.warning("updating the nudge message %s failed: %s", reply_to, exc)


async def on_nudge(
    deps: TeamsDeps,
    states: nudges.CardStates,
    background: Background,
    ctx: ActivityContext[Any],
    raw: dict[str, Any],
    verb: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    sender = user_from_activity(raw)
    click = None
    if sender is not None:
        click = await asyncio.to_thread(
            nudges.authorize, deps, user_id=sender.id, data=data, button=verb != SEARCH_VERB
        )
    if click is None:
        return text_response(NOT_YOURS)
    try:
        if verb == "nudge_save":
            outcome = await asyncio.to_thread(nudges.save, deps, click, data)
        elif verb == SEARCH_VERB:
            outcome = await asyncio.to_thread(nudges.search, deps, click, data)
        else:
            outcome = await asyncio.to_thread(nudges.dismiss, deps, click)
    except FixError as exc:  # what to pick, nothing left to do, or ConnectWise's failure
        return text_response(str(exc))
    card = await asyncio.to_thread(
        nudges.answer_card,
        deps,
        states,
        card_key=_card_key(raw),
        click=click,
        outcome=outcome,
        data=data,
    )
    if outcome.done:
        background.start(_update_message(ctx, raw, card), name="teams-nudge-update")
    return card_response(to_adaptive_card(card))


def card_action_listener(deps: TeamsDeps, states: nudges.CardStates, background: Background) -> Any:
    async def on_card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> dict[str, Any]:
        raw = raw_activity(ctx)
        action = (raw.get("value") or {}).get("action") or {}
        data = action.get("data")
        data = dict(data) if isinstance(data, dict) else {}
        verb = str(action.get("verb") or data.get("action") or "")
        try:
            if verb == "leaderboard_share":
                return await on_share(deps, ctx, raw, data)
            if verb == "alert_take":
                return await on_take(deps, raw, data)
            if verb in ("nudge_save", "nudge_dismiss", SEARCH_VERB):
                return await on_nudge(deps, states, background, ctx, raw, verb, data)
            if verb in program.VERBS:
                sender = user_from_activity(raw)
                if sender is None:
                    return text_response(FAILED)
                return await program.on_program_verb(deps, ctx, sender, verb, data)
        except Exception:
            log.exception("the %s button failed", verb)
            return text_response(FAILED)
        return text_response(OLD_BUTTON)

    return cast(Any, on_card_action)

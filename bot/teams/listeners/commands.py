"""Commands as messages: ``@Deskboard leaderboard week`` in a channel, ``leaderboard week``
in a 1:1 chat (a leading ``/`` is fine), and the app manifest's command list.

The text (mentions of the bot and its name removed, see ``activity.command_text``) is routed
to ``bot.core.commands.handle``: ``leaderboard``, ``mystats``, and ``deskboard status|sync|
contests|contest new|list|end NAME|changes|link @user IDENTIFIER|optout|optin|help``, where
``deskboard`` may be left out (``status`` alone works). Same arguments and usage replies as
Slack's slash commands; ``contest new`` answers with the contest form card
(``bot.teams.listeners.program``).

The reply is one Adaptive Card, sent before the HTTP response (Teams waits about 15 s; a
command reads only the database). ``sync`` is the exception: it answers "on it" and the
result follows when the sync is done, after the HTTP response.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.apps import ActivityContext

from bot.core.commands import CommandContext, DeskboardRequest, handle, parse_deskboard
from bot.teams.cards import message_activity as card_activity
from bot.teams.deps import TeamsDeps
from bot.teams.identity import user_from_activity
from bot.teams.listeners import program
from bot.teams.listeners.activity import (
    FAILED,
    Background,
    command_text,
    raw_activity,
    reply,
    reply_text,
    route,
)
from bot.teams.listeners.caller import command_context

log = logging.getLogger(__name__)


def _program_card(command: str, args: str, deps: TeamsDeps) -> str | None:
    """``contest new`` and ``contest list``, which Teams answers with their own cards (the
    form; the contests list that refreshes itself)."""
    if command != "deskboard":
        return None
    request = parse_deskboard(args, deps.current)
    if isinstance(request, DeskboardRequest) and request.action in ("contest_new", "contest_list"):
        return request.action
    return None


def is_sync(command: str, args: str, deps: TeamsDeps) -> bool:
    if command != "deskboard":
        return False
    request = parse_deskboard(args, deps.current)
    return isinstance(request, DeskboardRequest) and request.action == "sync"


async def answer(ctx: ActivityContext[Any], command: str, args: str, cmd: CommandContext) -> None:
    try:
        message = await asyncio.to_thread(handle, command, args, cmd)
        await reply(ctx, message)
    except Exception:
        log.exception("%s %r failed for %s", command, args, cmd.caller.user_id)
        await reply_text(ctx, FAILED)


def message_listener(deps: TeamsDeps, background: Background) -> Any:
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        raw = raw_activity(ctx)
        sender = user_from_activity(raw)
        if sender is None or (raw.get("value") is not None and not raw.get("text")):
            return  # nobody to answer, or an old card's submit: not a command
        command, args = route(command_text(raw))
        try:
            cmd = await command_context(deps, ctx, sender)
        except Exception:
            log.exception("reading who asked %s failed", command)
            await reply_text(ctx, FAILED)
            return
        wanted = _program_card(command, args, deps)
        if wanted == "contest_list" or (wanted == "contest_new" and cmd.caller.is_admin):
            try:
                card = await asyncio.to_thread(
                    program.form_card_of
                    if wanted == "contest_new"
                    else partial(
                        program.contests_card, admin=cmd.caller.is_admin, viewer=sender.id
                    ),
                    deps,
                )
                assert card is not None
                await ctx.send(MessageActivityInput.model_validate(card_activity(card)))
            except Exception:
                log.exception("%s failed for %s", wanted, sender.id)
                await reply_text(ctx, FAILED)
            return
        if is_sync(command, args, deps):
            background.start(answer(ctx, command, args, cmd), name=f"teams-{command}")
            return
        await answer(ctx, command, args, cmd)

    return on_message

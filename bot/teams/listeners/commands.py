"""Commands as messages: ``@Deskboard leaderboard week`` in a channel, ``leaderboard week``
in a 1:1 chat (a leading ``/`` is fine), and the app manifest's command list.

The text (mentions of the bot and its name removed, see ``activity.command_text``) is routed
to ``bot.core.commands.handle``: ``leaderboard``, ``mystats``, and ``deskboard status|sync|
contests|link @user IDENTIFIER|optout|optin|help``, where ``deskboard`` may be left out
(``status`` alone works). Same arguments and usage replies as Slack's slash commands.

The reply is one Adaptive Card, sent before the HTTP response (Teams waits about 15 s; a
command reads only the database). ``sync`` is the exception: it answers "on it" and the
result follows when the sync is done, after the HTTP response.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext

from bot.chat.message import Message
from bot.core.commands import Caller, CommandContext, DeskboardRequest, handle, parse_deskboard
from bot.teams.deps import TeamsDeps
from bot.teams.identity import PLATFORM, TeamsUser, fetch_user, user_from_activity
from bot.teams.listeners.activity import (
    FAILED,
    Background,
    base_conversation_id,
    command_text,
    raw_activity,
    reply,
    reply_text,
    route,
    teams_user_of,
)

log = logging.getLogger(__name__)

PROGRESS_TIMEOUT = 30.0  # seconds a worker thread waits for an interim reply to go out


def is_sync(command: str, args: str, deps: TeamsDeps) -> bool:
    if command != "deskboard":
        return False
    request = parse_deskboard(args, deps.current)
    return isinstance(request, DeskboardRequest) and request.action == "sync"


async def command_context(
    deps: TeamsDeps, ctx: ActivityContext[Any], sender: TeamsUser
) -> CommandContext:
    """Who is asking (with the roster entry the tracker read, for admin checks by email)."""
    identity = deps.identity()
    user = deps.roster.get(sender.id)
    if user is None and identity.admins:  # an admin may be named by email: read it
        conversation = base_conversation_id(str(ctx.activity.conversation.id))
        user = await fetch_user(
            ctx.api, conversation_id=conversation, user_id=sender.id, cache=deps.roster
        )
    user = user or sender
    member = await asyncio.to_thread(identity.member_for_user, sender.id)
    is_admin = await asyncio.to_thread(identity.is_admin, user)
    loop = asyncio.get_running_loop()

    def progress(message: Message) -> None:  # called from the worker thread
        asyncio.run_coroutine_threadsafe(reply(ctx, message), loop).result(PROGRESS_TIMEOUT)

    return CommandContext(
        engine=deps.engine,
        config=deps.current,
        now=deps.clock(),
        platform=PLATFORM,
        caller=Caller(user_id=sender.id, member_key=member, is_admin=is_admin),
        ticket_link=deps.ticket_link,
        resolve_user=teams_user_of,
        run_sync=deps.run_sync,
        progress=progress,
    )


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
        if is_sync(command, args, deps):
            background.start(answer(ctx, command, args, cmd), name=f"teams-{command}")
            return
        await answer(ctx, command, args, cmd)

    return on_message

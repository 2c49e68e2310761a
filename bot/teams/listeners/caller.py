"""Who is asking on Teams: the ``CommandContext`` of a message or a click (the roster entry the
tracker read, fetched when an admin may be named by email)."""

from __future__ import annotations

import asyncio
from typing import Any

from microsoft_teams.apps import ActivityContext

from bot.chat.message import Message
from bot.core.commands import Caller, CommandContext
from bot.teams.deps import TeamsDeps
from bot.teams.identity import PLATFORM, TeamsUser, fetch_user
from bot.teams.listeners.activity import base_conversation_id, reply, teams_user_of

PROGRESS_TIMEOUT = 30.0  # seconds a worker thread waits for an interim reply to go out


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
        caller=Caller(user_id=sender.id, member_key=member, is_admin=is_admin, name=user.name),
        ticket_link=deps.ticket_link,
        resolve_user=teams_user_of,
        run_sync=deps.run_sync,
        progress=progress,
    )

"""Remembering where the bot can post, and who is who.

Every incoming activity (a message, a card click, an install) passes through
``track`` first:

- its conversation is saved (``bot.core.conversations``, platform ``"teams"``): a channel by
  its id (without the thread's ``;messageid=``), channel name and team name, a personal chat
  with its user, a group chat by id; the newest service URL wins. A conversation the bot was
  just removed from is not saved again.
- its sender's roster entry (email, UPN) is read once a day and matched against the
  technicians' emails (``bot.teams.identity``).
- its sender's Entra object id is kept beside their Teams user id (once per process and
  pair), so that the personal tab, which signs in with Entra, knows who is looking.

When the bot is added to a team (or a team's channels change), every channel of the team is
saved, so that "Team/Channel" targets work before anyone writes there, and the team's
roster is matched at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api import ApiClient
from microsoft_teams.apps import ActivityContext

from bot.core.conversations import remember_conversation
from bot.teams.deps import TeamsDeps
from bot.teams.identity import PLATFORM, fetch_roster, fetch_user, user_from_activity
from bot.teams.listeners.activity import (
    GENERAL,
    ConversationFacts,
    base_conversation_id,
    conversation_facts,
    raw_activity,
)

log = logging.getLogger(__name__)

CHANNEL_EVENTS = frozenset(
    {"channelCreated", "channelRenamed", "channelRestored", "teamRenamed", "teamRestored"}
)


def _save(
    deps: TeamsDeps,
    facts: ConversationFacts,
    *,
    conversation_id: str | None = None,
    name: str | None = None,
) -> None:
    remember_conversation(
        deps.engine,
        platform=PLATFORM,
        conversation_id=conversation_id or facts.conversation_id,
        kind=facts.kind,
        service_url=facts.service_url,
        at=deps.clock(),
        name=name if conversation_id else facts.name,
        team_name=facts.team_name,
        tenant_id=facts.tenant_id,
        user_id=facts.user_id,
    )


def _bot_ids(raw: dict[str, Any]) -> set[str]:
    bot = str((raw.get("recipient") or {}).get("id") or "")
    return {bot, bot.split(":", 1)[-1]} - {""}


def bot_added(raw: dict[str, Any]) -> bool:
    added = {str(m.get("id") or "") for m in raw.get("membersAdded") or []}
    return bool(added & _bot_ids(raw)) or (
        raw.get("type") == "installationUpdate" and raw.get("action") in ("add", "add-upgrade")
    )


def bot_removed(raw: dict[str, Any]) -> bool:
    removed = {str(m.get("id") or "") for m in raw.get("membersRemoved") or []}
    return bool(removed & _bot_ids(raw)) or (
        raw.get("type") == "installationUpdate"
        and raw.get("action") in ("remove", "remove-upgrade")
    )


async def _match_sender(deps: TeamsDeps, api: ApiClient, raw: dict[str, Any]) -> None:
    sender = user_from_activity(raw)
    if sender is None or sender.id in _bot_ids(raw) or (raw.get("from") or {}).get("role") == "bot":
        return
    identity = deps.identity()
    if sender.aad_object_id and deps.accounts_seen.get(sender.aad_object_id) != sender.id:
        await asyncio.to_thread(identity.remember_accounts, [sender])
        deps.accounts_seen[sender.aad_object_id] = sender.id
    if await asyncio.to_thread(identity.member_for_user, sender.id) is not None:
        return
    conversation_id = base_conversation_id(str((raw.get("conversation") or {}).get("id") or ""))
    user = await fetch_user(
        api, conversation_id=conversation_id, user_id=sender.id, cache=deps.roster
    )
    if user is not None:
        await asyncio.to_thread(identity.match, user)


async def _save_team(deps: TeamsDeps, api: ApiClient, facts: ConversationFacts) -> None:
    """Every channel of the team, and the team's roster matched to technicians."""
    if facts.team_id is None:
        return
    try:
        channels = await api.teams.get_conversations(facts.team_id)
    except Exception as exc:
        log.warning("the channels of team %s are unreadable: %s", facts.team_name, exc)
        channels = []
    for channel in channels:
        if channel.id:
            name = channel.name or (GENERAL if channel.id == facts.team_id else None)
            await asyncio.to_thread(_save, deps, facts, conversation_id=channel.id, name=name)
    roster = await fetch_roster(api, conversation_id=facts.team_id)
    for user in roster:
        deps.roster.put(user)
    await asyncio.to_thread(deps.identity().remember_accounts, roster)
    matched = await asyncio.to_thread(deps.identity().match_roster, roster)
    log.info(
        "Teams: team %s saved, %d channels, %d technicians matched",
        facts.team_name,
        len(channels),
        matched,
    )


def tracker(deps: TeamsDeps) -> Any:
    """The middleware: save the conversation and match the sender, then go on."""

    async def track(ctx: ActivityContext[Any]) -> None:
        try:
            raw = raw_activity(ctx)
            facts = conversation_facts(raw)
            if facts is not None and not bot_removed(raw):
                await asyncio.to_thread(_save, deps, facts)
                await _match_sender(deps, ctx.api, raw)
                event = (raw.get("channelData") or {}).get("eventType")
                if facts.kind == "channel" and (bot_added(raw) or event in CHANNEL_EVENTS):
                    await _save_team(deps, ctx.api, facts)
        except Exception:  # remembering must never stop the answer
            log.exception("tracking a Teams conversation failed")
        await ctx.next()

    return track

"""Conversations a chat bot may post into unasked (Teams keeps one for each team channel,
group chat and personal chat the bot was installed in or messaged from), over
``storage.conversations``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from storage import conversations
from storage.conversations import Conversation
from storage.db import session_scope

__all__ = [
    "Conversation",
    "find_conversation",
    "known_conversations",
    "personal_conversation",
    "remember_conversation",
]


def remember_conversation(
    engine: Engine,
    *,
    platform: str,
    conversation_id: str,
    kind: str,
    service_url: str,
    at: datetime,
    name: str | None = None,
    team_name: str | None = None,
    tenant_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """Remember (or refresh) a conversation reference; the newest service URL wins."""
    with session_scope(engine) as session:
        conversations.save_conversation(
            session,
            platform=platform,
            conversation_id=conversation_id,
            kind=kind,
            service_url=service_url,
            at=at,
            name=name,
            team_name=team_name,
            tenant_id=tenant_id,
            user_id=user_id,
        )


def find_conversation(engine: Engine, *, platform: str, target: str) -> Conversation | None:
    """A conversation by id, by "Team/Channel", or by channel name (case-insensitive)."""
    with session_scope(engine) as session:
        return conversations.find_conversation(session, platform=platform, target=target)


def known_conversations(engine: Engine, *, platform: str) -> list[Conversation]:
    """Every conversation remembered on ``platform``."""
    with session_scope(engine) as session:
        return conversations.list_conversations(session, platform=platform)


def personal_conversation(engine: Engine, *, platform: str, user_id: str) -> Conversation | None:
    """The chat user's personal chat with the bot (where a DM goes), or None: a bot can
    only message people who installed it or wrote to it."""
    with session_scope(engine) as session:
        return conversations.personal_conversation(session, platform=platform, user_id=user_id)

"""Conversations the bot can post into proactively (Teams stores each one when the bot is
installed there or first messaged): channels by name, personal chats by user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from storage.bulk import upsert_rows
from storage.tables import CHAT_CONVERSATIONS

_C = CHAT_CONVERSATIONS.c


@dataclass(frozen=True, slots=True)
class Conversation:
    platform: str
    conversation_id: str
    kind: str  # "channel" | "personal" | "groupChat"
    name: str | None
    team_name: str | None
    service_url: str
    tenant_id: str | None
    user_id: str | None
    updated_at: datetime

    @property
    def label(self) -> str:
        """ "Team/Channel" for a channel, else the name or the id."""
        if self.team_name and self.name:
            return f"{self.team_name}/{self.name}"
        return self.name or self.conversation_id


def _conversation(row: RowMapping) -> Conversation:
    return Conversation(**{name: row[name] for name in Conversation.__dataclass_fields__})


def save_conversation(
    session: Session,
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
    """Remember (or refresh) a conversation; the newest service URL wins."""
    row = {
        "platform": platform,
        "conversation_id": conversation_id,
        "kind": kind,
        "name": name,
        "team_name": team_name,
        "service_url": service_url,
        "tenant_id": tenant_id,
        "user_id": user_id,
        "updated_at": at,
    }
    upsert_rows(session, CHAT_CONVERSATIONS, [row])


def find_conversation(session: Session, *, platform: str, target: str) -> Conversation | None:
    """A conversation by id, by "Team/Channel", or by channel name (case-insensitive)."""
    exact = (
        session.execute(
            select(CHAT_CONVERSATIONS).where(_C.platform == platform, _C.conversation_id == target)
        )
        .mappings()
        .first()
    )
    if exact is not None:
        return _conversation(exact)
    wanted = target.strip().lstrip("#").casefold()
    team, _, channel = wanted.rpartition("/")
    query = select(CHAT_CONVERSATIONS).where(
        _C.platform == platform, func.lower(_C.name) == (channel or wanted)
    )
    if team:
        query = query.where(func.lower(_C.team_name) == team)
    row = session.execute(query.order_by(_C.updated_at.desc())).mappings().first()
    return _conversation(row) if row is not None else None


def personal_conversation(session: Session, *, platform: str, user_id: str) -> Conversation | None:
    query = (
        select(CHAT_CONVERSATIONS)
        .where(_C.platform == platform, _C.user_id == user_id, _C.kind == "personal")
        .order_by(_C.updated_at.desc())
    )
    row = session.execute(query).mappings().first()
    return _conversation(row) if row is not None else None


def list_conversations(session: Session, *, platform: str) -> list[Conversation]:
    query = (
        select(CHAT_CONVERSATIONS).where(_C.platform == platform).order_by(_C.team_name, _C.name)
    )
    return [_conversation(row) for row in session.execute(query).mappings()]

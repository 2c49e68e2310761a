"""How technicians are shown: their name, their chat mention, or "a teammate" once opted out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.chat.views import Person
from storage import people, repo
from storage.db import session_scope

TEAMMATE = "a teammate"


@dataclass(frozen=True)
class Directory:
    names: dict[str, str]
    mentions: dict[str, str]
    opted_out: frozenset[str]

    def person(self, key: str, *, viewer: str | None = None) -> Person:
        """``viewer`` sees themself by name even when opted out (their own /mystats)."""
        if key in self.opted_out and key != viewer:
            return Person(key=key, display=TEAMMATE, mention=None)
        return Person(key=key, display=self.names.get(key, key), mention=self.mentions.get(key))

    def people(self, keys: list[str] | set[str] | frozenset[str]) -> dict[str, Person]:
        return {key: self.person(key) for key in keys}


def people_directory(engine: Engine, *, platform: str) -> Directory:
    with session_scope(engine) as session:
        members = repo.list_members(session)
        opted_out = people.opted_out(session)
        users = people.chat_users(session, platform=platform)
    mentions = {m.key: users[m.key] for m in members if users.get(m.key)}
    names = {m.key: m.name or m.identifier for m in members}
    return Directory(names=names, mentions=mentions, opted_out=opted_out)


def opted_out(engine: Engine, *, member_key: str) -> bool:
    """Whether the technician opted out of being named and DMed: no DM goes to them."""
    with session_scope(engine) as session:
        return member_key in people.opted_out(session)

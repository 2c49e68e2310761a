"""Technicians ↔ chat users: the storage steps every chat adapter shares.

Each adapter asks its platform who a user is (Slack's ``users.info``, a Teams roster) and
keeps those calls; what it then stores or reads back runs here, once for every platform,
over ``storage.people`` (``platform`` is ``"slack"`` or ``"teams"``). A match by email is
stored with source ``"email"``, which never replaces an admin's ``/deskboard link``: each
store reads back what now holds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from metrics.records import Member
from storage import people, repo
from storage.db import session_scope


def casefold(text: str | None) -> str | None:
    """An address or name as compared: stripped and casefolded; None when blank."""
    return text.strip().casefold() if text and text.strip() else None


@dataclass(frozen=True, slots=True)
class StoredChatUser:
    """What is stored of a technician's chat user: the id (None: looked up, no match),
    when it was last looked up or linked, and whether an admin linked it."""

    user_id: str | None
    checked_at: datetime | None
    linked: bool


def members(engine: Engine) -> list[Member]:
    """Every technician, as last synced from the PSA."""
    with session_scope(engine) as session:
        return repo.list_members(session)


def member(engine: Engine, key: str) -> Member | None:
    """The technician with member key ``key``, or None."""
    return next((m for m in members(engine) if m.key == key), None)


def stored_chat_user(engine: Engine, *, platform: str, member_key: str) -> StoredChatUser:
    """The technician's chat user on ``platform`` as stored (one transaction)."""
    with session_scope(engine) as session:
        user_id = people.chat_user(session, platform=platform, member_key=member_key)
        checked = people.chat_user_checked_at(session, platform=platform, member_key=member_key)
        linked = people.chat_user_linked(session, platform=platform, member_key=member_key)
    return StoredChatUser(user_id=user_id, checked_at=checked, linked=linked)


def chat_user(engine: Engine, *, platform: str, member_key: str) -> str | None:
    """The technician's user id on ``platform``, when matched or linked."""
    with session_scope(engine) as session:
        return people.chat_user(session, platform=platform, member_key=member_key)


def member_for_chat_user(engine: Engine, *, platform: str, user_id: str) -> str | None:
    """The member key of the technician this chat user is, as stored (linked or matched)."""
    with session_scope(engine) as session:
        return people.member_for_chat_user(session, platform=platform, user_id=user_id)


def record_lookup(
    engine: Engine, *, platform: str, member_key: str, user_id: str | None, at: datetime
) -> str | None:
    """Store what an email lookup of the technician found (None: nobody, as of ``at``);
    returns the user id that now holds (an admin's link stays)."""
    with session_scope(engine) as session:
        people.set_chat_user(
            session,
            platform=platform,
            member_key=member_key,
            user_id=user_id,
            source="email",
            at=at,
        )
        return people.chat_user(session, platform=platform, member_key=member_key)


def match_by_email(
    engine: Engine,
    *,
    platform: str,
    user_id: str,
    addresses: Collection[str],
    clock: Callable[[], datetime],
    among: list[Member] | None = None,
) -> str | None:
    """The technician whose email is one of the chat user's ``addresses`` (casefolded),
    stored for next time; None for nobody or an ambiguous email (an admin can
    ``/deskboard link``). Returns the member key that now holds for ``user_id``.

    ``among`` is the technicians to match against (read once for a whole roster); by
    default they are read now.
    """
    if not addresses:
        return None
    candidates = members(engine) if among is None else among
    matches = [m for m in candidates if m.key and casefold(m.email) in addresses]
    if len(matches) != 1:
        return None
    with session_scope(engine) as session:
        people.set_chat_user(
            session,
            platform=platform,
            member_key=matches[0].key,
            user_id=user_id,
            source="email",
            at=clock(),
        )
        return people.member_for_chat_user(session, platform=platform, user_id=user_id)


def remember_teams_accounts(
    engine: Engine, accounts: Iterable[tuple[str, str]], *, at: datetime
) -> None:
    """Keep each ``(Entra object id, Teams user id)`` pair the bot was told (one transaction)."""
    with session_scope(engine) as session:
        for aad_object_id, user_id in accounts:
            people.remember_teams_account(
                session, aad_object_id=aad_object_id, user_id=user_id, at=at
            )


def member_for_entra_user(
    engine: Engine, *, aad_object_id: str, addresses: Collection[str]
) -> str | None:
    """The technician a Microsoft Entra user is (the Teams personal tab's sign-in): the one
    their Teams user is stored as (linked or matched), else the one technician whose email
    is among ``addresses`` (casefolded), the same rule the bot matches rosters by."""
    with session_scope(engine) as session:
        user_id = people.teams_user_of(session, aad_object_id=aad_object_id)
        if user_id is not None:
            key = people.member_for_chat_user(session, platform="teams", user_id=user_id)
            if key is not None:
                return key
    matches = [m.key for m in members(engine) if m.key and casefold(m.email) in addresses]
    return matches[0] if len(matches) == 1 else None

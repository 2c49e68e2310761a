"""Technicians as chat users: who they are on each platform, and who opted out.

A member's chat user id is found by email (``users.lookupByEmail`` on Slack) or set by an
admin (``/deskboard link``). A lookup that found nobody is stored too, as user id None with
the time it was made, so the caller can wait before asking the platform again. An admin's
link is never replaced by an email lookup, only by another link.

Member keys are ``metrics.records.member_key`` values, as in the tickets table. Nothing here
commits: the caller's ``storage.db.session_scope`` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import case, select, true
from sqlmodel import Session

from storage.bulk import dialect_insert
from storage.tables import CHAT_USERS, MEMBER_PREFS, TEAMS_ACCOUNTS

ChatUserSource = Literal["email", "link"]
CHAT_USER_SOURCES: tuple[str, ...] = get_args(ChatUserSource)

_C = CHAT_USERS.c
_P = MEMBER_PREFS.c


def chat_user(session: Session, *, platform: str, member_key: str) -> str | None:
    """The member's user id on ``platform`` (e.g. "slack" → "U123"), or None if not known."""
    query = select(_C.user_id).where(_C.platform == platform, _C.member_key == member_key)
    return session.execute(query).scalar_one_or_none()


def chat_users(session: Session, *, platform: str) -> dict[str, str]:
    """Every member's known user id on ``platform``, by member key (one query for all)."""
    query = select(_C.member_key, _C.user_id).where(
        _C.platform == platform, _C.user_id.is_not(None)
    )
    return {str(key): str(user_id) for key, user_id in session.execute(query)}


def set_chat_user(
    session: Session,
    *,
    platform: str,
    member_key: str,
    user_id: str | None,
    source: ChatUserSource,
    at: datetime,
) -> None:
    """Record the member's user id on ``platform`` (None: looked up at ``at``, no match).

    A stored "link" stays when ``source`` is "email": the admin's word beats the lookup,
    which leaves the row, its ``checked_at`` included, as it was.
    """
    if source not in CHAT_USER_SOURCES:
        raise ValueError(f"source must be one of {CHAT_USER_SOURCES}, got {source!r}")
    statement = dialect_insert(session, CHAT_USERS)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "member_key"],
        set_={
            "user_id": statement.excluded.user_id,
            "source": statement.excluded.source,
            "checked_at": statement.excluded.checked_at,
        },
        where=(_C.source != "link") | (statement.excluded.source == "link"),
    )
    row = {
        "platform": platform,
        "member_key": member_key,
        "user_id": user_id,
        "source": source,
        "checked_at": at,
    }
    session.execute(statement, row)


def chat_user_checked_at(session: Session, *, platform: str, member_key: str) -> datetime | None:
    """When the member's user id was last looked up or linked; None if never."""
    query = select(_C.checked_at).where(_C.platform == platform, _C.member_key == member_key)
    return session.execute(query).scalar_one_or_none()


def chat_user_linked(session: Session, *, platform: str, member_key: str) -> bool:
    """Whether an admin linked the member on ``platform``: such a mapping never goes stale."""
    query = select(_C.source).where(_C.platform == platform, _C.member_key == member_key)
    return session.execute(query).scalar_one_or_none() == "link"


def member_for_chat_user(session: Session, *, platform: str, user_id: str) -> str | None:
    """The member key of a chat user, e.g. the technician who ran a command.

    Should two members hold the same user id (two email lookups that found one person, or a
    link made after a lookup), a link wins, then the latest check, then the smaller key.
    """
    query = (
        select(_C.member_key)
        .where(_C.platform == platform, _C.user_id == user_id)
        .order_by(case((_C.source == "link", 0), else_=1), _C.checked_at.desc(), _C.member_key)
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def set_opt_out(session: Session, *, member_key: str, opted_out: bool, at: datetime) -> None:
    """Opt the member out of being named and DMed (or back in, ``opted_out=False``)."""
    statement = dialect_insert(session, MEMBER_PREFS)
    statement = statement.on_conflict_do_update(
        index_elements=["member_key"],
        set_={
            "opted_out": statement.excluded.opted_out,
            "updated_at": statement.excluded.updated_at,
        },
    )
    session.execute(statement, {"member_key": member_key, "opted_out": opted_out, "updated_at": at})


def opted_out(session: Session) -> frozenset[str]:
    """The keys of every member who opted out."""
    query = select(_P.member_key).where(_P.opted_out == true())
    return frozenset(session.execute(query).scalars())


def remember_teams_account(
    session: Session, *, aad_object_id: str, user_id: str, at: datetime
) -> None:
    """Record that the Entra object id ``aad_object_id`` is the Teams user ``user_id``."""
    statement = dialect_insert(session, TEAMS_ACCOUNTS)
    statement = statement.on_conflict_do_update(
        index_elements=["aad_object_id"],
        set_={"user_id": statement.excluded.user_id, "seen_at": statement.excluded.seen_at},
    )
    session.execute(statement, {"aad_object_id": aad_object_id, "user_id": user_id, "seen_at": at})


def teams_user_of(session: Session, *, aad_object_id: str) -> str | None:
    """The Teams user id (``29:...``) of an Entra object id, when the bot has seen them."""
    query = select(TEAMS_ACCOUNTS.c.user_id).where(TEAMS_ACCOUNTS.c.aad_object_id == aad_object_id)
    return session.execute(query).scalar_one_or_none()

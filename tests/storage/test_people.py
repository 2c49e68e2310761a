"""Technicians as chat users (email lookups, admin links, reverse lookups) and opt-outs."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from storage import people
from storage.db import session_scope
from tests.storage.helpers import nov


def set_user(
    engine: Engine,
    member_key: str,
    user_id: str | None,
    *,
    source: people.ChatUserSource = "email",
    at: datetime,
    platform: str = "slack",
) -> None:
    with session_scope(engine) as session:
        people.set_chat_user(
            session,
            platform=platform,
            member_key=member_key,
            user_id=user_id,
            source=source,
            at=at,
        )


def lookup(engine: Engine, member_key: str, platform: str = "slack") -> tuple[object, ...]:
    """(user id, checked at) of the member."""
    with session_scope(engine) as session:
        return (
            people.chat_user(session, platform=platform, member_key=member_key),
            people.chat_user_checked_at(session, platform=platform, member_key=member_key),
        )


def member_of(engine: Engine, user_id: str, platform: str = "slack") -> str | None:
    with session_scope(engine) as session:
        return people.member_for_chat_user(session, platform=platform, user_id=user_id)


def test_an_unknown_member_has_no_user_and_was_never_checked(engine: Engine):
    assert lookup(engine, "jsmith") == (None, None)
    assert member_of(engine, "U1") is None


def test_an_email_match_is_stored_and_found_both_ways(engine: Engine):
    set_user(engine, "jsmith", "U1", at=nov(2, 9))
    assert lookup(engine, "jsmith") == ("U1", nov(2, 9))
    assert member_of(engine, "U1") == "jsmith"


def test_a_lookup_without_a_match_is_remembered_with_its_time(engine: Engine):
    set_user(engine, "zlee", None, at=nov(2, 9))
    # No user, but checked: the caller waits before asking the platform again.
    assert lookup(engine, "zlee") == (None, nov(2, 9))
    # A later lookup that finds the user replaces it.
    set_user(engine, "zlee", "U7", at=nov(3, 9))
    assert lookup(engine, "zlee") == ("U7", nov(3, 9))


def test_a_new_email_lookup_replaces_an_older_one(engine: Engine):
    set_user(engine, "jsmith", "U1", at=nov(2, 9))
    set_user(engine, "jsmith", "U2", at=nov(3, 9))  # the email now belongs to another user
    assert lookup(engine, "jsmith") == ("U2", nov(3, 9))
    assert member_of(engine, "U1") is None
    assert member_of(engine, "U2") == "jsmith"


def test_an_admin_link_is_never_overwritten_by_an_email_lookup(engine: Engine):
    set_user(engine, "jsmith", "U1", at=nov(2, 9))
    set_user(engine, "jsmith", "U9", source="link", at=nov(2, 10))  # the link wins over email
    assert lookup(engine, "jsmith") == ("U9", nov(2, 10))

    set_user(engine, "jsmith", "U1", at=nov(3, 9))  # a later lookup finds the email's user
    set_user(engine, "jsmith", None, at=nov(4, 9))  # ... or nobody
    assert lookup(engine, "jsmith") == ("U9", nov(2, 10))  # link and its time untouched

    set_user(engine, "jsmith", "U8", source="link", at=nov(5, 9))  # another link replaces it
    assert lookup(engine, "jsmith") == ("U8", nov(5, 9))


def test_platforms_are_kept_apart(engine: Engine):
    set_user(engine, "jsmith", "U1", at=nov(2))
    set_user(engine, "jsmith", "29:teams-id", platform="teams", at=nov(3))
    assert lookup(engine, "jsmith") == ("U1", nov(2))
    assert lookup(engine, "jsmith", platform="teams") == ("29:teams-id", nov(3))
    assert member_of(engine, "U1", platform="teams") is None


def test_a_user_held_by_two_members_belongs_to_the_linked_one_then_the_latest(engine: Engine):
    # One person found by the emails of two technician accounts.
    set_user(engine, "jsmith", "U1", at=nov(3))
    set_user(engine, "jsmith2", "U1", at=nov(2))
    assert member_of(engine, "U1") == "jsmith"  # the latest lookup
    set_user(engine, "jsmith2", "U1", source="link", at=nov(1))
    assert member_of(engine, "U1") == "jsmith2"  # an admin's link, however old


def linked(engine: Engine, member_key: str, platform: str = "slack") -> bool:
    with session_scope(engine) as session:
        return people.chat_user_linked(session, platform=platform, member_key=member_key)


def test_only_an_admin_link_counts_as_linked(engine: Engine):
    assert linked(engine, "jsmith") is False  # nothing stored
    set_user(engine, "jsmith", "U1", at=nov(2, 9))
    assert linked(engine, "jsmith") is False  # an email lookup
    set_user(engine, "jsmith", "U9", source="link", at=nov(2, 10))
    assert linked(engine, "jsmith") is True
    assert linked(engine, "jsmith", platform="teams") is False  # per platform
    set_user(engine, "jsmith", None, at=nov(3, 9))  # a later lookup keeps the link
    assert linked(engine, "jsmith") is True


def test_unknown_sources_are_refused(engine: Engine):
    with pytest.raises(ValueError, match="source"):
        set_user(engine, "jsmith", "U1", source="guess", at=nov(2))  # type: ignore[arg-type]
    assert lookup(engine, "jsmith") == (None, None)


def opted_out(engine: Engine) -> frozenset[str]:
    with session_scope(engine) as session:
        return people.opted_out(session)


def set_opt_out(engine: Engine, member_key: str, value: bool, at: datetime) -> None:
    with session_scope(engine) as session:
        people.set_opt_out(session, member_key=member_key, opted_out=value, at=at)


def test_members_opt_out_and_back_in(engine: Engine):
    assert opted_out(engine) == frozenset()
    set_opt_out(engine, "jsmith", True, nov(2))
    set_opt_out(engine, "zlee", True, nov(2))
    set_opt_out(engine, "zlee", True, nov(3))  # again: no change
    assert opted_out(engine) == {"jsmith", "zlee"}
    set_opt_out(engine, "jsmith", False, nov(4))
    assert opted_out(engine) == {"zlee"}
    set_opt_out(engine, "amy", False, nov(4))  # opting in without having opted out
    assert opted_out(engine) == {"zlee"}

"""The storage steps Slack and Teams share (bot.core.identity, bot.core.people,
bot.core.conversations): one path for every platform."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bot.core import conversations, identity
from bot.core.people import opted_out
from metrics.records import Member
from storage import people, repo
from storage.db import create_engine_for, session_scope

AT = datetime(2025, 11, 3, 9, tzinfo=UTC)
LATER = datetime(2025, 11, 4, 9, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    with session_scope(engine) as session:
        repo.upsert_members(
            session,
            members=[
                Member(1, "jsmith", "Jane Smith", email="Jane.Smith@example.com"),
                Member(2, "bjones", "Bob Jones", email="bob@example.com"),
                Member(3, "bjones2", "Bob Jones (2)", email="BOB@example.com"),
            ],
        )
    yield engine
    engine.dispose()


def link(engine: Engine, member_key: str, user_id: str, *, platform: str = "slack") -> None:
    with session_scope(engine) as session:
        people.set_chat_user(
            session,
            platform=platform,
            member_key=member_key,
            user_id=user_id,
            source="link",
            at=AT,
        )


def test_a_unique_email_match_is_stored_for_the_platform(engine: Engine):
    clock_calls: list[datetime] = []

    def clock() -> datetime:
        clock_calls.append(AT)
        return AT

    found = identity.match_by_email(
        engine,
        platform="teams",
        user_id="29:jane",
        addresses=frozenset({"jane.smith@example.com"}),
        clock=clock,
    )
    assert found == "jsmith"
    assert clock_calls == [AT]
    assert identity.member_for_chat_user(engine, platform="teams", user_id="29:jane") == "jsmith"
    assert identity.chat_user(engine, platform="teams", member_key="jsmith") == "29:jane"
    assert identity.chat_user(engine, platform="slack", member_key="jsmith") is None
    stored = identity.stored_chat_user(engine, platform="teams", member_key="jsmith")
    assert stored == identity.StoredChatUser(user_id="29:jane", checked_at=AT, linked=False)


def test_no_or_an_ambiguous_email_stores_nothing(engine: Engine):
    def clock() -> datetime:
        raise AssertionError("nothing is stored, so the clock is not read")

    for addresses in (
        frozenset(),
        frozenset({"nobody@example.com"}),
        frozenset({"bob@example.com"}),
    ):
        assert (
            identity.match_by_email(
                engine, platform="slack", user_id="U2", addresses=addresses, clock=clock
            )
            is None
        )
    assert identity.member_for_chat_user(engine, platform="slack", user_id="U2") is None


def test_a_match_against_given_members_reads_no_others(engine: Engine):
    only_bob = [Member(2, "bjones", "Bob Jones", email="bob@example.com")]
    found = identity.match_by_email(
        engine,
        platform="slack",
        user_id="U2",
        addresses=frozenset({"bob@example.com"}),
        clock=lambda: AT,
        among=only_bob,
    )
    assert found == "bjones"  # not ambiguous among the technicians given


def test_an_email_lookup_never_replaces_an_admin_link(engine: Engine):
    link(engine, "jsmith", "U9")
    held = identity.record_lookup(
        engine, platform="slack", member_key="jsmith", user_id="U1", at=LATER
    )
    assert held == "U9"
    stored = identity.stored_chat_user(engine, platform="slack", member_key="jsmith")
    assert stored == identity.StoredChatUser(user_id="U9", checked_at=AT, linked=True)
    # A match by email for another user leaves the link, and reads back who that user is.
    matched = identity.match_by_email(
        engine,
        platform="slack",
        user_id="U1",
        addresses=frozenset({"jane.smith@example.com"}),
        clock=lambda: LATER,
    )
    assert matched is None
    assert identity.member_for_chat_user(engine, platform="slack", user_id="U9") == "jsmith"


def test_a_lookup_without_a_match_is_remembered(engine: Engine):
    held = identity.record_lookup(
        engine, platform="slack", member_key="bjones", user_id=None, at=AT
    )
    assert held is None
    stored = identity.stored_chat_user(engine, platform="slack", member_key="bjones")
    assert stored == identity.StoredChatUser(user_id=None, checked_at=AT, linked=False)


def test_members_are_read_by_key(engine: Engine):
    assert {m.key for m in identity.members(engine)} == {"bjones", "bjones2", "jsmith"}
    found = identity.member(engine, "jsmith")
    assert found is not None
    assert found.email == "Jane.Smith@example.com"
    assert identity.member(engine, "nobody") is None


def test_casefold_compares_addresses_and_drops_blanks():
    assert identity.casefold("  Jane.Smith@Example.COM ") == "jane.smith@example.com"
    assert identity.casefold("   ") is None
    assert identity.casefold(None) is None


def test_opted_out_members_get_no_dm(engine: Engine):
    assert opted_out(engine, member_key="jsmith") is False
    with session_scope(engine) as session:
        people.set_opt_out(session, member_key="jsmith", opted_out=True, at=AT)
    assert opted_out(engine, member_key="jsmith") is True
    assert opted_out(engine, member_key="bjones") is False


def test_conversations_are_remembered_found_and_listed(engine: Engine):
    conversations.remember_conversation(
        engine,
        platform="teams",
        conversation_id="19:general@thread.tacv2",
        kind="channel",
        service_url="https://smba.example/",
        at=AT,
        name="General",
        team_name="Support",
    )
    conversations.remember_conversation(
        engine,
        platform="teams",
        conversation_id="a:personal",
        kind="personal",
        service_url="https://smba.example/",
        at=AT,
        user_id="29:jane",
    )
    found = conversations.find_conversation(engine, platform="teams", target="support/general")
    assert found is not None
    assert found.conversation_id == "19:general@thread.tacv2"
    assert found.label == "Support/General"
    assert conversations.find_conversation(engine, platform="slack", target="General") is None
    chat = conversations.personal_conversation(engine, platform="teams", user_id="29:jane")
    assert chat is not None
    assert chat.conversation_id == "a:personal"
    assert conversations.personal_conversation(engine, platform="teams", user_id="29:bob") is None
    known = conversations.known_conversations(engine, platform="teams")
    assert {c.conversation_id for c in known} == {"19:general@thread.tacv2", "a:personal"}

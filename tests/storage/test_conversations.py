"""Conversations kept for proactive posts: found by id, "Team/Channel", channel or user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import conversations
from storage.db import session_scope

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
URL = "https://smba.example/teams/"


def test_channels_are_found_by_id_team_and_channel_or_channel_name(engine):
    with session_scope(engine) as session:
        _channels_found(session)


def _channels_found(session):
    conversations.save_conversation(
        session, platform="teams", conversation_id="19:general@thread.tacv2", kind="channel",
        service_url=URL, at=AT, name="General", team_name="Service Desk",
    )  # fmt: skip
    conversations.save_conversation(
        session, platform="teams", conversation_id="19:wins@thread.tacv2", kind="channel",
        service_url=URL, at=AT, name="Wins", team_name="Service Desk",
    )  # fmt: skip
    by_id = conversations.find_conversation(
        session, platform="teams", target="19:wins@thread.tacv2"
    )
    assert by_id is not None
    assert by_id.label == "Service Desk/Wins"
    both = conversations.find_conversation(session, platform="teams", target="service desk/general")
    assert both is not None
    assert both.conversation_id == "19:general@thread.tacv2"
    named = conversations.find_conversation(session, platform="teams", target="#Wins")
    assert named is not None
    assert named.conversation_id == "19:wins@thread.tacv2"
    assert conversations.find_conversation(session, platform="teams", target="Nope") is None
    assert conversations.find_conversation(session, platform="slack", target="Wins") is None


def test_a_personal_chat_is_found_by_user_and_refreshed_on_save(engine):
    with session_scope(engine) as session:
        _personal_found(session)


def _personal_found(session):
    for i, url in enumerate((URL, "https://smba.example/emea/")):
        conversations.save_conversation(
            session, platform="teams", conversation_id="a:1chat", kind="personal",
            service_url=url, at=AT + timedelta(minutes=i), user_id="29:jane",
        )  # fmt: skip
    chat = conversations.personal_conversation(session, platform="teams", user_id="29:jane")
    assert chat is not None
    assert chat.service_url == "https://smba.example/emea/"  # the newest wins
    assert len(conversations.list_conversations(session, platform="teams")) == 1

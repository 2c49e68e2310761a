"""The tracking middleware called as a plain function: a ``TeamsDeps``, an activity, and a
fake Teams API that hands out one roster entry; no app, no connector."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from microsoft_teams.api import TeamsChannelAccount

from bot.core.conversations import find_conversation, personal_conversation
from bot.teams.deps import TeamsDeps
from bot.teams.listeners.tracking import bot_added, bot_removed, tracker
from tests.bot.teams.conftest import BLESSING, BOT, TENANT

SERVICE_URL = "https://smba.example/teams/"


class Roster:
    """``api.conversations.get_member_by_id`` over a few roster entries, counting calls."""

    def __init__(self, *accounts: TeamsChannelAccount) -> None:
        self.accounts = {a.id: a for a in accounts}
        self.asked: list[tuple[str, str]] = []

    async def get_member_by_id(self, conversation_id: str, user_id: str) -> TeamsChannelAccount:
        self.asked.append((conversation_id, user_id))
        return self.accounts[user_id]


class Context:
    """What ``track`` reads of an ``ActivityContext``: the activity, the API, ``next``."""

    def __init__(self, raw: dict[str, Any], roster: Roster) -> None:
        self.activity = SimpleNamespace(model_dump=lambda **_: raw)
        self.api = SimpleNamespace(conversations=roster)
        self.passed_on = 0

    async def next(self) -> None:
        self.passed_on += 1


def personal_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "serviceUrl": SERVICE_URL,
        "conversation": {
            "id": "a:personal-blessing",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
        "from": {"id": BLESSING.id, "name": BLESSING.name},
        "recipient": dict(BOT),
        "text": text,
    }


def test_a_personal_message_remembers_the_chat_and_matches_the_sender(deps: TeamsDeps):
    roster = Roster(TeamsChannelAccount(id=BLESSING.id, name=BLESSING.name, email=BLESSING.email))
    ctx = Context(personal_message("mystats"), roster)
    asyncio.run(tracker(deps)(ctx))

    assert ctx.passed_on == 1  # the answer goes on
    chat = personal_conversation(deps.engine, platform="teams", user_id=BLESSING.id)
    assert chat is not None
    assert chat.conversation_id == "a:personal-blessing"
    assert chat.service_url == SERVICE_URL
    assert chat.tenant_id == TENANT
    assert roster.asked == [("a:personal-blessing", BLESSING.id)]
    assert deps.identity().member_for_user(BLESSING.id) == "bokafor"
    assert deps.identity().user_for_member("bokafor") == BLESSING.id

    # Once matched, her roster entry is not read again.
    asyncio.run(tracker(deps)(Context(personal_message("help"), roster)))
    assert len(roster.asked) == 1


def test_an_activity_without_a_service_url_is_passed_on_unremembered(deps: TeamsDeps):
    raw = personal_message("mystats")
    del raw["serviceUrl"]
    roster = Roster()
    ctx = Context(raw, roster)
    asyncio.run(tracker(deps)(ctx))
    assert ctx.passed_on == 1
    assert find_conversation(deps.engine, platform="teams", target="a:personal-blessing") is None
    assert roster.asked == []


def test_the_bot_being_added_or_removed_is_told_apart():
    added = {"type": "conversationUpdate", "membersAdded": [BOT], "recipient": dict(BOT)}
    removed = {"type": "conversationUpdate", "membersRemoved": [BOT], "recipient": dict(BOT)}
    assert bot_added(added)
    assert not bot_removed(added)
    assert bot_removed(removed)
    assert bot_added({"type": "installationUpdate", "action": "add", "recipient": dict(BOT)})
    assert bot_removed({"type": "installationUpdate", "action": "remove-upgrade"})

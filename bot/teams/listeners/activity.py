"""What every listener reads from an activity, and how it answers.

Listeners work on the activity as JSON (``raw``: Bot Framework's camelCase keys), which is
what Teams documents; the SDK's models are only the way in. Answers are Adaptive Cards
(``bot.teams.cards``); an ``adaptiveCard/action`` invoke is answered with an
``InvokeResponse`` carrying a card (which replaces the card clicked) or a short message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.apps import ActivityContext

from bot.chat.message import Message
from bot.core.commands import notice
from bot.teams.cards import message_activity as card_activity
from bot.teams.cards import to_adaptive_card

log = logging.getLogger(__name__)

FAILED = "Sorry, that did not work; the error is in Deskboard's log. Try again in a minute."
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


def raw_activity(ctx: ActivityContext[Any]) -> dict[str, Any]:
    """The activity as Bot Framework JSON (``from``, ``channelData``, ``replyToId``...)."""
    data: dict[str, Any] = ctx.activity.model_dump(by_alias=True, exclude_none=True)
    return data


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's conversation id without ``;messageid=...``: the channel itself."""
    return conversation_id.split(";", 1)[0]


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """A conversation as ``bot.core.conversations`` remembers it."""

    conversation_id: str
    kind: str  # "channel" | "personal" | "groupChat"
    name: str | None
    team_id: str | None
    team_name: str | None
    service_url: str
    tenant_id: str | None
    user_id: str | None  # a personal chat's user


GENERAL = "General"  # Teams leaves the General channel's name out of channelData


def conversation_facts(raw: dict[str, Any]) -> ConversationFacts | None:
    conversation = raw.get("conversation") or {}
    conversation_id = str(conversation.get("id") or "")
    service_url = str(raw.get("serviceUrl") or "")
    if not conversation_id or not service_url:
        return None
    channel_data = raw.get("channelData") or {}
    team = channel_data.get("team") or {}
    channel = channel_data.get("channel") or {}
    kind = str(conversation.get("conversationType") or "")
    if not kind:
        kind = "channel" if team else ("groupChat" if conversation.get("isGroup") else "personal")
    base = base_conversation_id(conversation_id)
    name: str | None = conversation.get("name") or None
    if kind == "channel":
        base = str(channel.get("id") or base)
        name = channel.get("name") or (GENERAL if team.get("id") == base else name)
    tenant = conversation.get("tenantId") or (channel_data.get("tenant") or {}).get("id")
    sender = (raw.get("from") or {}).get("id")
    return ConversationFacts(
        conversation_id=base,
        kind=kind,
        name=name,
        team_id=team.get("id") or None,
        team_name=team.get("name") or None,
        service_url=service_url,
        tenant_id=tenant or None,
        user_id=str(sender) if kind == "personal" and sender else None,
    )


# ---- the command in a message ---------------------------------------------------------------

_HTML_TAGS = re.compile(r"</?(?:p|div|span|br)\b[^>]*>", re.IGNORECASE)
_AT_TAGS = re.compile(r"</?at>", re.IGNORECASE)
_MENTION = re.compile(r"^<@([^<>\s]+)>$")
_USER_ID = re.compile(r"^29:\S+$")


def command_text(raw: dict[str, Any]) -> str:
    """The message's text as a command: the bot's own mention and name removed, other
    mentions as ``<@USER_ID>`` (one word, for ``link @user``), HTML paragraphs dropped."""
    text = str(raw.get("text") or "")
    bot = raw.get("recipient") or {}
    bot_id = str(bot.get("id") or "")
    for entity in raw.get("entities") or []:
        if entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        shown = str(entity.get("text") or "")
        if not shown:
            continue
        user = str(mentioned.get("id") or "")
        is_bot = bool(user) and (user == bot_id or user.split(":", 1)[-1] == bot_id)
        text = text.replace(shown, " " if is_bot or not user else f" <@{user}> ")
    text = _AT_TAGS.sub(" ", _HTML_TAGS.sub(" ", text)).replace("&nbsp;", " ")
    text = " ".join(text.split())
    bot_name = " ".join(str(bot.get("name") or "").split())
    if bot_name and text.casefold().startswith(bot_name.casefold()):
        rest = text[len(bot_name) :]
        if not rest or rest[:1].isspace():
            text = rest.strip()
    return text


COMMANDS = ("leaderboard", "mystats", "deskboard")


def route(text: str) -> tuple[str, str]:
    """``(command, args)`` for ``bot.core.commands.handle``: ``leaderboard week``,
    ``/mystats``, ``deskboard status`` and a bare ``status`` all work; anything else is
    taken as a ``deskboard`` subcommand, which answers with its usage."""
    word, _, rest = text.strip().partition(" ")
    name = word.lstrip("/").casefold()
    if name in COMMANDS:
        return name, rest.strip()
    if not name:
        return "deskboard", "help"
    return "deskboard", " ".join((word.lstrip("/"), rest)).strip()


def teams_user_of(text: str) -> str | None:
    """``<@29:abc>`` (a mention, as ``command_text`` writes it) or ``29:abc`` → ``29:abc``."""
    text = text.strip()
    match = _MENTION.match(text)
    if match is not None:
        return match.group(1)
    return text if _USER_ID.match(text) else None


# ---- answering ------------------------------------------------------------------------------


def card_message(message: Message) -> MessageActivityInput:
    """A bot message carrying ``message`` as an Adaptive Card."""
    activity = card_activity(to_adaptive_card(message), summary=message.text)
    return MessageActivityInput.model_validate(activity)


async def reply(ctx: ActivityContext[Any], message: Message) -> None:
    await ctx.send(card_message(message))


async def reply_text(ctx: ActivityContext[Any], text: str) -> None:
    await reply(ctx, notice(text))


def card_response(card: dict[str, Any]) -> dict[str, Any]:
    """An invoke response replacing the clicked card with ``card``."""
    return {"status": 200, "body": {"statusCode": 200, "type": CARD_RESPONSE, "value": card}}


def text_response(text: str) -> dict[str, Any]:
    """An invoke response showing ``text`` to whoever clicked; the card stays as it is."""
    return {"status": 200, "body": {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}}


class Background:
    """Work that goes on after an activity is answered (a sync): the tasks are kept until
    they end, so that the event loop does not drop them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Teams background work %s failed", task.get_name(), exc_info=task.exception())

    async def wait(self) -> None:
        """Until every task started so far has ended (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

"""``TeamsMessenger``: the outbox's way into Teams (``bot.chat.messenger.Messenger``).

- ``post`` sends a message as an Adaptive Card to a conversation the bot was installed in or
  messaged from (``bot.core.conversations``: "Team/Channel", a channel name, or a conversation
  id), with the chart when one comes with it: made small (``bot.chat.chart.compact_png``, at most
  ``CHART_BUDGET`` bytes) and inlined as a ``data:`` URL when the card has room for it (else
  the card goes without; Teams cards cannot carry uploaded files).
- An unknown target raises ``ConversationUnknown``, an ordinary error: the outbox retries it
  with backoff (the app may be installed there meanwhile) until it gives up after
  ``bot.core.delivery.MAX_ATTEMPTS``; the error names the conversations that are known.
- ``dm`` posts in the technician's personal chat with the bot; None (the outbox retries
  later) when they have no Teams user yet, opted out, or never opened a chat with the bot:
  a bot can only message people who installed it or wrote to it.
- ``update`` rewrites a posted message from its reference ``"CONVERSATION_ID:ACTIVITY_ID"``.

Build it with the ``App`` (``TeamsMessenger(app, ...)``), or with None before the app exists
(``TeamsDeps`` hold the messenger): ``build_teams_app`` then binds it to the app it builds.

The Teams SDK is asynchronous and the outbox is not: the messenger owns one event loop on a
background thread, started at first use, on which every send runs (``close()`` stops it).
Teams allows a bot 7 messages per second per conversation: posts to one conversation are
spaced at least 1/7 s apart (``sleep`` and ``monotonic`` are injectable for tests).

Errors: 429, 412, 502, 504 (and any other failure) raise ``TeamsSendFailed`` or the
network's error, which the outbox retries with backoff; 400, 403, 404 and 413 (a malformed
or too large card, a conversation the bot was removed from) raise ``DeliveryRefused``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.apps import App
from sqlalchemy import Engine

from bot.chat.chart import compact_png
from bot.chat.message import Message
from bot.chat.messenger import DeliveryFailed, DeliveryRefused
from bot.chat.pacing import ChannelPacer
from bot.core.conversations import (
    Conversation,
    find_conversation,
    known_conversations,
    personal_conversation,
)
from bot.core.people import opted_out
from bot.teams.cards import CardTooLarge, message_activity, to_adaptive_card
from bot.teams.identity import PLATFORM, TeamsIdentity

log = logging.getLogger(__name__)

T = TypeVar("T")

MESSAGES_PER_SECOND = 7
SEND_TIMEOUT = 60.0  # seconds one send may take, token included
REFUSED_STATUSES = frozenset({400, 403, 404, 413})
"""Connector answers the same request will always get again: retrying cannot help."""
MAX_LABELS_LISTED = 20
CHART_BUDGET = 16_000  # bytes of PNG: base64 in the card, beside the standings' text


class ConversationUnknown(LookupError):
    """No stored conversation matches a post's target (the bot is not installed there)."""


class TeamsSendFailed(DeliveryFailed):
    """The Bot Connector refused a send for now (throttled, busy); the outbox retries."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TeamsMessenger:
    platform = PLATFORM

    def __init__(
        self,
        app: App | None,
        *,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        per_second: int = MESSAGES_PER_SECOND,
        timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.app = app
        self.engine = engine
        self.identity = TeamsIdentity(engine=engine, clock=clock)
        self.pacer = ChannelPacer(interval=1.0 / per_second, sleep=sleep, monotonic=monotonic)
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    def bind(self, app: App) -> None:
        """Send through ``app`` (``build_teams_app`` binds a messenger built with None, which
        its ``TeamsDeps`` need before the app exists)."""
        if self.app is not None and self.app is not app:
            raise RuntimeError("this Teams messenger already sends through another app")
        self.app = app

    # ---- the Messenger protocol ----------------------------------------------------------

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        *,
        key: str | None = None,
    ) -> str:
        conversation = self._find(channel)
        image = compact_png(attachment, budget=CHART_BUDGET) if attachment else None
        return self._send(conversation, message, image=image)

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        if not safety and opted_out(self.engine, member_key=member_key):
            return None
        user_id = self.identity.user_for_member(member_key)
        if user_id is None:
            return None
        chat = personal_conversation(self.engine, platform=PLATFORM, user_id=user_id)
        if chat is None:
            return None
        return self._send(chat, message)

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        """A reply in the thread of the channel message ``ref``: Teams threads a message sent
        to ``CONVERSATION;messageid=ACTIVITY``."""
        conversation, activity_id = self._split(ref)
        thread = replace(
            conversation,
            conversation_id=f"{conversation.conversation_id};messageid={activity_id}",
        )
        return self._send(thread, message)

    def update(self, ref: str, message: Message) -> None:
        conversation, activity_id = self._split(ref)
        activity = self._activity(message)
        activity.id = activity_id
        self._deliver(conversation, activity, what=f"update of {ref}")

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        """Always None: a bot cannot read a conversation's messages back through the Bot
        Connector, so a send cut off between the connector's accept and the outbox's commit
        is sent again (at-least-once; see README, "Faults and recovery")."""
        return None

    def close(self) -> None:
        """Stop the send loop, at shutdown: the messenger sends nothing afterwards (the
        SDK's HTTP connections belong to that loop)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._closed = True
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=self.timeout)
        loop.close()

    # ---- helpers -------------------------------------------------------------------------

    def _find(self, target: str) -> Conversation:
        found = find_conversation(self.engine, platform=PLATFORM, target=target)
        if found is not None:
            return found
        known = known_conversations(self.engine, platform=PLATFORM)
        labels = sorted({c.label for c in known if c.kind != "personal"})[:MAX_LABELS_LISTED]
        raise ConversationUnknown(
            f"Teams: no conversation “{target}” is known; add the Deskboard app to that team "
            f"or chat (or message it there). Known: {', '.join(labels) or 'none yet'}"
        )

    def _split(self, ref: str) -> tuple[Conversation, str]:
        """``"CONVERSATION_ID:ACTIVITY_ID"``; conversation ids hold colons themselves."""
        known = known_conversations(self.engine, platform=PLATFORM)
        for conversation in sorted(known, key=lambda c: -len(c.conversation_id)):
            prefix = conversation.conversation_id + ":"
            if ref.startswith(prefix) and len(ref) > len(prefix):
                return conversation, ref[len(prefix) :]
        raise ValueError(f"not a reference to a Teams message in a known conversation: {ref!r}")

    def _activity(self, message: Message, image: bytes | None = None) -> MessageActivityInput:
        try:
            card = to_adaptive_card(message, image=image)
        except CardTooLarge as exc:
            raise DeliveryRefused(f"Teams card too large: {exc}") from exc
        activity = message_activity(card, summary=message.text)
        return MessageActivityInput.model_validate(activity)

    def _send(
        self, conversation: Conversation, message: Message, *, image: bytes | None = None
    ) -> str:
        activity = self._activity(message, image)
        sent = self._deliver(conversation, activity, what=f"post to {conversation.label}")
        return f"{conversation.conversation_id}:{sent}"

    def _deliver(
        self, conversation: Conversation, activity: MessageActivityInput, *, what: str
    ) -> str:
        if self.app is None:
            raise RuntimeError("the Teams messenger has no app: build_teams_app binds it")
        self.pacer.wait(conversation.conversation_id)
        try:
            sent = self._run(
                self.app.send(
                    conversation.conversation_id,
                    activity,
                    service_url=conversation.service_url,
                )
            )
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            detail = f"Teams {what}: HTTP {status} {exc.response.text[:300]}"
            if status in REFUSED_STATUSES:
                raise DeliveryRefused(detail) from exc
            raise TeamsSendFailed(detail, status=status) from exc
        return str(sent.id)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._event_loop())
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"Teams did not answer within {self.timeout:.0f} s") from None

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Teams messenger is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="teams-messenger", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

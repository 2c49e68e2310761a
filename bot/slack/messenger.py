"""``SlackMessenger``: the outbox's way into Slack (``bot.messenger.Messenger``).

- ``post`` sends a message to a channel (an id, or ``#name``) and, when a chart comes with
  it, uploads the image after it with ``files_upload_v2``. A failed upload is logged, not
  raised: the message is out, and retrying the whole item would post it twice.
- ``dm`` finds the technician's Slack user (``bot.slack.identity``) and opens a DM; it
  returns None when they have no Slack user or opted out, and the outbox retries later.
- ``update`` rewrites a posted message from its reference ``"CHANNEL:TS"``.

Slack takes about one message per second per channel, so posts to one channel are spaced
at least ``min_interval`` apart (``sleep`` and ``monotonic`` are injectable for tests); the
client's ``RateLimitErrorRetryHandler`` handles the 429s that happen anyway. Errors that
no retry can fix (malformed blocks, an archived channel) raise ``DeliveryRefused``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.chat import Message
from bot.messenger import DeliveryRefused
from bot.slack.blocks import cut, to_slack
from bot.slack.identity import SlackIdentity
from storage import people
from storage.db import session_scope

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "too_many_attachments",
    }
)
"""Slack errors that the same request will always get again: retrying cannot help."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ChannelPacer:
    """At most one post per ``interval`` seconds to each channel."""

    def __init__(
        self,
        *,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.sleep = sleep
        self.monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Return when a post to ``channel`` may go; the slot is reserved before sleeping,
        so concurrent posters queue up a second apart and other channels never wait."""
        with self._lock:
            now = self.monotonic()
            last = self._last.get(channel)
            slot = now if last is None else max(now, last + self.interval)
            self._last[channel] = slot
        if slot > now:
            self.sleep(slot - now)

    def note(self, channel: str) -> None:
        """Record a post made under another name of the channel (its id for a ``#name``)."""
        with self._lock:
            self._last[channel] = self.monotonic()


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") if exc.response is not None else "unknown")


class SlackMessenger:
    platform = "slack"

    def __init__(
        self,
        client: WebClient,
        *,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        identity: SlackIdentity | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        min_interval: float = 1.0,
    ) -> None:
        self.client = client
        self.engine = engine
        self.identity = identity or SlackIdentity(client, engine=engine, clock=clock)
        self.pacer = ChannelPacer(interval=min_interval, sleep=sleep, monotonic=monotonic)

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
    ) -> str:
        text, blocks = to_slack(message)
        self.pacer.wait(channel)
        try:
            reply = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            if _error(exc) in PERMANENT_ERRORS:
                raise DeliveryRefused(f"chat.postMessage to {channel}: {_error(exc)}") from exc
            raise
        channel_id, ts = str(reply["channel"]), str(reply["ts"])
        if channel_id != channel:
            self.pacer.note(channel_id)
        if attachment:
            self._upload(channel_id, attachment, attachment_name or "chart.png", message.text)
        return f"{channel_id}:{ts}"

    def dm(self, member_key: str, message: Message) -> str | None:
        with session_scope(self.engine) as session:
            if member_key in people.opted_out(session):
                return None
        user_id = self.identity.user_for_member(member_key)
        if user_id is None:
            return None
        try:
            opened = self.client.conversations_open(users=user_id)
        except SlackApiError as exc:
            if _error(exc) in PERMANENT_ERRORS:
                raise DeliveryRefused(f"conversations.open with {user_id}: {_error(exc)}") from exc
            raise
        return self.post(str(opened["channel"]["id"]), message)

    def update(self, ref: str, message: Message) -> None:
        channel, _, ts = ref.partition(":")
        if not channel or not ts:
            raise ValueError(f"not a Slack message reference (CHANNEL:TS): {ref!r}")
        text, blocks = to_slack(message)
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def _upload(self, channel_id: str, data: bytes, filename: str, title: str) -> None:
        self.pacer.wait(channel_id)
        try:
            self.client.files_upload_v2(
                channel=channel_id, file=data, filename=filename, title=cut(title, 250)
            )
        except SlackApiError as exc:
            log.warning(
                "chart upload to %s failed (%s); posted without it", channel_id, _error(exc)
            )

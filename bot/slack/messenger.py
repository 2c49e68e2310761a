"""``SlackMessenger``: the outbox's way into Slack (``bot.chat.messenger.Messenger``).

- ``post`` sends a message to a channel (an id, or ``#name``) and, when a chart comes with
  it, uploads the image after it with ``files_upload_v2``. A failed upload is logged, not
  raised: the message is out, and retrying the whole item would post it twice.
- ``dm`` finds the technician's Slack user (``bot.slack.identity``) and opens a DM; it
  returns None when they have no Slack user or opted out, and the outbox retries later.
- ``update`` rewrites a posted message from its reference ``"CHANNEL:TS"``.

Slack takes about one message per second per channel, so posts to one channel are spaced
at least ``min_interval`` apart (``sleep`` and ``monotonic`` are injectable for tests); the
client's ``RateLimitErrorRetryHandler`` handles the 429s that happen anyway. Errors that
no retry can fix (malformed blocks, an archived channel) raise ``DeliveryRefused``;
a wrong or revoked token raises ``PlatformUnavailable``; any other refusal Slack answers
(``ok: false``, a 429 that outlasted the retry) raises ``DeliveryFailed``: nothing was posted.
A timeout, a dropped connection or a 5xx is raised as it is: the message may have been posted.

Exactly-once: every message carries the outbox key as message metadata (event type
``deskboard_outbox``); ``find_delivered`` reads the channel's history since a given time
(``conversations.history`` with ``include_all_metadata``) and finds a message by its key.
It needs the ``channels:history``, ``groups:history``, ``im:history`` scopes (and
``channels:read``, ``groups:read`` to turn a ``#name`` into its channel id); without them it
says "not found" and the message is sent again, at-least-once as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NoReturn

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.chat.message import Message
from bot.chat.messenger import DeliveryFailed, DeliveryRefused, PlatformUnavailable
from bot.chat.pacing import ChannelPacer
from bot.core.people import opted_out
from bot.slack.blocks import cut, to_slack
from bot.slack.identity import SlackIdentity

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
"""Slack errors that the same request will always get again: retrying cannot help.
``channel_not_found`` and ``not_in_channel`` are not among them: Slack answers both for a
private channel the bot has not been invited to, which an admin can fix; they are retried
with the outbox's backoff (about an hour in all), then given up, and shown in status."""

AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
"""The token is refused: every message would fail the same way until an admin fixes it."""

UNREADABLE = frozenset({"missing_scope", "not_in_channel", "channel_not_found"})
"""History that cannot be read: ``find_delivered`` then cannot tell, and says not found."""

METADATA_EVENT = "deskboard_outbox"
HISTORY_PAGES = 10  # of 200 messages: how far back a lookup reads at most


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") if exc.response is not None else "unknown")


def _refusal(exc: SlackApiError, what: str) -> Exception:
    """What a Slack error means for the outbox (see the module docstring); ``exc`` itself
    when Slack may have carried the request out. Raise it with ``_raise``."""
    error = _error(exc)
    if error in PERMANENT_ERRORS:
        return DeliveryRefused(f"{what}: {error}")
    if error in AUTH_ERRORS:
        return PlatformUnavailable(f"{what}: {error} (check SLACK_BOT_TOKEN)")
    status = exc.response.status_code if exc.response is not None else None
    if status in (200, 429):
        return DeliveryFailed(f"{what}: {error}" + (" (HTTP 429)" if status == 429 else ""))
    return exc  # a 5xx: Slack may have posted it


def _raise(exc: SlackApiError, what: str) -> NoReturn:
    refusal = _refusal(exc, what)
    if refusal is exc:
        raise exc
    raise refusal from exc


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
        *,
        key: str | None = None,
    ) -> str:
        channel_id, ts = self._post_message(channel, message, key=key, what=f"to {channel}")
        if channel_id != channel:
            self.pacer.note(channel_id)
        if attachment:
            self._upload(channel_id, attachment, attachment_name or "chart.png", message.text)
        return f"{channel_id}:{ts}"

    def _post_message(
        self,
        channel: str,
        message: Message,
        *,
        key: str | None,
        what: str,
        thread_ts: str | None = None,
    ) -> tuple[str, str]:
        """``chat.postMessage`` of ``message`` (in a thread with ``thread_ts``), carrying the
        outbox ``key`` in its metadata; the channel id and ``ts`` Slack answered."""
        text, blocks = to_slack(message)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        self.pacer.wait(channel)
        try:
            sent = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            _raise(exc, f"chat.postMessage {what}")
        return str(sent["channel"]), str(sent["ts"])

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        if not safety and opted_out(self.engine, member_key=member_key):
            return None
        channel = self._dm_channel(member_key)
        return None if channel is None else self.post(channel, message, key=key)

    def _dm_channel(self, member_key: str) -> str | None:
        user_id = self.identity.user_for_member(member_key)
        if user_id is None:
            return None
        try:
            opened = self.client.conversations_open(users=user_id)
        except SlackApiError as exc:
            _raise(exc, f"conversations.open with {user_id}")
        return str(opened["channel"]["id"])

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        try:
            channel = (
                self._dm_channel(target)
                if kind in ("dm", "safety_dm")
                else self._channel_id(target)
            )
            if channel is None:
                return None
            cursor: str | None = None
            for _ in range(HISTORY_PAGES):
                reply = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for found in reply.get("messages") or []:
                    metadata = found.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                        return f"{channel}:{found['ts']}"
                cursor = (reply.get("response_metadata") or {}).get("next_cursor") or None
                if not reply.get("has_more") or cursor is None:
                    return None
        except SlackApiError as exc:
            if _error(exc) in UNREADABLE:
                log.warning("cannot read %s's history (%s): sending again", target, _error(exc))
                return None
            _raise(exc, f"conversations.history of {target}")
        log.warning("%s: no message with key %s in %d pages", target, key, HISTORY_PAGES)
        return None

    def _channel_id(self, target: str) -> str | None:
        """A channel id as given; a ``#name`` looked up (the history wants an id)."""
        if not target.startswith("#") and target[:1] in ("C", "G", "D"):
            return target
        name = target.removeprefix("#")
        cursor: str | None = None
        while True:
            reply = self.client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for channel in reply.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (reply.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        """A reply in the thread of the message ``ref`` (``CHANNEL:TS``)."""
        channel, _, ts = ref.partition(":")
        if not channel or not ts:
            raise DeliveryRefused(f"not a Slack message reference (CHANNEL:TS): {ref!r}")
        channel_id, sent = self._post_message(
            channel, message, key=key, what=f"in the thread of {ref}", thread_ts=ts
        )
        return f"{channel_id}:{sent}"

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

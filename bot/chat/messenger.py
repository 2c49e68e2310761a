"""Where messages go: the ``Messenger`` protocol and the console messenger.

Jobs never talk to a chat platform directly: they put messages in the outbox (storage.outbox)
and ``bot.core.delivery.deliver_due`` hands them to a messenger. ``ConsoleMessenger`` prints them
instead of sending (``deskboard run --dry-run``, ``deskboard post --dry-run``, the demo).
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.chat.message import Message, message_plain_text


class DeliveryRefused(Exception):
    """The platform will never accept this message as it is (e.g. a malformed block, a
    channel that does not exist): the outbox gives it up at once."""


class DeliveryFailed(Exception):
    """The platform answered and did not post the message (throttled, busy): nothing of it
    is on the platform, and the outbox retries it later without looking it up first."""


class PlatformUnavailable(DeliveryFailed):
    """The platform refuses every message for now (a revoked or wrong token): the outbox
    retries this one later and sends nothing more to the platform in this pass."""


class Messenger(Protocol):
    platform: str

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        *,
        key: str | None = None,
    ) -> str:
        """Post in a channel; return a reference to the posted message. ``key`` is the
        outbox key, carried with the message where the platform allows (Slack metadata)."""
        ...

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        """Message a technician directly; None when they have no chat user or opted out. A
        ``safety`` message (an SLA-risk alert) reaches them opted out or not."""
        ...

    def update(self, ref: str, message: Message) -> None: ...

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        """Reply under the message ``ref`` (a thread, where the platform has them); return
        a reference to the reply."""
        ...

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        """The reference of a message posted with outbox ``key`` to ``target`` (a channel, or
        a member for ``kind`` "dm") at or after ``since``; None when there is none, or when
        the platform offers no way to tell (then the outbox sends the message again)."""
        ...


class ConsoleMessenger:
    """Prints every message instead of sending it; references are ``console:N``."""

    platform = "console"

    def __init__(self, console: Console) -> None:
        self.console = console
        self._numbers = itertools.count(1)

    def _show(self, title: str, message: Message, note: str = "") -> str:
        ref = f"console:{next(self._numbers)}"
        body = escape(message_plain_text(message) or message.text)
        if note:
            body += f"\n[dim]{escape(note)}[/]"
        self.console.print(Panel(body, title=escape(title), title_align="left", expand=False))
        return ref

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        *,
        key: str | None = None,
    ) -> str:
        note = f"+ {attachment_name} ({len(attachment)} bytes)" if attachment else ""
        return self._show(f"post to {channel}", message, note)

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        return self._show(f"DM to {member_key}", message)

    def update(self, ref: str, message: Message) -> None:
        self._show(f"update of {ref}", message)

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        return self._show(f"reply to {ref}", message)

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        return None  # printed messages leave no trace to look up

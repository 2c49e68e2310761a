"""Where messages go: the ``Messenger`` protocol and the console messenger.

Jobs never talk to a chat platform directly: they put messages in the outbox (storage.outbox)
and ``bot.outbox.deliver_due`` hands them to a messenger. ``ConsoleMessenger`` prints them
instead of sending (``deskboard run --dry-run``, ``deskboard post --dry-run``, the demo).
"""

from __future__ import annotations

import itertools
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.chat import Message, message_plain_text


class DeliveryRefused(Exception):
    """The platform will never accept this message as it is (e.g. a malformed block)."""


class Messenger(Protocol):
    platform: str

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
    ) -> str:
        """Post in a channel; return a reference to the posted message."""
        ...

    def dm(self, member_key: str, message: Message) -> str | None:
        """Message a technician directly; None when they have no chat user or opted out."""
        ...

    def update(self, ref: str, message: Message) -> None: ...


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
    ) -> str:
        note = f"+ {attachment_name} ({len(attachment)} bytes)" if attachment else ""
        return self._show(f"post to {channel}", message, note)

    def dm(self, member_key: str, message: Message) -> str | None:
        return self._show(f"DM to {member_key}", message)

    def update(self, ref: str, message: Message) -> None:
        self._show(f"update of {ref}", message)

"""Pacing posts: chat platforms limit how often a bot may post to one channel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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

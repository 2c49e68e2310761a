"""Refusing replayed Slack requests (HTTP mode).

Bolt checks each request's ``x-slack-signature`` (an HMAC of its timestamp and body) and
refuses a timestamp more than five minutes from now. Within those five minutes a captured
request would still verify: ``ReplayGuard`` remembers the signature of every verified request
until its timestamp leaves the window and refuses the same signature again with 401.

Slack's own retries (``X-Slack-Retry-Num``) are signed anew, with a new timestamp, so they
pass; whether a retry repeats work is the listeners' business (they ack first).

The memory is per process. Deskboard's HTTP requests are served by the process that received
them; where several ``deskboard run`` processes sit behind one load balancer, a replay sent to
another process within the five minutes is not caught by this guard (keeping the signatures
in the shared database would need a table of its own; the signature and the window still
apply, and the listeners only act for the person the payload names).

It runs as Bolt's ``before_authorize`` middleware: after the signature check (only a verified
request is remembered, so forged requests cannot fill the memory) and before authorization.
Socket Mode requests come over Slack's own authenticated connection and are not checked.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

WINDOW_SECONDS = 60 * 5
"""Bolt's (slack_sdk's ``SignatureVerifier``) tolerance for a request's timestamp, either way."""


class ReplayGuard(Middleware):
    """Let each signed request through once (see the module docstring)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: set[str] = set()
        self._expiry: list[tuple[float, str]] = []  # heap: (when it may be forgotten, signature)
        self._lock = threading.Lock()

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        if req.mode == "socket_mode":
            return next()
        signature = req.headers.get("x-slack-signature", [""])[0]
        timestamp = req.headers.get("x-slack-request-timestamp", ["0"])[0]
        if not self.first_sight(signature, timestamp):
            return BoltResponse(status=401, body={"error": "replayed request"})
        return next()

    def first_sight(self, signature: str, timestamp: str) -> bool:
        """Remember ``signature``; False when it was seen within the window already."""
        try:
            sent = int(timestamp)
        except ValueError:
            return False  # Bolt refuses such a request before this runs
        now = self._clock()
        with self._lock:
            self._forget_expired(now)
            if not signature or signature in self._seen:
                return False
            self._seen.add(signature)
            # Past this moment Bolt refuses the timestamp as stale: no need to remember it.
            heapq.heappush(self._expiry, (sent + WINDOW_SECONDS + 1, signature))
            return True

    def _forget_expired(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            _, signature = heapq.heappop(self._expiry)
            self._seen.discard(signature)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

"""``POST /connectwise/callback``: ConnectWise tells us a ticket changed; we sync it now.

What is checked, in order (the first failure answers, and nothing is synced):

1. A body of at most ``MAX_BODY`` bytes (413), carrying ``x-content-signature`` (401).
2. A ConnectWise callback body: JSON with Action, Type, ID and Metadata.key_url (400; the
   log names the missing part, never a value from the body).
3. ``Metadata.key_url`` on the configured ConnectWise site, the scheme, host and port of
   ``CW_API_URL`` (401). Nothing else is ever fetched: the body is not trusted yet.
4. The signature, computed as ConnectWise documents with the key from that URL (cached per
   URL for an hour; fetched again at most once a minute when a signature does not match,
   in case the key was rotated; at most 20 key requests a minute in all), compared in
   constant time (401). A key that cannot be fetched answers 503, so that ConnectWise
   tries again.
5. Fresh, not replayed (403). *Stale* means the entity's ``_info.lastUpdated`` is more than
   ``STALE_AFTER`` away from our clock, either way (a body recorded and sent again later,
   or a clock far off); a callback without that time cannot be judged and is refused
   (400). A *replay* is a body identical to one already accepted: the SHA-256 of each
   accepted body is kept until its lastUpdated is stale, so every replay is caught either
   as stale or as seen. The memory is per process; with several processes behind a load
   balancer a replay to another one costs one extra read of the ticket and nothing more,
   since the sync is idempotent and kudos are recorded once per ticket.

Then, answered at once with 200: ``added`` and ``updated`` put the ticket id on a queue; one
worker thread syncs queued tickets one at a time (``Runtime.sync_ticket``: read it from
ConnectWise, store it, record kudos and nudges, deliver), under the same lock as the poll.
A ticket queued twice before its turn is synced once. ``deleted`` changes nothing: the
stored ticket stays, as it would for the poll (which cannot see deletions either), and a
callback of another type is acknowledged and ignored. Polling stays on and reconciles
anything a callback missed.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.push import describe
from bot.core.runtime import Runtime
from psa.connectwise.callbacks import (
    SIGNATURE_HEADER,
    KeyFetchLimited,
    MalformedCallback,
    SigningKeys,
    parse_callback,
    same_site,
    signature_matches,
)
from psa.connectwise.errors import ConnectWiseError, NotFound

log = logging.getLogger(__name__)

CALLBACK_PATH = "/connectwise/callback"
MAX_BODY = 512 * 1024
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    message: str  # safe to send back: never a secret, never a value from the body

    @property
    def ok(self) -> bool:
        return self.status < 300


class CallbackReceiver:
    """Verifies callbacks and hands accepted ticket ids to a worker thread."""

    def __init__(
        self,
        *,
        api_url: str,
        fetch_key: Callable[[str], str],
        sync_ticket: Callable[[int], object],
        clock: Callable[[], datetime],
        keys: SigningKeys | None = None,
    ) -> None:
        self._api_url = api_url
        self._keys = keys or SigningKeys(fetch_key)
        self._sync_ticket = sync_ticket
        self._clock = clock
        self._seen: dict[bytes, datetime] = {}  # accepted body digest → when it goes stale
        self._seen_lock = threading.Lock()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending: set[int] = set()
        self._pending_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False

    # -- verifying -----------------------------------------------------------------------
    def handle(self, body: bytes, signature: str | None) -> Outcome:
        """Check one request and, when it passes, queue its ticket. Never raises."""
        if len(body) > MAX_BODY:
            return self._refuse(413, "the body is too large")
        if not signature:
            return self._refuse(401, f"no {SIGNATURE_HEADER} header")
        try:
            payload = parse_callback(body)
        except MalformedCallback as exc:
            return self._refuse(400, f"not a ConnectWise callback: {exc}")
        if not same_site(payload.key_url, self._api_url):
            return self._refuse(401, "the signing key is not on the configured ConnectWise site")
        try:
            verified = self._verify(body, signature, payload.key_url)
        except NotFound:
            return self._refuse(401, "ConnectWise has no signing key at the given key_url")
        except ConnectWiseError as exc:
            log.warning("ConnectWise callback: could not fetch the signing key: %s", exc)
            return Outcome(503, "the signing key could not be fetched; try again")
        except KeyFetchLimited:
            return self._refuse(503, "too many signing-key requests; try again in a minute")
        if not verified:
            return self._refuse(401, "the signature does not match")
        if payload.action == "deleted" or payload.type != "ticket":
            log.info(
                "ConnectWise callback: %s of %s %d ignored",
                payload.action,
                payload.type,
                payload.id,
            )
            return Outcome(200, "ignored")
        if payload.last_updated is None:
            return self._refuse(400, "the entity has no _info.lastUpdated: freshness unknown")
        now = self._clock()
        if abs(now - payload.last_updated) > STALE_AFTER:
            return self._refuse(403, "stale: the change is not recent")
        if not self._first_sight(body, expires=payload.last_updated + STALE_AFTER, now=now):
            return self._refuse(403, "replayed: this callback was already accepted")
        self.enqueue(payload.id)
        return Outcome(200, "queued")

    def _verify(self, body: bytes, signature: str, key_url: str) -> bool:
        if signature_matches(body, signature, self._keys.get(key_url)):
            return True
        fresh = self._keys.refresh(key_url)  # rotated? ask again, at most once a minute
        return fresh is not None and signature_matches(body, signature, fresh)

    def _first_sight(self, body: bytes, *, expires: datetime, now: datetime) -> bool:
        digest = hashlib.sha256(body).digest()
        with self._seen_lock:
            for old in [d for d, until in self._seen.items() if until < now]:
                del self._seen[old]
            if digest in self._seen:
                return False
            self._seen[digest] = expires
            return True

    @staticmethod
    def _refuse(status: int, why: str) -> Outcome:
        log.warning("ConnectWise callback refused (%d): %s", status, why)
        return Outcome(status, why)

    # -- syncing -------------------------------------------------------------------------
    def enqueue(self, ticket_id: int) -> None:
        with self._pending_lock:
            if self._closed or ticket_id in self._pending:
                return
            self._pending.add(ticket_id)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="connectwise-callbacks", daemon=True
                )
                self._worker.start()
        self._queue.put(ticket_id)

    def join(self) -> None:
        """Until every queued ticket has been synced (or has failed)."""
        self._queue.join()

    def close(self) -> None:
        with self._pending_lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=10)

    def _run(self) -> None:
        while True:
            ticket_id = self._queue.get()
            try:
                if ticket_id is None:
                    return
                with self._pending_lock:
                    self._pending.discard(ticket_id)
                self._sync(ticket_id)
            finally:
                self._queue.task_done()

    def _sync(self, ticket_id: int) -> None:
        try:
            result = self._sync_ticket(ticket_id)
        except ConnectWiseError as exc:
            log.warning(
                "callback sync of ticket %d failed, the poll catches up: %s", ticket_id, exc
            )
        except Exception:
            log.exception("callback sync of ticket %d failed (the poll catches up)", ticket_id)
        else:
            log.info("callback sync: %s", result)


def callback_receiver(
    runtime: Runtime, *, api_url: str, fetch_key: Callable[[str], str]
) -> CallbackReceiver:
    """A receiver syncing through ``runtime``; ``fetch_key`` reads a signing key."""

    def sync(ticket_id: int) -> str:
        return describe(runtime.sync_ticket(ticket_id), at=runtime.clock())

    return CallbackReceiver(
        api_url=api_url, fetch_key=fetch_key, sync_ticket=sync, clock=runtime.clock
    )


def callback_route(receiver: CallbackReceiver) -> Any:
    """The Starlette route for ``POST /connectwise/callback``."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                break
        signature = request.headers.get(SIGNATURE_HEADER)
        outcome = await run_in_threadpool(receiver.handle, bytes(body), signature)
        return JSONResponse({"ok": outcome.ok, "message": outcome.message}, outcome.status)

    return Route(CALLBACK_PATH, endpoint, methods=["POST"])

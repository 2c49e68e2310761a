"""Deskboard's own one-click rating links (README "Customer satisfaction"), for MSPs without
ConnectWise surveys, the way Crewhu and SmileBack do it.

A link is ``{public_url}/csat/{ticket}/{face}/{signature}``, face ``positive``, ``neutral``
or ``negative``. The signature is an HMAC-SHA256 of the installation's secret
(``CSAT_LINK_SECRET``), cut to 128 bits, in one of two forms, both checked in constant time:

- **per ticket** (``deskboard csat links TICKET``): the HMAC of ``csat-ticket:{id}``; it is
  good for that ticket only;
- **the template's** (``deskboard csat template``): the HMAC of ``csat-template``. The email
  template is static HTML pasted into ConnectWise, which fills in the ticket number
  (``[srnumber]``) per email and cannot compute a signature per ticket. A customer holding
  one email's links could therefore rate another ticket by its number: that is bounded by the
  checks below (the ticket must exist and have been resolved in the last
  ``[csat] link_days``), the flood limit, and latest-wins per ticket.

**Scanners do not vote.** Mail security scanners open every link of an email. Opening a link
(GET) records nothing: the page asks the browser to confirm with a POST carrying a form token
(an HMAC of ticket and face), which its script sends on load and a no-script button sends on
a click. The POST records the rating (respondent ``link``: links are per ticket, not per
person), then the page offers a comment box. The customer may change their mind for
``[csat] change_days`` after the first answer; after that the answer stands.

Refused, recording nothing: a malformed or forged link, an unknown face, a ticket that does
not exist or was not resolved in the last ``link_days``, a bad form token, and more than
``FLOOD_LIMIT`` answers a minute from one address (``FloodGate``, kept in each process's
memory: with several processes the limit is per process).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.ratings import store_ratings
from metrics.ratings import LINK_RESPONDENT, Rating, RatingSource, RatingValue
from storage import ratings as rating_store
from storage import repo
from storage.db import session_scope

FACES = tuple(value.value for value in RatingValue)
MERGE_FIELD = "[srnumber]"
"""ConnectWise's token for the ticket number in status-notification emails."""
FLOOD_LIMIT = 5
FLOOD_WINDOW = timedelta(minutes=1)
MAX_COMMENT_CHARS = 2000
SIGNATURE_BYTES = 16


class LinkRefused(Exception):
    """A link or answer refused: ``status`` for the page, ``reason`` in words a customer can
    read (never a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _mac(secret: str, text: str, size: int = SIGNATURE_BYTES) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ticket_signature(secret: str, ticket_id: int) -> str:
    return _mac(secret, f"csat-ticket:{ticket_id}")


def template_signature(secret: str) -> str:
    return _mac(secret, "csat-template")


def form_token(secret: str, ticket_id: int, face: str) -> str:
    return _mac(secret, f"csat-form:{ticket_id}:{face}")


def signature_ok(secret: str, ticket_id: int, signature: str) -> bool:
    return any(
        hmac.compare_digest(signature.encode(), expected.encode())
        for expected in (ticket_signature(secret, ticket_id), template_signature(secret))
    )


def ticket_links(*, public_url: str, secret: str, ticket_id: int) -> dict[str, str]:
    """The three links of one ticket, signed for it (``deskboard csat links``)."""
    signature = ticket_signature(secret, ticket_id)
    base = public_url.rstrip("/")
    return {face: f"{base}/csat/{ticket_id}/{face}/{signature}" for face in FACES}


def template_links(*, public_url: str, secret: str) -> dict[str, str]:
    """The three links of the email template, with ConnectWise's ticket-number token."""
    signature = template_signature(secret)
    base = public_url.rstrip("/")
    return {face: f"{base}/csat/{MERGE_FIELD}/{face}/{signature}" for face in FACES}


class FloodGate:
    """At most ``limit`` answers per ``window`` from one address (in this process)."""

    def __init__(self, *, limit: int = FLOOD_LIMIT, window: timedelta = FLOOD_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, address: str, now: datetime) -> bool:
        with self._lock:
            times = self._seen.setdefault(address, deque())
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            if len(self._seen) > 10_000:  # forget quiet addresses
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]
            return True


@dataclass(frozen=True, slots=True)
class LinkedTicket:
    """A ticket a valid link names, and its link answer so far (None: none yet)."""

    ticket_id: int
    face: RatingValue
    summary: str
    answer: RatingValue | None
    comment: str | None
    answered_at: datetime | None
    can_change: bool


class RatingLinks:
    """The use cases of the rating links: build them, check one, record an answer."""

    def __init__(
        self,
        *,
        engine: Engine,
        config: DeskboardConfig,
        secret: str,
        clock: Callable[[], datetime],
        on_answer: Callable[[], None] = lambda: None,
        flood: FloodGate | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self._secret = secret
        self.clock = clock
        self.on_answer = on_answer  # after an answer is stored: act on it (kudos, alerts)
        self.flood = flood or FloodGate()

    def form_token(self, ticket_id: int, face: str) -> str:
        return form_token(self._secret, ticket_id, face)

    # ---- checking ------------------------------------------------------------------------
    def check(self, ticket_text: str, face_text: str, signature: str) -> LinkedTicket:
        """The ticket a link names, if the link is good; ``LinkRefused`` otherwise."""
        if not ticket_text.isdigit() or len(ticket_text) > 12 or face_text not in FACES:
            raise LinkRefused(400, "This link is not complete. Please use the link in your email.")
        ticket_id = int(ticket_text)
        if len(signature) > 64 or not signature_ok(self._secret, ticket_id, signature):
            raise LinkRefused(403, "This link is not valid. Please use the link in your email.")
        now = self.clock()
        with session_scope(self.engine) as session:
            found = repo.get_tickets(session, ids=[ticket_id])
            held = rating_store.get_rating(session, ticket_id=ticket_id, respondent=LINK_RESPONDENT)
        record = found[0] if found else None
        oldest = now - timedelta(days=self.config.csat.link_days)
        if record is None or record.resolved_at is None or record.resolved_at < oldest:
            raise LinkRefused(404, "We could not find a recently resolved request for this link.")
        can_change = held is None or now - held.first_received_at < timedelta(
            days=self.config.csat.change_days
        )
        return LinkedTicket(
            ticket_id=ticket_id,
            face=RatingValue(face_text),
            summary=record.summary or "",
            answer=None if held is None else held.rating.value,
            comment=None if held is None else held.rating.comment,
            answered_at=None if held is None else held.received_at,
            can_change=can_change,
        )

    # ---- recording -----------------------------------------------------------------------
    def record(
        self,
        ticket_text: str,
        face_text: str,
        signature: str,
        *,
        token: str,
        address: str,
        comment: str | None = None,
    ) -> LinkedTicket:
        """Record the face (and a comment) a real browser confirmed; the ticket as it stands
        after. A comment keeps the answer's face; a changed face after ``change_days`` is
        refused."""
        linked = self.check(ticket_text, face_text, signature)
        expected = self.form_token(linked.ticket_id, linked.face.value)
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise LinkRefused(
                403, "This page has expired. Please open the link in your email again."
            )
        now = self.clock()
        if not self.flood.admit(address, now):
            raise LinkRefused(429, "Too many answers from your network. Please try again later.")
        if not linked.can_change and linked.answer is not linked.face:
            raise LinkRefused(
                409, "Your answer was recorded earlier and can no longer be changed. Thank you!"
            )
        text = linked.comment if comment is None else _clean(comment)
        answer = Rating(
            ticket_id=linked.ticket_id,
            respondent=LINK_RESPONDENT,
            value=linked.face,
            rated_at=now,
            source=RatingSource.LINK,
            comment=text,
            source_ref=f"link:{linked.ticket_id}",
        )
        changes = store_ratings(self.engine, config=self.config, ratings=[answer], now=now)
        if changes:
            self.on_answer()
        # as it stands after (the thanks page reads it again; no second read here)
        return replace(linked, answer=linked.face, comment=text, answered_at=now)


def _clean(text: str) -> str | None:
    cleaned = text.replace("\x00", "").strip()[:MAX_COMMENT_CHARS]
    return cleaned or None

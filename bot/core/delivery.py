"""Delivering the outbox: every queued message is posted once, and a failed send is retried.

Jobs enqueue messages under a unique key per event (contest + period + post time, ticket +
reason, ...), so a restart or a job that runs twice never queues a message twice. Delivery
takes due items oldest first; a success is marked sent with the platform's reference; a
failure is retried with exponential backoff (30 s doubling, at most 1 h) up to
``MAX_ATTEMPTS`` tries, then the item is kept as dead with its last error (``deskboard
status`` shows the count and the error). A DM to a technician without a chat user (or opted
out) is retried every 6 hours for a day, so a later ``/deskboard link`` still lets it through.

Exactly once, across crashes. A send and the commit that records it cannot be one
transaction: a process killed after the platform accepted a message and before
``mark_sent`` committed would, on restart, find the message unsent and post it again. So:

1. Before sending, the item is **claimed** in a transaction of its own (``storage.outbox.
   claim``: a fresh token, ``claimed_at``), committed. The claim also keeps a second
   deliverer off the item for ``storage.outbox.CLAIM_LEASE`` (5 min), and a pass runs in one
   thread per process at a time (``bot.core.runtime.Runtime.deliver``).
2. The message goes out carrying its outbox key (Slack: message ``metadata``, event type
   ``deskboard_outbox``, payload ``{"key": ...}``).
3. ``mark_sent`` ends the claim. A refusal the platform answered (``DeliveryFailed``, a
   ``DeliveryRefused``, no chat user) clears ``claimed_at``: nothing was posted. A timeout, a
   dropped connection or a 5xx keeps it: the message may be out.
4. An item found with ``claimed_at`` set (a process died mid-send, its lease ran out; or
   the last attempt's outcome is unknown) is first **looked up** on the platform
   (``Messenger.find_delivered``: Slack reads the channel's or DM's history since the item
   was queued and finds the key in the metadata). Found: marked sent, not posted again.
   Not found: sent. A failed lookup is a failed attempt, retried later; nothing is sent
   blind.

Slack is therefore exactly-once. Teams (and Teams Workflows) cannot read messages back: a
message whose send was cut off between the platform's accept and the commit is sent again,
so there it is at-least-once, and a repeat needs a crash in that instant.

A ``reply`` item (kind "reply", ``target`` the outbox key of the message it answers: a bad
rating's alert, ``bot.core.rating_notices``) waits until that message is sent, then goes in
its thread (``Messenger.reply``). A reply is not looked up before a resend: it is
at-least-once on every platform. An ``update`` item (``target`` likewise the key of a message
the outbox sent: an SLA-risk alert, ``bot.core.alerting``) waits the same way, then replaces
that message's content in place (``Messenger.update``); doing it twice does no harm.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.chat.message import message_from_json
from bot.chat.messenger import DeliveryFailed, DeliveryRefused, Messenger, PlatformUnavailable
from storage import outbox
from storage.db import session_scope
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
NO_RECIPIENT_RETRY = timedelta(hours=6)
NO_RECIPIENT_ATTEMPTS = 4
CLOCK_MARGIN = timedelta(minutes=5)
"""A lookup reads from this long before the item was queued: our clock and the platform's
need not agree to the second."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    found: int = 0  # already on the platform after an interrupted send: marked sent


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour, for the n-th failed attempt (n ≥ 1)."""
    delay = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, LONGEST_RETRY)


def deliver_due(
    engine: Engine, messenger: Messenger, *, now: datetime, limit: int = 50
) -> DeliveryReport:
    report = DeliveryReport()
    with session_scope(engine) as session:
        items = outbox.due(session, now=now, limit=limit, platform=messenger.platform)
    for item in items:
        try:
            _deliver(engine, messenger, item, now=now, report=report)
        except PlatformUnavailable:
            log.warning("%s refuses every message; the rest wait for the next pass", item.platform)
            break
    return report


def _deliver(
    engine: Engine, messenger: Messenger, item: OutboxItem, *, now: datetime, report: DeliveryReport
) -> None:
    """One item: looked up if an earlier attempt may have posted it, claimed, sent, recorded.
    Raises ``PlatformUnavailable`` (after recording it) to end the pass."""
    attempt = item.attempts + 1
    parent_ref: str | None = None
    if item.kind in ("reply", "update"):  # under or over the message sent as ``target``
        with session_scope(engine) as session:
            parent = outbox.get_item(session, key=item.target)
        if parent is None or parent.dead:
            _failed(engine, item.id, now, f"no message to {item.kind}: {item.target}", None,
                    reached=False)  # fmt: skip
            report.failed += 1
            report.dead += 1
            return
        if parent.sent_at is None or parent.ref is None:
            _retry(
                engine, item, now, f"waiting for {item.target} to be posted", report, reached=False
            )
            return
        parent_ref = parent.ref
    if item.maybe_delivered and parent_ref is None:
        try:
            ref = messenger.find_delivered(
                kind=item.kind,
                target=item.target,
                key=item.key,
                since=item.created_at - CLOCK_MARGIN,
            )
        except Exception as exc:
            _retry(engine, item, now, f"looking it up: {type(exc).__name__}: {exc}", report)
            if isinstance(exc, PlatformUnavailable):
                raise
            return
        if ref is not None:
            log.info("outbox %s: already delivered (%s); not sent again", item.key, ref)
            with session_scope(engine) as session:
                outbox.mark_sent(session, item_id=item.id, at=now, ref=ref, attempt=False)
            report.sent += 1
            report.found += 1
            return
    with session_scope(engine) as session:
        if not outbox.claim(session, item_id=item.id, token=uuid.uuid4().hex, at=now):
            return  # another deliverer took it, or sent it, since ``due``
    message = message_from_json(item.message)
    try:
        if item.kind in ("dm", "safety_dm"):
            safety = item.kind == "safety_dm"  # an SLA-risk alert: opting out does not stop it
            ref = messenger.dm(item.target, message, key=item.key, safety=safety)
            if ref is None:
                retry_at: datetime | None = now + NO_RECIPIENT_RETRY
                if attempt >= NO_RECIPIENT_ATTEMPTS:
                    retry_at = None
                error = f"no chat user for {item.target}"
                _failed(engine, item.id, now, error, retry_at, reached=False)
                report.failed += 1
                report.dead += retry_at is None
                return
        elif parent_ref is not None and item.kind == "update":
            messenger.update(parent_ref, message)
            ref = parent_ref
        elif parent_ref is not None:
            ref = messenger.reply(parent_ref, message, key=item.key)
        else:
            ref = messenger.post(
                item.target, message, item.attachment, item.attachment_name, key=item.key
            )
    except DeliveryRefused as exc:
        _failed(engine, item.id, now, f"refused: {exc}", None, reached=False)
        report.failed += 1
        report.dead += 1
        return
    except Exception as exc:  # a platform or network failure: retried later
        reached = not isinstance(exc, DeliveryFailed)
        _retry(engine, item, now, f"{type(exc).__name__}: {exc}", report, reached=reached)
        if isinstance(exc, PlatformUnavailable):
            raise
        return
    with session_scope(engine) as session:
        outbox.mark_sent(session, item_id=item.id, at=now, ref=ref)
    report.sent += 1


def _retry(
    engine: Engine,
    item: OutboxItem,
    now: datetime,
    error: str,
    report: DeliveryReport,
    *,
    reached: bool = True,
) -> None:
    attempt = item.attempts + 1
    retry_at = now + retry_delay(attempt) if attempt < MAX_ATTEMPTS else None
    log.warning("outbox %s: attempt %d failed (%s)", item.key, attempt, error)
    _failed(engine, item.id, now, error, retry_at, reached=reached)
    report.failed += 1
    report.dead += retry_at is None


def _failed(
    engine: Engine,
    item_id: int,
    now: datetime,
    error: str,
    retry_at: datetime | None,
    *,
    reached: bool,
) -> None:
    with session_scope(engine) as session:
        outbox.mark_failed(
            session, item_id=item_id, at=now, error=error[:500], retry_at=retry_at, reached=reached
        )

"""Delivering the outbox: every queued message is sent once, and a failed send is retried.

Jobs enqueue messages under a unique key per event (contest + period + post time, ticket +
reason, ...), so a restart or a job that runs twice never posts twice. Delivery takes due
items oldest first; a success is marked sent with the platform's reference; a failure is
retried with exponential backoff (30 s doubling, at most 1 h) up to ``MAX_ATTEMPTS`` tries,
then the item is kept as dead with its last error (``deskboard status`` shows the count).
A DM to a technician without a chat user (or opted out) is retried every 6 hours for a day,
so a later ``/deskboard link`` still lets it through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.chat import message_from_json
from bot.messenger import DeliveryRefused, Messenger
from storage import outbox
from storage.db import session_scope

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
NO_RECIPIENT_RETRY = timedelta(hours=6)
NO_RECIPIENT_ATTEMPTS = 4


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


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
        message = message_from_json(item.message)
        attempt = item.attempts + 1
        retry_at: datetime | None
        try:
            if item.kind == "dm":
                ref = messenger.dm(item.target, message)
                if ref is None:
                    retry_at = now + NO_RECIPIENT_RETRY
                    if attempt >= NO_RECIPIENT_ATTEMPTS:
                        retry_at = None
                    _failed(engine, item.id, now, f"no chat user for {item.target}", retry_at)
                    report.failed += 1
                    report.dead += retry_at is None
                    continue
            else:
                ref = messenger.post(item.target, message, item.attachment, item.attachment_name)
        except DeliveryRefused as exc:
            _failed(engine, item.id, now, f"refused: {exc}", None)
            report.failed += 1
            report.dead += 1
            continue
        except Exception as exc:  # a platform or network failure: retried later
            retry_at = now + retry_delay(attempt) if attempt < MAX_ATTEMPTS else None
            log.warning("outbox %s: send failed (%s); attempt %d", item.key, exc, attempt)
            _failed(engine, item.id, now, f"{type(exc).__name__}: {exc}", retry_at)
            report.failed += 1
            report.dead += retry_at is None
            continue
        with session_scope(engine) as session:
            outbox.mark_sent(session, item_id=item.id, at=now, ref=ref)
        report.sent += 1
    return report


def _failed(
    engine: Engine, item_id: int, now: datetime, error: str, retry_at: datetime | None
) -> None:
    with session_scope(engine) as session:
        outbox.mark_failed(session, item_id=item_id, at=now, error=error[:500], retry_at=retry_at)

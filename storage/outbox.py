"""The outbox: every outgoing chat message, stored before it is sent.

Each message has a key naming the event it is about (a contest period's post, a ticket's
kudos, a member's nudge digest), unique in the table: enqueueing it again, after a restart
or from a retried job, writes nothing. The delivery loop takes what is ``due``, sends it,
and marks it sent, or failed with a time to retry (or none: then it is dead, given up).

Nothing here commits: the caller's ``storage.db.session_scope`` does, so a message is
enqueued in the same transaction as the decision it carries out.

Claims (exactly-once delivery, ``bot.core.delivery``): before a send, the deliverer ``claim``s the
item in a transaction of its own. ``claim_token`` says a deliverer is sending it now (for
``CLAIM_LEASE``, after which a claim counts as abandoned by a process that died);
``claimed_at`` says an attempt since then may have reached the platform, so the next
attempt first looks the message up there. ``mark_failed(..., reached=False)`` clears it when
the platform surely refused the attempt; ``mark_sent`` ends the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy import false, func, or_, select, true, update
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from storage.bulk import dialect_insert
from storage.tables import OUTBOX

OutboxKind = Literal["post", "dm", "safety_dm", "reply", "update"]
OUTBOX_KINDS: tuple[str, ...] = get_args(OutboxKind)

_O = OUTBOX.c

CLAIM_LEASE = timedelta(minutes=5)
"""How long a claim keeps other deliverers off an item: longer than any one send takes
(Slack's and Teams' timeouts and rate-limit waits included). A claim older than this was
left by a process that died; the item is then looked up on the platform and sent if absent."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    key: str
    platform: str  # which messenger delivers it: "slack", "teams", "teams-workflow", ...
    kind: OutboxKind
    target: str  # a channel id or "#name" for a post; a member key for a dm
    message: dict[str, Any]  # bot.chat.message_to_json(...) output
    attachment: bytes | None
    attachment_name: str | None
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    ref: str | None  # what the platform returned (Slack "channel:ts")
    last_error: str | None
    dead: bool
    claim_token: str | None = None  # set while a deliverer sends it (or died doing so)
    claimed_at: datetime | None = None  # an attempt since then may have reached the platform
    last_attempt_at: datetime | None = None

    @property
    def maybe_delivered(self) -> bool:
        """An earlier attempt may have reached the platform: look it up before sending."""
        return self.claimed_at is not None


def _item(row: RowMapping) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        key=row["key"],
        platform=row["platform"],
        kind=cast(OutboxKind, row["kind"]),
        target=row["target"],
        message=row["message"],
        attachment=row["attachment"],
        attachment_name=row["attachment_name"],
        created_at=row["created_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        sent_at=row["sent_at"],
        ref=row["ref"],
        last_error=row["last_error"],
        dead=row["dead"],
        claim_token=row["claim_token"],
        claimed_at=row["claimed_at"],
        last_attempt_at=row["last_attempt_at"],
    )


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    target: str,
    message: dict[str, Any],
    now: datetime,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
    not_before: datetime | None = None,
    platform: str = "slack",
) -> bool:
    """Store a message to send at ``not_before`` (by default ``now``); True if it was stored.

    False, with nothing written, when ``key`` is already in the outbox, whatever its state:
    also when another transaction stores the same key at the same moment (``INSERT ... ON
    CONFLICT DO NOTHING``), so two runs of one job never queue a message twice.
    """
    if kind not in OUTBOX_KINDS:
        raise ValueError(f"outbox kind must be one of {OUTBOX_KINDS}, got {kind!r}")
    row = {
        "key": key,
        "platform": platform,
        "kind": kind,
        "target": target,
        "message": message,
        "attachment": attachment,
        "attachment_name": attachment_name,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now if not_before is None else not_before,
        "sent_at": None,
        "ref": None,
        "last_error": None,
        "dead": False,
    }
    # RETURNING, not rowcount: drivers need not report a row count for an INSERT.
    statement = (
        dialect_insert(session, OUTBOX)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_O.id)
    )
    return session.execute(statement, row).first() is not None


def due(
    session: Session, *, now: datetime, limit: int = 50, platform: str | None = None
) -> list[OutboxItem]:
    """Up to ``limit`` messages to send now: not sent, not dead, due, not claimed by a
    deliverer within ``CLAIM_LEASE``; the oldest first. With ``platform``, only the messages
    for that platform's messenger."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = (
        select(OUTBOX)
        .where(
            _O.sent_at.is_(None),
            _O.dead == false(),
            _O.next_attempt_at <= now,
            _unclaimed(now),
        )
        .order_by(_O.created_at, _O.id)
        .limit(limit)
    )
    if platform is not None:
        query = query.where(_O.platform == platform)
    return [_item(row) for row in session.execute(query).mappings()]


def _unclaimed(now: datetime) -> Any:
    """No deliverer holds the item: never claimed, claim ended, or its lease ran out."""
    return or_(_O.claim_token.is_(None), _O.last_attempt_at <= now - CLAIM_LEASE)


def claim(session: Session, *, item_id: int, token: str, at: datetime) -> bool:
    """Take the item for one send attempt at ``at``; False when another deliverer holds it,
    or it was sent or given up meanwhile. Commit before sending: the claim is what tells a
    restarted process that this message may already be on the platform.

    ``claimed_at`` keeps the first attempt's time until a platform surely refused one."""
    statement = (
        update(OUTBOX)
        .where(_O.id == item_id, _O.sent_at.is_(None), _O.dead == false(), _unclaimed(at))
        .values(
            claim_token=token,
            claimed_at=func.coalesce(_O.claimed_at, at),
            last_attempt_at=at,
        )
        .returning(_O.id)
    )
    return session.execute(statement).first() is not None


def mark_sent(
    session: Session, *, item_id: int, at: datetime, ref: str | None, attempt: bool = True
) -> None:
    """The message was delivered at ``at`` (or found on the platform, ``attempt`` False);
    ``ref`` is the platform's id for it. The claim ends; ``last_error`` is kept, to show what
    earlier attempts met."""
    values: dict[str, Any] = {"sent_at": at, "ref": ref, "claim_token": None}
    if attempt:
        values["attempts"] = _O.attempts + 1
    session.execute(update(OUTBOX).where(_O.id == item_id).values(values))


def mark_failed(
    session: Session,
    *,
    item_id: int,
    at: datetime,
    error: str,
    retry_at: datetime | None,
    reached: bool = True,
) -> None:
    """An attempt at ``at`` failed with ``error``: try again at ``retry_at``, or never.

    ``retry_at`` None marks the message dead (a permanent failure, or too many attempts: the
    caller decides). A ``retry_at`` before ``at`` is taken as ``at``. ``reached`` False says
    the platform surely did not post it (it answered with a refusal), so the next attempt
    need not look it up first; True (a timeout, a dropped connection, a 5xx) keeps
    ``claimed_at``. The claim ends either way.
    """
    values: dict[str, Any] = {
        "attempts": _O.attempts + 1,
        "last_error": error,
        "last_attempt_at": at,
        "claim_token": None,
    }
    if not reached:
        values["claimed_at"] = None
    if retry_at is None:
        values["dead"] = True
    else:
        values["next_attempt_at"] = max(retry_at, at)
    session.execute(update(OUTBOX).where(_O.id == item_id).values(values))


def get_item(session: Session, *, key: str) -> OutboxItem | None:
    row = session.execute(select(OUTBOX).where(_O.key == key)).mappings().first()
    return None if row is None else _item(row)


def pending_count(session: Session) -> int:
    """Messages neither sent nor dead, due now or waiting for a retry."""
    query = select(func.count()).select_from(OUTBOX).where(_O.sent_at.is_(None), _O.dead == false())
    return session.execute(query).scalar_one()


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """What ``deskboard status`` shows of the outbox."""

    pending: int  # neither sent nor given up
    dead: int  # given up
    last_error: str | None  # of the latest failed attempt of a message not sent
    last_error_at: datetime | None
    last_error_key: str | None


def delivery_health(session: Session) -> DeliveryHealth:
    dead = session.execute(
        select(func.count()).select_from(OUTBOX).where(_O.sent_at.is_(None), _O.dead == true())
    ).scalar_one()
    latest = (
        session.execute(
            select(_O.key, _O.last_error, _O.last_attempt_at)
            .where(_O.sent_at.is_(None), _O.last_error.is_not(None))
            .order_by(_O.last_attempt_at.desc().nulls_last(), _O.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return DeliveryHealth(
        pending=pending_count(session),
        dead=dead,
        last_error=None if latest is None else latest["last_error"],
        last_error_at=None if latest is None else latest["last_attempt_at"],
        last_error_key=None if latest is None else latest["key"],
    )

"""Customer ratings of every source in one table: the latest answer per ticket and
respondent wins (docs/metrics.md, "Customer satisfaction").

Storing is idempotent: the same answer stored twice, or an older one after a newer one,
changes nothing, so a re-read page of survey results, a re-imported file or a retried link
click neither loses nor doubles a rating.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select
from sqlmodel import Session

from metrics.ratings import Rating, RatingSource, RatingValue
from storage.sync_state import sync_row
from storage.tables import RATINGS, TICKET_WORKERS, SyncState

_R = RATINGS.c


@dataclass(frozen=True, slots=True)
class RatingChange:
    """A rating that was stored or changed: ``previous`` is the value held before (None for a
    first answer; the same value when only the comment changed); ``id`` the row's id, stable
    across changes of mind."""

    id: int
    rating: Rating
    previous: RatingValue | None

    @property
    def recovered(self) -> bool:
        """A negative answer changed to a positive one."""
        return self.previous is RatingValue.NEGATIVE and self.rating.value is RatingValue.POSITIVE

    @property
    def value_changed(self) -> bool:
        """A first answer, or a new value (not only a new comment)."""
        return self.previous is not self.rating.value


@dataclass(frozen=True, slots=True)
class StoredRating:
    id: int
    rating: Rating
    previous: RatingValue | None
    received_at: datetime
    first_received_at: datetime


def _rating(row: object) -> Rating:
    return Rating(
        ticket_id=row.ticket_id,  # type: ignore[attr-defined]
        respondent=row.respondent,  # type: ignore[attr-defined]
        value=RatingValue(row.rating),  # type: ignore[attr-defined]
        rated_at=row.rated_at,  # type: ignore[attr-defined]
        source=RatingSource(row.source),  # type: ignore[attr-defined]
        comment=row.comment,  # type: ignore[attr-defined]
        source_ref=row.source_ref,  # type: ignore[attr-defined]
    )


def upsert_ratings(
    session: Session, *, ratings: Iterable[Rating], now: datetime
) -> list[RatingChange]:
    """Store each rating unless a rating of the same ticket and respondent at least as new is
    held; returns what changed (a new answer, or a later one with another value or comment).
    A later answer repeating the held one moves its ``rated_at`` and is not a change.

    Rows are locked for update where the database can (PostgreSQL), so two processes storing
    answers of one respondent keep the latest.
    """
    changes: list[RatingChange] = []
    for rating in ratings:
        row = (
            session.execute(
                select(RATINGS)
                .where(_R.ticket_id == rating.ticket_id, _R.respondent == rating.respondent)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        values = {
            "rating": rating.value.value,
            "rated_at": rating.rated_at,
            "source": rating.source.value,
            "source_ref": rating.source_ref,
            "comment": rating.comment,
            "received_at": now,
        }
        if row is None:
            row_id = session.execute(
                insert(RATINGS)
                .values(
                    ticket_id=rating.ticket_id,
                    respondent=rating.respondent,
                    first_received_at=now,
                    **values,
                )
                .returning(_R.id)
            ).scalar_one()
            changes.append(RatingChange(row_id, rating, None))
            continue
        if rating.rated_at < row["rated_at"]:
            continue
        same = row["rating"] == rating.value.value and row["comment"] == rating.comment
        if same:
            if rating.rated_at > row["rated_at"]:  # the same answer again, later: it counts then
                session.execute(
                    RATINGS.update()
                    .where(_R.id == row["id"])
                    .values(
                        rated_at=rating.rated_at,
                        source=values["source"],
                        source_ref=rating.source_ref,
                    )
                )
            continue
        previous = RatingValue(row["rating"])
        # ``previous`` in the row keeps the value before the last change of *value*
        held_previous = row["previous"] if previous is rating.value else row["rating"]
        session.execute(
            RATINGS.update().where(_R.id == row["id"]).values(**values, previous=held_previous)
        )
        changes.append(RatingChange(row["id"], rating, previous))
    return changes


def get_rating(session: Session, *, ticket_id: int, respondent: str) -> StoredRating | None:
    row = session.execute(
        select(RATINGS).where(_R.ticket_id == ticket_id, _R.respondent == respondent)
    ).first()
    return None if row is None else _stored(row)


def _stored(row: object) -> StoredRating:
    previous = row.previous  # type: ignore[attr-defined]
    return StoredRating(
        id=row.id,  # type: ignore[attr-defined]
        rating=_rating(row),
        previous=None if previous is None else RatingValue(previous),
        received_at=row.received_at,  # type: ignore[attr-defined]
        first_received_at=row.first_received_at,  # type: ignore[attr-defined]
    )


def ratings_between(session: Session, *, start: datetime, end: datetime) -> list[StoredRating]:
    """Every stored rating with ``rated_at`` in ``[start, end)``, by time."""
    rows = session.execute(
        select(RATINGS).where(_R.rated_at >= start, _R.rated_at < end).order_by(_R.rated_at, _R.id)
    ).all()
    return [_stored(row) for row in rows]


def positive_comments(session: Session, *, since: datetime, limit: int) -> list[StoredRating]:
    """The latest positive answers with a comment, rated at or after ``since``, newest first
    (the wallboard's ticker)."""
    rows = session.execute(
        select(RATINGS)
        .where(
            _R.rating == RatingValue.POSITIVE.value,
            _R.comment.is_not(None),
            _R.comment != "",
            _R.rated_at >= since,
        )
        .order_by(_R.rated_at.desc(), _R.id.desc())
        .limit(limit)
    ).all()
    return [_stored(row) for row in rows]


def all_ratings(session: Session) -> list[StoredRating]:
    rows = session.execute(select(RATINGS).order_by(_R.id)).all()
    return [_stored(row) for row in rows]


def count_ratings(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(RATINGS)).scalar_one())


def set_ticket_workers(session: Session, *, ticket_id: int, member_keys: Iterable[str]) -> None:
    """The members who logged time on ``ticket_id``, replacing what was held."""
    keys = sorted({key for key in member_keys if key})
    session.execute(delete(TICKET_WORKERS).where(TICKET_WORKERS.c.ticket_id == ticket_id))
    if keys:
        session.execute(
            insert(TICKET_WORKERS), [{"ticket_id": ticket_id, "member_key": k} for k in keys]
        )


def rated_tickets_without_workers(session: Session, *, limit: int) -> list[int]:
    """Rated tickets whose time entries have not been read, newest rating first.

    A ticket read with no time entries keeps no row and is asked again: a technician may log
    time after the rating."""
    known = select(TICKET_WORKERS.c.ticket_id)
    rows = session.execute(
        select(_R.ticket_id)
        .where(_R.ticket_id.not_in(known))
        .group_by(_R.ticket_id)
        .order_by(func.max(_R.rated_at).desc(), _R.ticket_id)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]


def ticket_workers(session: Session, *, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(TICKET_WORKERS.c.ticket_id, TICKET_WORKERS.c.member_key)
        .where(TICKET_WORKERS.c.ticket_id.in_(list(ticket_ids)))
        .order_by(TICKET_WORKERS.c.ticket_id, TICKET_WORKERS.c.member_key)
    ).all()
    result: dict[int, list[str]] = {}
    for ticket_id, key in rows:
        result.setdefault(ticket_id, []).append(key)
    return result


def get_ratings_watermark(session: Session) -> datetime | None:
    row = session.get(SyncState, 1)
    return None if row is None else row.ratings_watermark


def set_ratings_watermark(session: Session, *, watermark: datetime) -> None:
    """Where the reading of the PSA's survey results stands; it only moves forward."""
    row = sync_row(session)
    if row.ratings_watermark is None or watermark > row.ratings_watermark:
        row.ratings_watermark = watermark


@dataclass(frozen=True, slots=True)
class RatingToNotice:
    """A rating whose latest answer has not been acted on, with its ticket as stored (None:
    not synced yet) and what was done before."""

    id: int
    rating: Rating
    previous: RatingValue | None
    received_at: datetime
    noticed: str | None
    kudos_member: str | None
    alert_event: str | None
    noted_event: str | None


def notice_signature(value: str, comment: str | None) -> str:
    """What ``noticed`` holds once an answer was acted on: its value, and whether it had a
    comment (a comment added later is a new thing to act on)."""
    return f"{value}+comment" if comment else value


def _signature_sql() -> Any:
    return case((_R.comment.is_not(None), _R.rating + "+comment"), else_=_R.rating)


def mark_all_noticed(session: Session) -> None:
    """Every held answer counts as acted on (a database restored for a bot that ran before)."""
    session.execute(RATINGS.update().values(noticed=_signature_sql()))


def ratings_to_notice(session: Session, *, limit: int = 500) -> list[RatingToNotice]:
    """Ratings whose latest answer has not been acted on, oldest first."""
    rows = session.execute(
        select(RATINGS)
        .order_by(_R.received_at, _R.id)
        .where((_R.noticed.is_(None)) | (_R.noticed != _signature_sql()))
        .limit(limit)
    ).all()
    return [
        RatingToNotice(
            id=row.id,
            rating=_rating(row),
            previous=None if row.previous is None else RatingValue(row.previous),
            received_at=row.received_at,
            noticed=row.noticed,
            kudos_member=row.kudos_member,
            alert_event=row.alert_event,
            noted_event=row.noted_event,
        )
        for row in rows
    ]


def mark_noticed(
    session: Session,
    *,
    rating_id: int,
    noticed: str,
    kudos_member: str | None = None,
    kudos_at: datetime | None = None,
    alert_event: str | None = None,
) -> None:
    """Record what was done about a rating's answer (None: that part left as it was)."""
    values: dict[str, object] = {"noticed": noticed}
    if kudos_member is not None:
        values.update(kudos_member=kudos_member, kudos_at=kudos_at)
    if alert_event is not None:
        values["alert_event"] = alert_event
    session.execute(RATINGS.update().where(_R.id == rating_id).values(**values))


def csat_kudos_since(session: Session, *, member_key: str, since: datetime) -> int:
    """CSAT kudos queued for ``member_key`` since ``since`` (for the daily cap)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(RATINGS)
            .where(_R.kudos_member == member_key, _R.kudos_at >= since)
        ).scalar_one()
    )


def unnoted_alerts(session: Session, *, limit: int = 100) -> list[tuple[int, int, str]]:
    """(rating id, ticket id, alert event) of bad-rating alerts whose internal note has not
    been written on the ticket yet."""
    rows = session.execute(
        select(_R.id, _R.ticket_id, _R.alert_event)
        .where(
            _R.alert_event.is_not(None),
            (_R.noted_event.is_(None)) | (_R.noted_event != _R.alert_event),
        )
        .order_by(_R.id)
        .limit(limit)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def mark_noted(session: Session, *, rating_id: int, event: str) -> None:
    session.execute(RATINGS.update().where(_R.id == rating_id).values(noted_event=event))

"""The sync state: the single ``sync_state`` row, read as a frozen ``SyncStateView``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.tables import SyncState


@dataclass(frozen=True, slots=True)
class SyncStateView:
    watermark: datetime | None = None
    last_sync_started_at: datetime | None = None
    last_sync_finished_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    boards_refreshed_at: datetime | None = None
    members_refreshed_at: datetime | None = None
    derive_fingerprint: str | None = None
    tickets_seen: int = 0
    judging_since: datetime | None = None

    @property
    def failing(self) -> bool:
        """True when the last error is newer than the last successful sync."""
        if self.last_error_at is None:
            return False
        finished = self.last_sync_finished_at
        return finished is None or self.last_error_at > finished


def sync_row(session: Session) -> SyncState:
    """The state row for writing, created on first use: a fresh database has none."""
    row = session.get(SyncState, 1)
    if row is None:
        row = SyncState(id=1)
        session.add(row)
    return row


def get_sync_state(session: Session) -> SyncStateView:
    row = session.get(SyncState, 1)
    if row is None:
        return SyncStateView()
    return SyncStateView(
        watermark=row.watermark,
        last_sync_started_at=row.last_sync_started_at,
        last_sync_finished_at=row.last_sync_finished_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        boards_refreshed_at=row.boards_refreshed_at,
        members_refreshed_at=row.members_refreshed_at,
        derive_fingerprint=row.derive_fingerprint,
        tickets_seen=row.tickets_seen,
        judging_since=row.judging_since,
    )


def set_watermark(session: Session, *, watermark: datetime) -> None:
    """Where the next sync starts (less an overlap). Set it only after the pages commit."""
    sync_row(session).watermark = watermark


def start_judging(session: Session, *, at: datetime) -> None:
    """Deskboard watches from ``at`` on, unless it already did from earlier (``bot.core.judging``).
    Kept to the whole second: ConnectWise's timestamps have no fraction, so a resolution in
    the second the first sync started counts as after it."""
    row = sync_row(session)
    if row.judging_since is None:
        row.judging_since = at.replace(microsecond=0)


def record_sync_started(session: Session, *, at: datetime) -> None:
    sync_row(session).last_sync_started_at = at


def record_sync_finished(
    session: Session, *, at: datetime, tickets_seen: int | None = None
) -> None:
    """A sync succeeded. ``last_error`` is kept, with its time, for ``deskboard status``."""
    row = sync_row(session)
    row.last_sync_finished_at = at
    if tickets_seen is not None:
        row.tickets_seen = tickets_seen


MAX_ERROR_CHARS = 300
"""A recorded error is its first line, at most this long: what ``deskboard status`` shows.
A database error's later lines carry the SQL and its parameters (ticket rows): never kept."""


def short_error(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return first if len(first) <= MAX_ERROR_CHARS else first[: MAX_ERROR_CHARS - 1] + "…"


def record_sync_error(session: Session, *, at: datetime, message: str) -> None:
    row = sync_row(session)
    row.last_error = short_error(message)
    row.last_error_at = at


def set_derive_fingerprint(session: Session, *, fingerprint: str) -> None:
    """What the stored tickets' derived values were computed with (``bot.core.derived``)."""
    sync_row(session).derive_fingerprint = fingerprint


def set_refreshed(
    session: Session, *, boards_at: datetime | None = None, members_at: datetime | None = None
) -> None:
    """When boards (with their statuses) and members were last read from the PSA."""
    row = sync_row(session)
    if boards_at is not None:
        row.boards_refreshed_at = boards_at
    if members_at is not None:
        row.members_refreshed_at = members_at


def data_as_of(session: Session) -> datetime | None:
    """When the last successful sync finished: the "data as of" of every standings view."""
    return get_sync_state(session).last_sync_finished_at

"""``UTCDateTime``: every timestamp is stored in UTC and comes back aware.

SQLite has no time-zone type, so values are stored there as naive UTC text (SQLAlchemy's
fixed-width ``YYYY-MM-DD HH:MM:SS.ffffff``, which sorts like the instants it names);
PostgreSQL stores ``timestamptz``. Naive datetimes are refused rather than guessed at: the
records and windows Deskboard works with are always aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        refuse_naive(value)
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def refuse_naive(value: datetime) -> None:
    """Raise ``ValueError`` for a datetime without a time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")


def sqlite_text(value: datetime) -> str:
    """Exactly what ``UTCDateTime`` stores on SQLite for ``value``, computed directly.

    For bulk writes that hand rows to the driver themselves (``storage.bulk.write_rows``):
    SQLAlchemy's own conversion of one value goes through two processors and a format
    dictionary, and a page of tickets has thousands of timestamps.
    """
    if value.tzinfo is not UTC:  # records come in UTC; anything else is checked, converted
        refuse_naive(value)
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"

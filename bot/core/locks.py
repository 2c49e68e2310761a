"""Locks the adapters hold while they set up shared tables, across processes."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Engine

from storage.db import MIGRATION_LOCK, one_at_a_time


def migration_lock(engine: Engine) -> AbstractContextManager[None]:
    """Held while creating or migrating tables, so processes starting together take turns
    (a PostgreSQL advisory lock; nothing on SQLite, which has one writer anyway)."""
    return one_at_a_time(engine, key=MIGRATION_LOCK)

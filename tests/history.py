"""Shared set-up for databases that stand for a bot that has been running for a while."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, update

from storage.db import session_scope
from storage.ratings import mark_all_noticed
from storage.tables import KUDOS, NUDGES, SYNC_STATE

WATCHING_SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def notices_dealt_with(engine: Engine) -> None:
    """A bot that has been watching since January: forget the kudos and nudges the set-up's
    sync recorded, as if it had posted them long ago (their resolutions stay judged), so a
    test sees only what its own steps earn (customers' answers too), at whatever time it sets
    its clock to."""
    with session_scope(engine) as session:
        session.execute(delete(KUDOS))
        session.execute(delete(NUDGES))
        session.execute(update(SYNC_STATE).values(judging_since=WATCHING_SINCE))
        mark_all_noticed(session)  # and the customers' answers were acted on

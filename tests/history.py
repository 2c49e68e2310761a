"""Shared set-up for databases that stand for a bot that has been running for a while."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from storage.db import session_scope
from storage.tables import KUDOS, NUDGES


def notices_dealt_with(engine: Engine) -> None:
    """Forget the kudos and nudges the set-up's sync recorded, as if a bot had posted them
    long ago: their resolutions stay judged, so a test sees only what its own steps earn."""
    with session_scope(engine) as session:
        session.execute(delete(KUDOS))
        session.execute(delete(NUDGES))

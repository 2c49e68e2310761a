"""Customer ratings in: the one store step every source goes through (docs/metrics.md,
"Customer satisfaction").

ConnectWise's survey results (read by each sync), Deskboard's own rating links and
``deskboard csat import`` all end in ``store_ratings``: the latest answer per ticket and
respondent wins (``storage.ratings``), and what changed is acted on once (kudos for a
positive comment, an alert for a bad rating, the recovery of a changed mind).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from metrics.ratings import Rating
from storage.db import write_scope
from storage.ratings import RatingChange, upsert_ratings


def store_ratings(
    engine: Engine, *, config: DeskboardConfig, ratings: Sequence[Rating], now: datetime
) -> list[RatingChange]:
    """Store ``ratings`` in one transaction; returns the ratings that were new or changed.
    Customers answer at the same moment: ``write_scope`` keeps one's answer from being
    refused because another's was committed in between."""
    del config  # the notices of a change follow the configuration (bot.core.rating_notices)
    with write_scope(engine) as session:
        return upsert_ratings(session, ratings=ratings, now=now)

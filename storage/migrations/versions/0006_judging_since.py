"""The first sync is a quiet baseline: ``sync_state.judging_since`` is when the first sync
started, and resolutions before it are judged without kudos or nudges (``bot.core.judging``).
Set at the first sync's start, so a first sync that dies and is run again later keeps the
moment Deskboard started watching.

An existing database has been watching since its first sync, and every resolution it holds
was judged (migration 0005): any moment up to now will do, and its last sync's start is one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("judging_since", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE sync_state SET judging_since = last_sync_started_at "
        "WHERE watermark IS NOT NULL AND last_sync_started_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("judging_since")

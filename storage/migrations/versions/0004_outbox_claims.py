"""Exactly-once delivery: an outbox item is claimed (committed) before it is sent; the sync
state remembers a sync whose kudos and nudges were not recorded (it died in between).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("notices_pending_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("notices_pending_since")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_attempt_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claim_token")

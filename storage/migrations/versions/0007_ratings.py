"""Customer satisfaction: the ratings of every source in one table, the members who worked
on rated tickets, and where the reading of the PSA's survey results stands.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(), nullable=False),
        sa.Column("rating", sa.String(), nullable=False),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_ref", sa.String(), nullable=True),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("previous", sa.String(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("first_received_at", UTCDateTime(), nullable=False),
        sa.Column("noticed", sa.String(), nullable=True),
        sa.Column("kudos_member", sa.String(), nullable=True),
        sa.Column("kudos_at", UTCDateTime(), nullable=True),
        sa.Column("alert_event", sa.String(), nullable=True),
        sa.Column("noted_event", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "respondent", name="uq_ratings_ticket_id_respondent"),
    )
    op.create_index("ix_ratings_rated_at", "ratings", ["rated_at"])
    op.create_table(
        "ticket_workers",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("member_key", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "member_key"),
    )
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("ratings_watermark", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("ratings_watermark")
    op.drop_table("ticket_workers")
    op.drop_index("ix_ratings_rated_at", table_name="ratings")
    op.drop_table("ratings")

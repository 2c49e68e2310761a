"""Several chat platforms: the outbox's platform, and the conversations Teams posts go to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("platform", sa.String(), nullable=False, server_default="slack")
        )
    op.create_table(
        "chat_conversations",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("team_name", sa.String(), nullable=True),
        sa.Column("service_url", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=True),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "conversation_id"),
    )
    op.create_index(
        "ix_chat_conversations_platform_user_id",
        "chat_conversations",
        ["platform", "user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_chat_conversations_platform_user_id", table_name="chat_conversations")
    op.drop_table("chat_conversations")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("platform")

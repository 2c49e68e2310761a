"""Chat: the outbox, chat users, member preferences, nudges and kudos.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("attachment_name", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_key", "outbox", ["key"], unique=True)
    op.create_index(
        "ix_outbox_sent_at_dead_next_attempt_at", "outbox", ["sent_at", "dead", "next_attempt_at"]
    )

    op.create_table(
        "chat_users",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("member_key", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "member_key"),
    )
    op.create_index("ix_chat_users_platform_user_id", "chat_users", ["platform", "user_id"])

    op.create_table(
        "member_prefs",
        sa.Column("member_key", sa.String(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_key"),
    )

    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("member_key", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("outbox_key", sa.String(), nullable=True),
        sa.Column("fixed_by", sa.String(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "reason", name="uq_nudges_ticket_id_reason"),
    )
    op.create_index("ix_nudges_member_key_status", "nudges", ["member_key", "status"])

    op.create_table(
        "kudos",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("member_key", sa.String(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("outbox_key", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_kudos_member_key_created_at", "kudos", ["member_key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_kudos_member_key_created_at", table_name="kudos")
    op.drop_table("kudos")
    op.drop_index("ix_nudges_member_key_status", table_name="nudges")
    op.drop_table("nudges")
    op.drop_table("member_prefs")
    op.drop_index("ix_chat_users_platform_user_id", table_name="chat_users")
    op.drop_table("chat_users")
    op.drop_index("ix_outbox_sent_at_dead_next_attempt_at", table_name="outbox")
    op.drop_index("ix_outbox_key", table_name="outbox")
    op.drop_table("outbox")

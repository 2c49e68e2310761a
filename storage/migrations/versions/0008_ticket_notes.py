"""The notes of tickets, one row a note without its text, and each ticket's conversation
values (docs/metrics.md, "Conversation"), plus the close time of closed tickets and the SLA
due time ConnectWise states (for the SLA-risk alerts).

Nothing is backfilled that cannot be known: every ticket stored before starts with its notes
not read (``notes_read`` false), so the conversation metrics leave it out until the note
sync has read it again. ``first_contact``, decided before, is kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sla_stage", sa.String(), nullable=True))
        batch.add_column(sa.Column("sla_due_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("notes_read", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("responses", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("responses_to_close", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("followed_up", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("closed_with_notes", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_tickets_notes_read_updated_at", ["notes_read", "updated_at"])
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("member_key", sa.String(), nullable=True),
        sa.Column("by_technician", sa.Boolean(), nullable=False),
        sa.Column("by_customer", sa.Boolean(), nullable=False),
        sa.Column("customer_visible", sa.Boolean(), nullable=False),
        sa.Column("reply_since", UTCDateTime(), nullable=True),
        sa.Column("reply_min_business", sa.Float(), nullable=True),
        sa.Column("reply_min_calendar", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])
    op.create_index(
        "ix_ticket_notes_member_key_created_at", "ticket_notes", ["member_key", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_notes_member_key_created_at", table_name="ticket_notes")
    op.drop_index("ix_ticket_notes_ticket_id", table_name="ticket_notes")
    op.drop_table("ticket_notes")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_notes_read_updated_at")
        for column in (
            "closed_with_notes",
            "followed_up",
            "responses_to_close",
            "responses",
            "notes_read",
            "sla_due_at",
            "sla_stage",
            "closed_at",
        ):
            batch.drop_column(column)

"""Initial schema: tickets, status history, boards, members, sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        # The record (metrics.records.TicketRecord).
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("board", sa.String(), nullable=True),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("status_id", sa.Integer(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("company_name", sa.String(), nullable=True),
        sa.Column("agreement", sa.String(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("subtype", sa.String(), nullable=True),
        sa.Column("item", sa.String(), nullable=True),
        sa.Column("priority", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("summary", sa.String(), nullable=True),
        sa.Column("entered_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.Column("responder", sa.String(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolver", sa.String(), nullable=True),
        sa.Column("sla_respond_min", sa.Float(), nullable=True),
        sa.Column("sla_resplan_min", sa.Float(), nullable=True),
        sa.Column("sla_resolve_min", sa.Float(), nullable=True),
        sa.Column("sla_waiting_min", sa.Float(), nullable=True),
        sa.Column("actual_hours", sa.Float(), nullable=False),
        # Derived (metrics.derive.DerivedTicket).
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("resolver_key", sa.String(), nullable=True),
        sa.Column("responder_key", sa.String(), nullable=True),
        sa.Column("owner_key", sa.String(), nullable=True),
        sa.Column("categorized", sa.Boolean(), nullable=False),
        sa.Column("has_type", sa.Boolean(), nullable=False),
        sa.Column("has_subtype", sa.Boolean(), nullable=False),
        sa.Column("has_item", sa.Boolean(), nullable=False),
        sa.Column("no_agreement", sa.Boolean(), nullable=False),
        sa.Column("catchall", sa.Boolean(), nullable=False),
        sa.Column("judgeable", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("without_escalation", sa.Boolean(), nullable=False),
        sa.Column("response_min_business", sa.Float(), nullable=True),
        sa.Column("response_min_sla", sa.Float(), nullable=True),
        sa.Column("response_min_calendar", sa.Float(), nullable=True),
        sa.Column("resolution_min_business", sa.Float(), nullable=True),
        sa.Column("resolution_min_sla", sa.Float(), nullable=True),
        sa.Column("resolution_min_calendar", sa.Float(), nullable=True),
        sa.Column("category_mask", sa.Integer(), nullable=False),
        sa.Column("first_contact", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_tickets_resolver_key_resolved_at", "tickets", ["resolver_key", "resolved_at"]
    )
    op.create_index(
        "ix_tickets_responder_key_responded_at", "tickets", ["responder_key", "responded_at"]
    )
    op.create_index("ix_tickets_owner_key_is_open", "tickets", ["owner_key", "is_open"])
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=True),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("resolver_key", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_changes_ticket_id", "status_changes", ["ticket_id"])
    op.create_index("ix_status_changes_reopened_at", "status_changes", ["reopened", "at"])

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("identifier", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("inactive", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_members_key", "members", ["key"], unique=True)

    op.create_table(
        "boards",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("inactive", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "board_statuses",
        sa.Column("board_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("escalation_status", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("board_id", "id"),
    )

    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("watermark", UTCDateTime(), nullable=True),
        sa.Column("last_sync_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_sync_finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("boards_refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("members_refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("derive_fingerprint", sa.String(), nullable=True),
        sa.Column("tickets_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_table("board_statuses")
    op.drop_table("boards")
    op.drop_index("ix_members_key", table_name="members")
    op.drop_table("members")
    op.drop_index("ix_status_changes_reopened_at", table_name="status_changes")
    op.drop_index("ix_status_changes_ticket_id", table_name="status_changes")
    op.drop_table("status_changes")
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
    op.drop_index("ix_tickets_owner_key_is_open", table_name="tickets")
    op.drop_index("ix_tickets_responder_key_responded_at", table_name="tickets")
    op.drop_index("ix_tickets_resolver_key_resolved_at", table_name="tickets")
    op.drop_table("tickets")

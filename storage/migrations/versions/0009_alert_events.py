"""The SLA-risk alerts raised, one row per alert of a rule for a ticket (README "SLA-risk
alerts"), with the outbox keys of its messages so that they can be updated in place.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("message_keys", sa.JSON(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "ticket_id", "seq", name="uq_alert_events_rule_ticket_seq"),
    )
    op.create_index("ix_alert_events_ticket_id", "alert_events", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_ticket_id", table_name="alert_events")
    op.drop_table("alert_events")

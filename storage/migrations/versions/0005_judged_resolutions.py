"""Every stored resolution judged once: ``tickets.judged_at`` marks a resolution whose kudos
and nudges were decided, whichever path stored it (the poll, the command line, a push, a
nudge fix). It replaces the sync state's ``notices_pending_since``, which only the bot's
own sync knew about.

Resolutions stored before this revision were judged by the sync that stored them, unless
that sync's mark says it died first: those (resolved since the mark) are left to be judged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.utc import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("judged_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_tickets_judged_at_resolved_at", ["judged_at", "resolved_at"])
    op.execute(
        "UPDATE tickets SET judged_at = resolved_at "
        "WHERE resolved_at IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM sync_state WHERE sync_state.notices_pending_since IS NOT NULL "
        "AND tickets.resolved_at >= sync_state.notices_pending_since)"
    )
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("notices_pending_since")


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("notices_pending_since", UTCDateTime(), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_judged_at_resolved_at")
        batch.drop_column("judged_at")

"""Open tickets by owner, with in_scope: a backlog (every technician's open tickets) reads
the open tickets' index entries alone, not every ticket's.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_open_owner", "tickets", ["is_open", "owner_key", "in_scope"])
    op.drop_index("ix_tickets_owner_key_is_open", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_owner_key_is_open", "tickets", ["owner_key", "is_open"])
    op.drop_index("ix_tickets_open_owner", table_name="tickets")

"""The resolver's index covers what counting resolutions needs (in scope, categories), so
a technician's count over a window, even a year, reads the index alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["resolver_key", "resolved_at", "in_scope", "category_mask"]


def upgrade() -> None:
    op.create_index("ix_tickets_resolver_scope", "tickets", COLUMNS)
    op.drop_index("ix_tickets_resolver_key_resolved_at", table_name="tickets")


def downgrade() -> None:
    op.create_index(
        "ix_tickets_resolver_key_resolved_at", "tickets", ["resolver_key", "resolved_at"]
    )
    op.drop_index("ix_tickets_resolver_scope", table_name="tickets")

"""The tickets' writers mark the day totals' dates themselves: the triggers on ``tickets``
are dropped (those on ``ticket_notes`` and ``ratings`` stay).

Any row trigger on the wide upsert of a page of tickets cost about 20 µs a row on SQLite,
whatever its body did: more than doubled the store step's time over a plain insert. The
writers know the values they write and mark the same dates (``storage.rollup_marks``).
The dates already marked stay marked.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKET_TRIGGERS = ("rollup_tickets_insert", "rollup_tickets_update", "rollup_tickets_delete")


def _revision_0015() -> ModuleType:
    """Migration 0015, whose statements created the triggers (a downgrade creates them again)."""
    spec = spec_from_file_location("_revision_0015", Path(__file__).with_name("0015_member_days.py"))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TICKET_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON tickets" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        op.execute("DROP FUNCTION rollup_tickets_changed()")


def downgrade() -> None:
    created = _revision_0015()
    if op.get_bind().dialect.name == "postgresql":
        statements = (*created.PG_FUNCTIONS, *created.PG_TRIGGERS)
    else:
        statements = created.SQLITE_TRIGGERS
    for statement in statements:
        if any(f" {name} " in statement for name in (*TICKET_TRIGGERS, "rollup_tickets_changed()")):
            op.execute(statement)

"""Day totals per technician (``member_days``) and the triggers that mark what they owe.

Every insert, update and delete of an in-scope ticket (of a column the totals read), of a
reply and of a rating (whether a ticket has one is counted) writes the UTC dates it touches into ``rollup_dirty``; ``storage.rollups`` refreshes
the local days around those dates before the totals are read. Triggers, not the writers,
so that no write path (a poll, a push, a fix, a derivation again, the note sync) can forget.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = (
    "categorized",
    "has_type",
    "has_subtype",
    "has_item",
    "no_agreement",
    "catchall",
    "escalated",
    "without_escalation",
    "judgeable",
    "first_contact",
    "followed_up",
    "closed_with_notes",
)
TICKET_MEANS = (
    "resolution_min_business",
    "resolution_min_sla",
    "resolution_min_calendar",
    "response_min_business",
    "response_min_sla",
    "response_min_calendar",
    "actual_hours",
    "responses",
    "responses_to_close",
)
REPLY_MEANS = ("reply_min_business", "reply_min_calendar")
TICKET_COLUMNS = (
    "in_scope",
    "category_mask",
    "resolver_key",
    "resolved_at",
    "responder_key",
    "responded_at",
    *FLAGS,
    *TICKET_MEANS,
)
"""The tickets' columns the totals read: a change to any other (a summary, the judging
time) marks nothing."""
RESPONSE_COLUMNS = (
    "in_scope",
    "category_mask",
    "responder_key",
    "responded_at",
    "response_min_business",
    "response_min_sla",
    "response_min_calendar",
)
"""What the responded population's totals read (how many, and the response times): an old
open ticket's update marks its response's date only when one of these changed."""
NOTE_COLUMNS = ("ticket_id", "created_at", "member_key", "reply_since", *REPLY_MEANS)


def _changed(columns: Sequence[str], differ: str) -> str:
    return " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns)


def _sqlite_mark(day: str, condition: str = "1") -> str:
    """Mark the date ``day`` (an expression) when ``condition`` holds and it is not marked
    yet: one plain statement, no compound query (each would build a temporary table per
    row written)."""
    return (
        f"INSERT INTO rollup_dirty (day) SELECT {day} WHERE ({condition}) AND {day} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = {day}); "
    )


def _sqlite_ticket_marks(row: str, responded: str = "1") -> str:
    return _sqlite_mark(
        f"date({row}.resolved_at)", f"{row}.in_scope AND {row}.resolver_key IS NOT NULL"
    ) + _sqlite_mark(
        f"date({row}.responded_at)",
        f"{row}.in_scope AND {row}.responder_key IS NOT NULL AND ({responded})",
    )


def _sqlite_rated_mark(row: str) -> str:
    """The resolution date of the rating's ticket."""
    return (
        "INSERT INTO rollup_dirty (day) SELECT date(t.resolved_at) FROM tickets AS t "
        f"WHERE t.id = {row}.ticket_id AND t.in_scope AND t.resolver_key IS NOT NULL "
        "AND t.resolved_at IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = date(t.resolved_at)); "
    )


SCOPE_OR_CATEGORIES_CHANGED = _changed(("in_scope", "category_mask"), "IS NOT")
SQLITE_TRIGGERS = (
    "CREATE TRIGGER rollup_tickets_insert AFTER INSERT ON tickets WHEN NEW.in_scope BEGIN "
    + _sqlite_ticket_marks("NEW")
    + "END",
    "CREATE TRIGGER rollup_tickets_update AFTER UPDATE ON tickets "
    f"WHEN (OLD.in_scope OR NEW.in_scope) AND ({_changed(TICKET_COLUMNS, 'IS NOT')}) BEGIN "
    + _sqlite_ticket_marks("OLD", _changed(RESPONSE_COLUMNS, "IS NOT"))
    + _sqlite_ticket_marks("NEW", _changed(RESPONSE_COLUMNS, "IS NOT"))
    + "INSERT INTO rollup_dirty (day) SELECT DISTINCT date(n.created_at) FROM ticket_notes AS n "
    f"WHERE ({SCOPE_OR_CATEGORIES_CHANGED}) AND n.ticket_id = NEW.id "
    "AND n.reply_since IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = date(n.created_at)); "
    "END",
    "CREATE TRIGGER rollup_tickets_delete AFTER DELETE ON tickets WHEN OLD.in_scope BEGIN "
    + _sqlite_ticket_marks("OLD")
    + "END",
    "CREATE TRIGGER rollup_ratings_insert AFTER INSERT ON ratings BEGIN "
    + _sqlite_rated_mark("NEW")
    + "END",
    "CREATE TRIGGER rollup_ratings_update AFTER UPDATE ON ratings "
    "WHEN OLD.ticket_id IS NOT NEW.ticket_id BEGIN "
    + _sqlite_rated_mark("OLD")
    + _sqlite_rated_mark("NEW")
    + "END",
    "CREATE TRIGGER rollup_ratings_delete AFTER DELETE ON ratings BEGIN "
    + _sqlite_rated_mark("OLD")
    + "END",
    "CREATE TRIGGER rollup_notes_insert AFTER INSERT ON ticket_notes "
    "WHEN NEW.reply_since IS NOT NULL BEGIN " + _sqlite_mark("date(NEW.created_at)") + "END",
    "CREATE TRIGGER rollup_notes_update AFTER UPDATE ON ticket_notes "
    "WHEN (OLD.reply_since IS NOT NULL OR NEW.reply_since IS NOT NULL) "
    f"AND ({_changed(NOTE_COLUMNS, 'IS NOT')}) BEGIN "
    + _sqlite_mark("date(OLD.created_at)", "OLD.reply_since IS NOT NULL")
    + _sqlite_mark("date(NEW.created_at)", "NEW.reply_since IS NOT NULL")
    + "END",
    "CREATE TRIGGER rollup_notes_delete AFTER DELETE ON ticket_notes "
    "WHEN OLD.reply_since IS NOT NULL BEGIN " + _sqlite_mark("date(OLD.created_at)") + "END",
)


def _pg_mark(day: str) -> str:
    """Mark the date ``day`` (an expression), if not yet marked: a statement of the trigger
    function itself, whose plan PL/pgSQL keeps for the session. Not unique, so no writer
    waits for another session's uncommitted mark of the same date (a date marked twice is
    refreshed once)."""
    return (
        f"INSERT INTO rollup_dirty (day) SELECT {day} WHERE {day} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = {day}); "
    )


def _pg_ticket_days(row: str) -> str:
    responded = _changed(RESPONSE_COLUMNS, "IS DISTINCT FROM")
    return (
        f"IF {row}.resolver_key IS NOT NULL THEN "
        + _pg_mark(f"({row}.resolved_at AT TIME ZONE 'UTC')::date")
        + "END IF; "
        f"IF {row}.responder_key IS NOT NULL AND (TG_OP <> 'UPDATE' OR {responded}) THEN "
        + _pg_mark(f"({row}.responded_at AT TIME ZONE 'UTC')::date")
        + "END IF; "
    )


def _pg_marks_from(days: str) -> str:
    """Mark each date of ``days`` (a query of a column ``day``) not yet marked."""
    return (
        f"INSERT INTO rollup_dirty (day) SELECT DISTINCT days.day FROM ({days}) AS days "
        "WHERE days.day IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM rollup_dirty AS d WHERE d.day = days.day); "
    )


_PG_RATED_DAYS = (
    "SELECT (resolved_at AT TIME ZONE 'UTC')::date AS day FROM tickets "
    "WHERE id = {row}.ticket_id AND in_scope AND resolver_key IS NOT NULL"
)
PG_FUNCTIONS = (
    "CREATE FUNCTION rollup_tickets_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' AND OLD.in_scope THEN " + _pg_ticket_days("OLD") + "END IF; "
    "IF TG_OP <> 'DELETE' AND NEW.in_scope THEN " + _pg_ticket_days("NEW") + "END IF; "
    "IF TG_OP = 'UPDATE' AND (OLD.in_scope IS DISTINCT FROM NEW.in_scope "
    "OR OLD.category_mask IS DISTINCT FROM NEW.category_mask) THEN "
    + _pg_marks_from(
        "SELECT (created_at AT TIME ZONE 'UTC')::date AS day FROM ticket_notes "
        "WHERE ticket_id = NEW.id AND reply_since IS NOT NULL"
    )
    + "END IF; RETURN NULL; END $$",
    "CREATE FUNCTION rollup_ratings_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN "
    + _pg_marks_from(_PG_RATED_DAYS.format(row="OLD"))
    + "END IF; IF TG_OP <> 'DELETE' THEN "
    + _pg_marks_from(_PG_RATED_DAYS.format(row="NEW"))
    + "END IF; RETURN NULL; END $$",
    "CREATE FUNCTION rollup_notes_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' AND OLD.reply_since IS NOT NULL THEN "
    + _pg_mark("(OLD.created_at AT TIME ZONE 'UTC')::date")
    + "END IF; IF TG_OP <> 'DELETE' AND NEW.reply_since IS NOT NULL THEN "
    + _pg_mark("(NEW.created_at AT TIME ZONE 'UTC')::date")
    + "END IF; RETURN NULL; END $$",
)
PG_TRIGGERS = (
    "CREATE TRIGGER rollup_tickets_insert AFTER INSERT ON tickets FOR EACH ROW "
    "WHEN (NEW.in_scope) EXECUTE FUNCTION rollup_tickets_changed()",
    "CREATE TRIGGER rollup_tickets_update AFTER UPDATE ON tickets FOR EACH ROW "
    f"WHEN ((OLD.in_scope OR NEW.in_scope) AND ({_changed(TICKET_COLUMNS, 'IS DISTINCT FROM')})) "
    "EXECUTE FUNCTION rollup_tickets_changed()",
    "CREATE TRIGGER rollup_tickets_delete AFTER DELETE ON tickets FOR EACH ROW "
    "WHEN (OLD.in_scope) EXECUTE FUNCTION rollup_tickets_changed()",
    "CREATE TRIGGER rollup_ratings_insert AFTER INSERT ON ratings FOR EACH ROW "
    "EXECUTE FUNCTION rollup_ratings_changed()",
    "CREATE TRIGGER rollup_ratings_update AFTER UPDATE ON ratings FOR EACH ROW "
    "WHEN (OLD.ticket_id IS DISTINCT FROM NEW.ticket_id) EXECUTE FUNCTION rollup_ratings_changed()",
    "CREATE TRIGGER rollup_ratings_delete AFTER DELETE ON ratings FOR EACH ROW "
    "EXECUTE FUNCTION rollup_ratings_changed()",
    "CREATE TRIGGER rollup_notes_insert AFTER INSERT ON ticket_notes FOR EACH ROW "
    "WHEN (NEW.reply_since IS NOT NULL) EXECUTE FUNCTION rollup_notes_changed()",
    "CREATE TRIGGER rollup_notes_update AFTER UPDATE ON ticket_notes FOR EACH ROW "
    "WHEN ((OLD.reply_since IS NOT NULL OR NEW.reply_since IS NOT NULL) "
    f"AND ({_changed(NOTE_COLUMNS, 'IS DISTINCT FROM')})) "
    "EXECUTE FUNCTION rollup_notes_changed()",
    "CREATE TRIGGER rollup_notes_delete AFTER DELETE ON ticket_notes FOR EACH ROW "
    "WHEN (OLD.reply_since IS NOT NULL) EXECUTE FUNCTION rollup_notes_changed()",
)
TRIGGERS = (
    ("rollup_tickets_insert", "tickets"),
    ("rollup_tickets_update", "tickets"),
    ("rollup_tickets_delete", "tickets"),
    ("rollup_ratings_insert", "ratings"),
    ("rollup_ratings_update", "ratings"),
    ("rollup_ratings_delete", "ratings"),
    ("rollup_notes_insert", "ticket_notes"),
    ("rollup_notes_update", "ticket_notes"),
    ("rollup_notes_delete", "ticket_notes"),
)


def upgrade() -> None:
    means = TICKET_MEANS + REPLY_MEANS
    op.create_table(
        "member_days",
        sa.Column("population", sa.String(), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("member_key", sa.String(), nullable=False),
        sa.Column("category_mask", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        *(sa.Column(flag, sa.Integer(), nullable=False) for flag in FLAGS),
        sa.Column("rated", sa.Integer(), nullable=False),
        *(sa.Column(f"{field}_sum", sa.Float(), nullable=False) for field in means),
        *(sa.Column(f"{field}_n", sa.Integer(), nullable=False) for field in means),
        sa.PrimaryKeyConstraint("population", "day", "member_key", "category_mask"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rollup_dirty_day", "rollup_dirty", ["day"])
    op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*PG_FUNCTIONS, *PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        for function in (
            "rollup_tickets_changed()",
            "rollup_ratings_changed()",
            "rollup_notes_changed()",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_table("rollup_state")
    op.drop_index("ix_rollup_dirty_day", table_name="rollup_dirty")
    op.drop_table("rollup_dirty")
    op.drop_table("member_days")

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


def _sqlite_mark(days: str) -> str:
    """Insert each date of ``days`` (a query of a column ``d``) not yet marked."""
    return (
        "INSERT INTO rollup_dirty (day) SELECT DISTINCT d FROM ("
        + days
        + ") WHERE d IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = d);"
    )


def _sqlite_ticket_days(row: str, responded: str = "1") -> list[str]:
    return [
        f"SELECT date({row}.resolved_at) AS d WHERE {row}.in_scope "
        f"AND {row}.resolver_key IS NOT NULL",
        f"SELECT date({row}.responded_at) AS d WHERE {row}.in_scope "
        f"AND {row}.responder_key IS NOT NULL AND ({responded})",
    ]


def _sqlite_rated_days(rows: Sequence[str]) -> list[str]:
    """The resolution date of a rating's ticket, for each of ``rows`` (OLD, NEW)."""
    return [
        f"SELECT date(resolved_at) AS d FROM tickets WHERE id = {row}.ticket_id AND in_scope "
        "AND resolver_key IS NOT NULL"
        for row in rows
    ]


SCOPE_OR_CATEGORIES_CHANGED = _changed(("in_scope", "category_mask"), "IS NOT")
SQLITE_TRIGGERS = (
    "CREATE TRIGGER rollup_tickets_insert AFTER INSERT ON tickets WHEN NEW.in_scope BEGIN "
    + _sqlite_mark(" UNION ".join(_sqlite_ticket_days("NEW")))
    + " END",
    "CREATE TRIGGER rollup_tickets_update AFTER UPDATE ON tickets "
    f"WHEN (OLD.in_scope OR NEW.in_scope) AND ({_changed(TICKET_COLUMNS, 'IS NOT')}) BEGIN "
    + _sqlite_mark(
        " UNION ".join(
            [
                *_sqlite_ticket_days("OLD", _changed(RESPONSE_COLUMNS, "IS NOT")),
                *_sqlite_ticket_days("NEW", _changed(RESPONSE_COLUMNS, "IS NOT")),
                "SELECT date(created_at) AS d FROM ticket_notes WHERE ticket_id = NEW.id "
                f"AND reply_since IS NOT NULL AND ({SCOPE_OR_CATEGORIES_CHANGED})",
            ]
        )
    )
    + " END",
    "CREATE TRIGGER rollup_tickets_delete AFTER DELETE ON tickets WHEN OLD.in_scope BEGIN "
    + _sqlite_mark(" UNION ".join(_sqlite_ticket_days("OLD")))
    + " END",
    *(
        f"CREATE TRIGGER rollup_ratings_{event.lower()} AFTER {event} ON ratings "
        f"{when} BEGIN " + _sqlite_mark(" UNION ".join(_sqlite_rated_days(rows))) + " END"
        for event, when, rows in (
            ("INSERT", "", ("NEW",)),
            ("UPDATE", "WHEN OLD.ticket_id IS NOT NEW.ticket_id", ("OLD", "NEW")),
            ("DELETE", "", ("OLD",)),
        )
    ),
    "CREATE TRIGGER rollup_notes_insert AFTER INSERT ON ticket_notes "
    "WHEN NEW.reply_since IS NOT NULL BEGIN "
    + _sqlite_mark("SELECT date(NEW.created_at) AS d")
    + " END",
    "CREATE TRIGGER rollup_notes_update AFTER UPDATE ON ticket_notes "
    "WHEN (OLD.reply_since IS NOT NULL OR NEW.reply_since IS NOT NULL) "
    f"AND ({_changed(NOTE_COLUMNS, 'IS NOT')}) BEGIN "
    + _sqlite_mark("SELECT date(OLD.created_at) AS d UNION SELECT date(NEW.created_at) AS d")
    + " END",
    "CREATE TRIGGER rollup_notes_delete AFTER DELETE ON ticket_notes "
    "WHEN OLD.reply_since IS NOT NULL BEGIN "
    + _sqlite_mark("SELECT date(OLD.created_at) AS d")
    + " END",
)


def _pg_ticket_days(row: str) -> str:
    responded = _changed(RESPONSE_COLUMNS, "IS DISTINCT FROM")
    return (
        f"IF {row}.resolver_key IS NOT NULL THEN "
        f"PERFORM rollup_mark(({row}.resolved_at AT TIME ZONE 'UTC')::date); END IF; "
        f"IF {row}.responder_key IS NOT NULL AND (TG_OP <> 'UPDATE' OR {responded}) THEN "
        f"PERFORM rollup_mark(({row}.responded_at AT TIME ZONE 'UTC')::date); END IF; "
    )


_PG_RATED_DAYS = (
    "SELECT (resolved_at AT TIME ZONE 'UTC')::date AS day FROM tickets "
    "WHERE id = {row}.ticket_id AND in_scope AND resolver_key IS NOT NULL"
)
PG_FUNCTIONS = (
    # Not unique, so no writer waits for another session's uncommitted mark of the same
    # date: a date marked twice is refreshed once.
    # PL/pgSQL, not SQL: its statements' plans are kept for the session, where a SQL
    # function's body is planned again at every call (a page of tickets makes thousands).
    "CREATE FUNCTION rollup_mark(marked date) RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
    "IF marked IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rollup_dirty WHERE day = marked) "
    "THEN INSERT INTO rollup_dirty (day) VALUES (marked); END IF; END $$",
    "CREATE FUNCTION rollup_tickets_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' AND OLD.in_scope THEN " + _pg_ticket_days("OLD") + "END IF; "
    "IF TG_OP <> 'DELETE' AND NEW.in_scope THEN " + _pg_ticket_days("NEW") + "END IF; "
    "IF TG_OP = 'UPDATE' AND (OLD.in_scope IS DISTINCT FROM NEW.in_scope "
    "OR OLD.category_mask IS DISTINCT FROM NEW.category_mask) THEN "
    "PERFORM rollup_mark(days.day) FROM (SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date "
    "AS day FROM ticket_notes WHERE ticket_id = NEW.id AND reply_since IS NOT NULL) AS days; "
    "END IF; RETURN NULL; END $$",
    "CREATE FUNCTION rollup_ratings_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM rollup_mark(days.day) FROM ("
    + _PG_RATED_DAYS.format(row="OLD")
    + ") AS days; END IF; "
    "IF TG_OP <> 'DELETE' THEN PERFORM rollup_mark(days.day) FROM ("
    + _PG_RATED_DAYS.format(row="NEW")
    + ") AS days; END IF; RETURN NULL; END $$",
    "CREATE FUNCTION rollup_notes_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' AND OLD.reply_since IS NOT NULL THEN "
    "PERFORM rollup_mark((OLD.created_at AT TIME ZONE 'UTC')::date); END IF; "
    "IF TG_OP <> 'DELETE' AND NEW.reply_since IS NOT NULL THEN "
    "PERFORM rollup_mark((NEW.created_at AT TIME ZONE 'UTC')::date); END IF; "
    "RETURN NULL; END $$",
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
            "rollup_mark(date)",
        ):
            op.execute(f"DROP FUNCTION {function}")
    op.drop_table("rollup_state")
    op.drop_index("ix_rollup_dirty_day", table_name="rollup_dirty")
    op.drop_table("rollup_dirty")
    op.drop_table("member_days")

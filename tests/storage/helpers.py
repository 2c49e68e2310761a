"""Small helpers shared by the storage tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, MetaData, Table, select

from metrics.derive import DeriveParams
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage import repo
from storage.db import session_scope
from storage.tables import STATUS_CHANGES, TICKETS


def nov(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An instant in November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


NO_WAITING = WaitingRule()


def upsert(
    engine: Engine,
    records: Sequence[TicketRecord],
    *,
    params: DeriveParams,
    rule: WaitingRule = NO_WAITING,
) -> repo.UpsertResult:
    """One page in its own transaction, as the sync job stores it."""
    with session_scope(engine) as session:
        return repo.upsert_tickets(session, records=records, params=params, waiting_rule=rule)


def ticket_rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(select(TICKETS).order_by(TICKETS.c.id)).mappings()
        return [dict(row) for row in rows]


def status_rows(engine: Engine) -> list[dict[str, object]]:
    c = STATUS_CHANGES.c
    query = select(c.ticket_id, c.at, c.from_status, c.to_status, c.reopened, c.resolver_key)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(c.id)).mappings()
        return [dict(row) for row in rows]


def derived_row(engine: Engine, ticket_id: int) -> dict[str, object]:
    return next(row for row in ticket_rows(engine) if row["id"] == ticket_id)


def insert_bare_ticket(engine: Engine, ticket_id: int) -> None:
    """A ticket row written through the table as the database has it now (an older revision
    has fewer columns than the code's): the id, and false or 0 in every required column."""
    with engine.begin() as connection:
        table = Table("tickets", MetaData(), autoload_with=connection)
        values: dict[str, object] = {"id": ticket_id}
        for column in table.columns:
            if column.name != "id" and not column.nullable:
                values[column.name] = 0.0 if column.name == "actual_hours" else False
        values["category_mask"] = 0
        connection.execute(table.insert().values(values))

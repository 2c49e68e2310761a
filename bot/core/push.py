"""Syncing one ticket now, because ConnectWise said it changed (a callback).

The ticket is read from ConnectWise by id (the callback's ``Entity`` is not trusted for
data) and stored through the same upsert the poll uses, so status history, reopens and
derived values come out exactly as if the next poll had found it. The sync watermark is not
moved: it belongs to the poll, which still reads everything changed since it, so a push can
never make the poll skip a ticket.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.derived import stored_waiting_rule
from bot.core.judging import NoticeReport, judge_resolutions
from bot.core.sync import SyncConfigError, resolve_board_ids
from psa.port import Psa, RecordNotFound
from storage import repo
from storage.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class TicketSyncResult:
    ticket_id: int
    stored: bool = False  # inserted or changed
    skipped: str | None = None  # why it was not stored
    newly_resolved: list[int] = field(default_factory=list)
    notices: NoticeReport = field(default_factory=NoticeReport)


def sync_ticket(
    *,
    client: Psa,
    engine: Engine,
    config: DeskboardConfig,
    ticket_id: int,
    now: datetime,
) -> TicketSyncResult:
    """Fetch ``ticket_id``, store it if it is on a selected board, and judge its resolution
    (``bot.core.judging``) like the poll judges what it stores.

    Before the first poll has stored the boards, nothing is stored (the poll will). A ticket
    ConnectWise no longer has is left as stored; the poll's reconciliation decides.
    ConnectWise errors are raised for the caller to log.
    """
    result = TicketSyncResult(ticket_id)
    with session_scope(engine) as session:
        boards = repo.list_boards(session)
        rule = stored_waiting_rule(session, config)
    if not boards:
        result.skipped = "no boards stored yet; the first poll stores the ticket"
        return result
    try:
        board_ids = resolve_board_ids(config, boards)
    except SyncConfigError as exc:
        result.skipped = str(exc)
        return result
    try:
        record = client.get_ticket(ticket_id)
    except RecordNotFound:
        result.skipped = "ConnectWise no longer has it"
        return result
    except ValueError as exc:  # the ticket's JSON could not be mapped
        result.skipped = f"unreadable: {exc}"
        return result
    if board_ids and record.board_id not in board_ids:
        result.skipped = "not on a selected board"
        return result
    with session_scope(engine) as session:
        upserted = repo.upsert_tickets(
            session, records=[record], params=config.derive_params(), waiting_rule=rule
        )
    result.stored = upserted.inserted + upserted.updated > 0
    result.newly_resolved = list(upserted.newly_resolved)
    result.notices = judge_resolutions(engine, config=config, now=now)
    return result


def describe(result: TicketSyncResult, *, at: datetime) -> str:
    if result.skipped is not None:
        return f"ticket {result.ticket_id}: not stored ({result.skipped})"
    change = "stored" if result.stored else "unchanged"
    resolved = " (newly resolved)" if result.newly_resolved else ""
    return f"ticket {result.ticket_id}: {change}{resolved} at {at.isoformat()}"

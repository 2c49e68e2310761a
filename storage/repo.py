"""The repository: every function the application uses to read and write the database.

Every function takes the session first and keyword arguments after it, and none commits:
the caller's ``storage.db.session_scope`` does, so a page of tickets is one transaction.
The functions live in one module per concept; this module gathers them under one name.
"""

from __future__ import annotations

from storage.reference import (
    inactive_member_keys,
    list_board_statuses,
    list_boards,
    list_members,
    upsert_board_statuses,
    upsert_boards,
    upsert_members,
)
from storage.sync_state import (
    SyncStateView,
    data_as_of,
    get_sync_state,
    record_sync_error,
    record_sync_finished,
    record_sync_started,
    set_derive_fingerprint,
    set_refreshed,
    set_watermark,
    start_judging,
)
from storage.ticket_notes import (
    NotesOwed,
    NotesRead,
    count_tickets_needing_notes,
    store_notes,
    stored_notes,
    tickets_needing_notes,
)
from storage.tickets import (
    DraggingTicket,
    UpsertResult,
    busiest_companies,
    count_tickets,
    dragging_tickets,
    get_tickets,
    iter_tickets,
    open_tickets,
    rederive_all,
    upsert_tickets,
)

__all__ = [
    "DraggingTicket",
    "NotesOwed",
    "NotesRead",
    "SyncStateView",
    "UpsertResult",
    "busiest_companies",
    "count_tickets",
    "count_tickets_needing_notes",
    "data_as_of",
    "dragging_tickets",
    "get_sync_state",
    "get_tickets",
    "inactive_member_keys",
    "iter_tickets",
    "list_board_statuses",
    "list_boards",
    "list_members",
    "open_tickets",
    "record_sync_error",
    "record_sync_finished",
    "record_sync_started",
    "rederive_all",
    "set_derive_fingerprint",
    "set_refreshed",
    "set_watermark",
    "start_judging",
    "store_notes",
    "stored_notes",
    "tickets_needing_notes",
    "upsert_board_statuses",
    "upsert_boards",
    "upsert_members",
    "upsert_tickets",
]

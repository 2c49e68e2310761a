"""The database tables (SQLModel). ``migrations/versions`` creates exactly these.

``tickets`` holds every field of ``metrics.records.TicketRecord`` under the same name, plus
the per-ticket values of ``metrics.derive.DerivedTicket`` that standings aggregate. The
derived ``resolved_at``/``responded_at`` are not stored twice: they equal the record's
columns whenever ``resolver_key``/``responder_key`` is set, and every population filters on
those keys. Timestamps are ``UTCDateTime``: UTC in the database, aware in Python.

The chat tables (``outbox``, ``chat_users``, ``member_prefs``, ``nudges``, ``kudos``) remember
what the bot decided and sent, so that a restart or a retried job never sends anything twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from storage.utc import UTCDateTime


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        # in_scope and category_mask too: counting a technician's resolutions over a window
        # (a contest on "resolved", /leaderboard year) then reads the index alone
        Index(
            "ix_tickets_resolver_scope",
            "resolver_key",
            "resolved_at",
            "in_scope",
            "category_mask",
        ),
        Index("ix_tickets_responder_key_responded_at", "responder_key", "responded_at"),
        # open tickets first: a backlog reads the few open tickets' entries, in scope or not
        Index("ix_tickets_open_owner", "is_open", "owner_key", "in_scope"),
        Index("ix_tickets_updated_at", "updated_at"),
        Index("ix_tickets_judged_at_resolved_at", "judged_at", "resolved_at"),
        Index("ix_tickets_notes_read_updated_at", "notes_read", "updated_at"),
    )

    # The record (metrics.records.TicketRecord), field for field.
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    board: str | None = None
    board_id: int | None = None
    status: str | None = None
    status_id: int | None = None
    closed: bool = False
    company: str | None = None
    company_id: int | None = None
    company_name: str | None = None
    agreement: str | None = None
    agreement_id: int | None = None
    type: str | None = None
    subtype: str | None = None
    item: str | None = None
    priority: str | None = None
    source: str | None = None
    owner: str | None = None
    summary: str | None = None
    entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responder: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolver: str | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_stage: str | None = None
    sla_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_respond_min: float | None = None
    sla_resplan_min: float | None = None
    sla_resolve_min: float | None = None
    sla_waiting_min: float | None = None
    actual_hours: float = 0.0

    # Derived (metrics.derive.DerivedTicket), recomputed when DeriveParams.fingerprint changes.
    in_scope: bool
    is_open: bool
    resolver_key: str | None = None
    responder_key: str | None = None
    owner_key: str | None = None
    categorized: bool
    has_type: bool
    has_subtype: bool
    has_item: bool
    no_agreement: bool
    catchall: bool
    judgeable: bool
    escalated: bool
    without_escalation: bool
    response_min_business: float | None = None
    response_min_sla: float | None = None
    response_min_calendar: float | None = None
    resolution_min_business: float | None = None
    resolution_min_sla: float | None = None
    resolution_min_calendar: float | None = None
    category_mask: int = 0
    # Not derived: written by the note sync (storage.first_contact); NULL until the notes of
    # the current resolution are read, and reset to NULL when the resolution changes.
    first_contact: bool | None = None
    # Not derived: written by the note sync (storage.ticket_notes) from the ticket's notes,
    # docs/metrics.md "Conversation". ``notes_read`` is false until the notes of the ticket as
    # it is now have been read, and again after every change to it; the values are NULL until
    # read and again when the resolution (or, for the follow-up, the close) changes.
    notes_read: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    responses: int | None = None
    responses_to_close: int | None = None
    followed_up: bool | None = None
    closed_with_notes: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Not derived: set when the current resolution's kudos and nudges were decided
    # (storage.notices.mark_judged); NULL until then, and again when the resolution changes.
    judged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketNoteRow(SQLModel, table=True):
    """One note of a ticket as the note sync read it, without its text
    (docs/metrics.md, "Conversation"). A technician response that answered a customer
    message has ``reply_since`` (the message's time) and its reply time on each basis."""

    __tablename__ = "ticket_notes"
    __table_args__ = (Index("ix_ticket_notes_member_key_created_at", "member_key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    note_id: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    member_key: str | None = None
    by_technician: bool = False
    by_customer: bool = False
    customer_visible: bool = False
    reply_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_min_business: float | None = None
    reply_min_calendar: float | None = None


class AlertEventRow(SQLModel, table=True):
    """An SLA-risk alert raised for a ticket under a rule (``storage.alerts``)."""

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("rule", "ticket_id", "seq", name="uq_alert_events_rule_ticket_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str
    ticket_id: int = Field(index=True)
    seq: int
    fired_at: datetime = Field(sa_type=UTCDateTime)
    message_keys: list[str] = Field(default_factory=list, sa_type=JSON)
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = None


class Member(SQLModel, table=True):
    __tablename__ = "members"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    identifier: str
    key: str = Field(unique=True, index=True)  # member_key(identifier): lower case
    name: str | None = None
    email: str | None = None
    inactive: bool = False


class Board(SQLModel, table=True):
    __tablename__ = "boards"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str
    inactive: bool = False


class BoardStatusRow(SQLModel, table=True):
    __tablename__ = "board_statuses"

    board_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str
    closed: bool = False
    escalation_status: str | None = None


class StatusChangeRow(SQLModel, table=True):
    """One observed status change (docs/metrics.md, "Status history and reopens").

    ``reopened`` marks a change from resolved back to open; ``resolver_key`` then names
    whoever had resolved the ticket, the member the reopen is charged to.
    """

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_reopened_at", "reopened", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    at: datetime = Field(sa_type=UTCDateTime)
    from_status: str | None = None
    to_status: str | None = None
    reopened: bool = False
    resolver_key: str | None = None


class SyncState(SQLModel, table=True):
    """The single row (id 1) describing where synchronisation stands."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sync_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sync_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    boards_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    members_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    derive_fingerprint: str | None = None
    tickets_seen: int = 0
    # When the first sync started: resolutions before it are judged quietly (bot.core.judging).
    judging_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The newest ``lastUpdated`` of the PSA's survey results read so far (storage.ratings).
    ratings_watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One message to deliver (``storage.outbox``), unique per event by ``key``.

    ``kind`` "post" goes to the channel ``target`` (an id or "#name"); "dm" to the member
    whose key is ``target``. ``message`` is ``bot.chat.message_to_json`` output. Delivered
    when ``sent_at`` is set; given up when ``dead``; otherwise tried at ``next_attempt_at``.
    ``claim_token``/``claimed_at``: see ``storage.outbox.claim``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_sent_at_dead_next_attempt_at", "sent_at", "dead", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    platform: str = Field(default="slack", sa_column_kwargs={"server_default": "slack"})
    kind: str
    target: str
    message: dict[str, Any] = Field(sa_type=JSON)
    attachment: bytes | None = Field(default=None, sa_type=LargeBinary)
    attachment_name: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ref: str | None = None  # what the platform returned, e.g. Slack "channel:ts"
    last_error: str | None = None
    dead: bool = False
    # Exactly-once delivery (bot.core.delivery): who is sending it now, since when an attempt may
    # have reached the platform, and when it was last tried.
    claim_token: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatUser(SQLModel, table=True):
    """A technician's user id on a chat platform, or None: looked up at ``checked_at``, no match.

    ``source`` says how it was found: "email" (a lookup by the member's email) or "link" (an
    admin's ``/deskboard link``), which a later email lookup never overwrites.
    """

    __tablename__ = "chat_users"
    __table_args__ = (Index("ix_chat_users_platform_user_id", "platform", "user_id"),)

    platform: str = Field(primary_key=True)
    member_key: str = Field(primary_key=True)
    user_id: str | None = None
    source: str
    checked_at: datetime = Field(sa_type=UTCDateTime)


class MemberPref(SQLModel, table=True):
    """A technician's own settings; for now whether they opted out of being named and DMed."""

    __tablename__ = "member_prefs"

    member_key: str = Field(primary_key=True)
    opted_out: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Nudge(SQLModel, table=True):
    """A ticket the resolver was (or will be) asked to fix, once per ``reason``.

    ``status`` goes pending → sent (in the DM digest ``outbox_key``) → fixed or dismissed,
    ``fixed_by`` naming who closed it.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("ticket_id", "reason", name="uq_nudges_ticket_id_reason"),
        Index("ix_nudges_member_key_status", "member_key", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int
    reason: str
    member_key: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: str = "pending"
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outbox_key: str | None = None
    fixed_by: str | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Kudos(SQLModel, table=True):
    """A ticket whose resolution earned kudos; ``outbox_key`` is set once it is queued."""

    __tablename__ = "kudos"
    __table_args__ = (Index("ix_kudos_member_key_created_at", "member_key", "created_at"),)

    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    member_key: str
    resolved_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    outbox_key: str | None = None


class ChatConversation(SQLModel, table=True):
    """A conversation the bot was added to or messaged in (Teams channels and chats), kept so
    scheduled posts and DMs can be sent there proactively."""

    __tablename__ = "chat_conversations"
    __table_args__ = (Index("ix_chat_conversations_platform_user_id", "platform", "user_id"),)

    platform: str = Field(primary_key=True)
    conversation_id: str = Field(primary_key=True)
    kind: str  # "channel" | "personal" | "groupChat"
    name: str | None = None  # the channel's name
    team_name: str | None = None
    service_url: str
    tenant_id: str | None = None
    user_id: str | None = None  # the user of a personal (1:1) chat
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RatingRow(SQLModel, table=True):
    """A customer's latest rating of a ticket (docs/metrics.md, "Customer satisfaction"):
    one row per ticket and respondent, replaced by a later answer (``storage.ratings``).

    ``previous`` is the value the row held before the last change (None for a first answer),
    so a recovery (negative, then positive) can be told. ``ticket_id`` is not a foreign key:
    a survey result or an import may arrive before its ticket is synced.
    """

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "respondent", name="uq_ratings_ticket_id_respondent"),
        Index("ix_ratings_rated_at", "rated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int
    respondent: str
    rating: str  # metrics.ratings.RatingValue
    rated_at: datetime = Field(sa_type=UTCDateTime)
    source: str  # metrics.ratings.RatingSource
    source_ref: str | None = None
    comment: str | None = None
    previous: str | None = None
    received_at: datetime = Field(sa_type=UTCDateTime)  # when Deskboard stored this answer
    first_received_at: datetime = Field(sa_type=UTCDateTime)  # when the first answer came
    # What was done about it (bot.core.rating_notices): the answer last acted on, as
    # "VALUE" or "VALUE+comment"; the CSAT kudos (to whom, when); the latest bad-rating
    # alert's event and the event whose internal note was written on the ticket.
    noticed: str | None = None
    kudos_member: str | None = None
    kudos_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    alert_event: str | None = None
    noted_event: str | None = None


class TicketWorker(SQLModel, table=True):
    """A member who logged time on a ticket (its PSA time entries), for ``[csat] credit =
    "worked"``; read for rated tickets only."""

    __tablename__ = "ticket_workers"

    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    member_key: str = Field(primary_key=True)


class ProgramItem(SQLModel, table=True):
    """One piece of the program (README "Running a contest"): a contest, score, category or
    alert rule by name, or a whole section (kudos, nudges, members, admins: ``name`` "").
    ``body`` is its settings as deskboard.toml writes them; ``revision`` grows at each
    change, so that a save made on an older revision is refused, not silently applied."""

    __tablename__ = "program_items"

    kind: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    position: int
    body: dict[str, Any] = Field(sa_type=JSON)
    revision: int
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    changed_by: str
    changed_at: datetime = Field(sa_type=UTCDateTime)


class ProgramChange(SQLModel, table=True):
    """The audit list: every change of the program, who made it, how and when, with the
    item's settings before and after. The greatest ``id`` is the program's revision."""

    __tablename__ = "program_changes"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    via: str  # "file", "import", "cli", "slack", "teams"
    action: str  # "created", "changed", "deleted", "ended"
    kind: str
    name: str
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ContestResult(SQLModel, table=True):
    """A contest's winners for one window, with its rules as they were when the window
    ended: a later change or "End now" never rewrites them."""

    __tablename__ = "contest_results"

    contest: str = Field(primary_key=True)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    rules: dict[str, Any] = Field(sa_type=JSON)
    winners: list[str] = Field(sa_type=JSON)  # member keys, best first
    decided_at: datetime = Field(sa_type=UTCDateTime)


class Wallboard(SQLModel, table=True):
    """A wallboard (README "The wallboard"): what it shows and the hash of its token; the
    token itself is never stored. ``revoked_at`` ends it at once for every process."""

    __tablename__ = "wallboards"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    token_hash: str = Field(unique=True)
    contests: list[str] = Field(sa_type=JSON)  # contest names; empty: every running contest
    theme: str  # "dark" or "light"
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LinkKey(SQLModel, table=True):
    """The key that signs technicians' personal page links (``/me/<token>``): random, made
    once, shared by every process through the database."""

    __tablename__ = "link_keys"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    key: str  # hex
    created_at: datetime = Field(sa_type=UTCDateTime)


class TeamsAccount(SQLModel, table=True):
    """A Teams user's Microsoft Entra object id beside their Bot Framework user id, as the
    bot's activities and rosters tell them together. The Teams personal tab signs in with
    Entra (its token names the object id); this says which Teams user, hence which
    technician, that is."""

    __tablename__ = "teams_accounts"

    aad_object_id: str = Field(primary_key=True)
    user_id: str  # "29:..."
    seen_at: datetime = Field(sa_type=UTCDateTime)


ROLLUP_FLAGS: tuple[str, ...] = (
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
    "rated",
)
"""The tickets' true/false values that the day totals count (``storage.rollups``): columns
of ``tickets``, and ``rated`` (the ticket has a rating)."""
ROLLUP_TICKET_MEANS: tuple[str, ...] = (
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
"""The tickets' numeric columns whose sum and count of values the day totals keep."""
ROLLUP_REPLY_MEANS: tuple[str, ...] = ("reply_min_business", "reply_min_calendar")
"""The same for the replies (``ticket_notes``)."""


def _member_days() -> Table:
    """Per population, local day, member and categories: the in-scope tickets' totals
    (``storage.rollups``). ``day`` is the local date's ordinal (``date.toordinal``)."""
    means = ROLLUP_TICKET_MEANS + ROLLUP_REPLY_MEANS
    return Table(
        "member_days",
        SQLModel.metadata,
        Column("population", String, primary_key=True),
        Column("day", Integer, primary_key=True, autoincrement=False),
        Column("member_key", String, primary_key=True),
        Column("category_mask", Integer, primary_key=True, autoincrement=False),
        Column("n", Integer, nullable=False),
        *(Column(flag, Integer, nullable=False) for flag in ROLLUP_FLAGS),
        *(Column(f"{field}_sum", Float, nullable=False) for field in means),
        *(Column(f"{field}_n", Integer, nullable=False) for field in means),
        sqlite_with_rowid=False,
    )


MEMBER_DAYS: Table = _member_days()


class RollupDirtyDay(SQLModel, table=True):
    """A UTC date whose tickets or replies changed since the day totals were refreshed,
    written by the writers of tickets (``storage.rollup_marks``) and by triggers on the
    replies and the ratings (migration 0015). Not unique: writers in
    several PostgreSQL sessions never wait on one another's uncommitted rows."""

    __tablename__ = "rollup_dirty"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)


class RollupState(SQLModel, table=True):
    """The time zone whose local days the day totals are kept in (one row)."""

    __tablename__ = "rollup_state"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    timezone: str


# The Core tables, for bulk statements and aggregates.
TICKETS: Table = SQLModel.metadata.tables["tickets"]
STATUS_CHANGES: Table = SQLModel.metadata.tables["status_changes"]
MEMBERS: Table = SQLModel.metadata.tables["members"]
BOARDS: Table = SQLModel.metadata.tables["boards"]
BOARD_STATUSES: Table = SQLModel.metadata.tables["board_statuses"]
SYNC_STATE: Table = SQLModel.metadata.tables["sync_state"]
OUTBOX: Table = SQLModel.metadata.tables["outbox"]
CHAT_USERS: Table = SQLModel.metadata.tables["chat_users"]
MEMBER_PREFS: Table = SQLModel.metadata.tables["member_prefs"]
NUDGES: Table = SQLModel.metadata.tables["nudges"]
KUDOS: Table = SQLModel.metadata.tables["kudos"]
CHAT_CONVERSATIONS: Table = SQLModel.metadata.tables["chat_conversations"]
RATINGS: Table = SQLModel.metadata.tables["ratings"]
TICKET_WORKERS: Table = SQLModel.metadata.tables["ticket_workers"]
TICKET_NOTES: Table = SQLModel.metadata.tables["ticket_notes"]
ALERT_EVENTS: Table = SQLModel.metadata.tables["alert_events"]
PROGRAM_ITEMS: Table = SQLModel.metadata.tables["program_items"]
PROGRAM_CHANGES: Table = SQLModel.metadata.tables["program_changes"]
CONTEST_RESULTS: Table = SQLModel.metadata.tables["contest_results"]
WALLBOARDS: Table = SQLModel.metadata.tables["wallboards"]
LINK_KEYS: Table = SQLModel.metadata.tables["link_keys"]
TEAMS_ACCOUNTS: Table = SQLModel.metadata.tables["teams_accounts"]
ROLLUP_DIRTY: Table = SQLModel.metadata.tables["rollup_dirty"]
ROLLUP_STATE: Table = SQLModel.metadata.tables["rollup_state"]

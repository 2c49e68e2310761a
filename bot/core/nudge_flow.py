"""A click on a nudge's controls, after the platform's payload is parsed: one flow for Slack
and Teams.

The adapter parses the click into a ``Click`` (the control's block ``nudge:ID``, a button's
value, the chat user's linked member) and calls:

- ``authorize``: who may act. Only the technician the nudge was sent to (the clicking chat
  user must map to the member of a nudge for the block's ticket), and only on the ticket the
  block is about (a button's value names it too); anyone else gets None, and nothing is read
  or changed.
- ``fix`` (``FixRequest``): reads the ticket once through the ``Psa`` port, checks the picks
  once (``bot.core.fix_apply``), PATCHes the ticket (``current=`` the ticket read) and notes
  who fixed it, marks the nudge fixed, stores the ticket as ConnectWise returned it, and
  returns the "done" ``Message`` (``Fixed``). With ``refine`` (Teams: no event per pick) an
  incomplete pick comes back as ``ToPick``, the ticket's choices narrowed and what to pick.
- ``dismiss`` (``DismissRequest``): marks the nudge dismissed; the "done" ``Message``.
- ``redraw``, ``choices``, ``search``: the ticket's controls for what is picked so far, the
  options of one select (``bot.core.nudge_choices``).

Refusals are ``FixError``s whose text is the answer to show (a ConnectWise failure too);
the adapters render the returned ``Message`` in place (Block Kit, Adaptive Card).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from bot.chat.message import Message, Option, message_from_json
from bot.chat.views import NudgeItem, Person, nudge_done_message
from bot.config import DeskboardConfig
from bot.core.fix_apply import FixError, apply_fix, narrow
from bot.core.fixes import (
    BoardCatalog,
    CatalogCache,
    Selection,
    agreements_for,
    company_shortlist,
    nudge_item,
)
from bot.core.links import TicketLink
from bot.core.people import people_directory
from bot.core.platforms import outbox_key
from bot.core.sync import store_and_judge
from metrics.records import TicketRecord
from metrics.triggers import NudgeReason
from psa.port import CompanyQuery, Psa, PsaError, TicketState
from storage import notices, outbox, repo
from storage.db import session_scope

log = logging.getLogger(__name__)

NUDGE_BLOCK = re.compile(r"^nudge:(\d+)$")
"""The block (Slack) or card part (Teams) of one ticket in a nudge digest: ``nudge:ID``."""
OPEN_STATUSES = ("pending", "sent")
NUDGE_SELECTS = ("nudge_type", "nudge_subtype", "nudge_item", "nudge_company", "nudge_agreement")
NOT_YOURS = "This ticket was sent to another technician: only they can fix it from here."
ALREADY_DONE = "Nothing left to do here: this ticket was already fixed or marked not needed."
IN_CONNECTWISE = Person(key="", display="someone in ConnectWise")
PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}


class NudgeDeps(Protocol):
    """What the flow needs from an adapter's deps (``SlackDeps``, ``TeamsDeps``)."""

    @property
    def engine(self) -> Engine: ...
    @property
    def current(self) -> DeskboardConfig: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def psa(self) -> Callable[[], AbstractContextManager[Psa]]: ...
    @property
    def ticket_link(self) -> TicketLink: ...
    @property
    def catalogs(self) -> CatalogCache: ...


# ---- who may act ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Click:
    """A click (or an options request) as the adapter parsed it."""

    platform: str  # "slack", "teams": whose people directory names the clicker
    block_id: str  # the control's block: ``nudge:ID``
    member: str | None  # the member the chat user is linked to (None: not linked)
    value: str | None = None  # a button's value (the ticket id); None: not a button


@dataclass(frozen=True, slots=True)
class Authorized:
    """A click by the technician the nudge is for, about its own block's ticket."""

    platform: str
    ticket_id: int
    block_id: str
    member: str
    reasons: tuple[str, ...]  # the ticket's reasons still open, in NudgeReason order
    digest: str | None  # the outbox event of the latest digest that carried the ticket


def authorize(engine: Engine, click: Click) -> Authorized | None:
    """The click, or None: a block that is no nudge, a button whose value names another
    ticket than its block, or a clicker who is not the technician the nudge was for."""
    match = NUDGE_BLOCK.match(click.block_id)
    if match is None or click.member is None:
        return None
    ticket_id = int(match.group(1))
    if click.value is not None and click.value != str(ticket_id):
        return None
    with session_scope(engine) as session:
        rows = notices.nudges_for_ticket(session, ticket_id=ticket_id)
    own = [row for row in rows if row.member_key == click.member]
    if not own:
        return None
    still_open = {row.reason for row in rows if row.status in OPEN_STATUSES}
    reasons = tuple(r.value for r in NudgeReason if r.value in still_open)
    digest = next((row.outbox_key for row in reversed(own) if row.outbox_key), None)
    return Authorized(click.platform, ticket_id, click.block_id, click.member, reasons, digest)


def person(engine: Engine, platform: str, member: str | None) -> Person:
    """How the platform names ``member`` to themself (None: someone in ConnectWise)."""
    if not member:
        return IN_CONNECTWISE
    return people_directory(engine, platform=platform).person(member, viewer=member)


def require_open(who: Authorized) -> None:
    if not who.reasons:
        raise FixError(ALREADY_DONE)


def catalog_of(deps: NudgeDeps, cw: Psa, ticket: TicketState) -> BoardCatalog | None:
    return deps.catalogs.get(cw, ticket.board_id) if ticket.board_id is not None else None


def psa_failed(who: Authorized, exc: PsaError) -> FixError:
    log.warning("fixing ticket %d: ConnectWise failed: %s", who.ticket_id, exc)
    return FixError(f"ConnectWise did not answer as expected ({exc}); try again later.")


# ---- fixing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixRequest:
    who: Authorized
    selection: Selection  # what is picked in the ticket's controls
    refine: bool = False  # narrow the picks first; an incomplete pick answers ``ToPick``


@dataclass(frozen=True, slots=True)
class Fixed:
    message: Message  # what replaces the ticket's part: "#ID fixed by NAME" and the changes
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToPick:
    """The fix is not made yet: the ticket's choices for the picks, and what to pick."""

    item: NudgeItem
    hint: str
    companies: tuple[Option, ...] = ()  # the companies to draw (no search as the user types)
    company: Option | None = None  # the company picked


def named_company(cw: Psa, selection: Selection) -> Selection:
    """The picked company with its name (a Teams card sends only its id)."""
    company_id = selection.company_id
    if company_id is None:
        return selection
    found = cw.find_companies(CompanyQuery(ids=(company_id,)))
    name = next((c.name for c in found if c.id == company_id and c.name), None)
    company = Option(text=name or f"#{company_id}", value=str(company_id))
    return Selection(
        type_id=selection.type_id,
        subtype_id=selection.subtype_id,
        item_id=selection.item_id,
        company=company,
        agreement_id=selection.agreement_id,
    )


def shortlist(deps: NudgeDeps, cw: Psa, who: Authorized) -> tuple[Option, ...]:
    """The companies drawn for a Catchall ticket where they cannot be searched as typed."""
    if "catchall" not in who.reasons:
        return ()
    catchall = deps.current.connectwise.catchall_company
    return company_shortlist(deps.engine, cw, catchall_company=catchall)


def fix(deps: NudgeDeps, request: FixRequest) -> Fixed | ToPick:
    """Save pressed: fix the ticket (or, ``refine``, narrow the picks). Raises ``FixError``
    with the answer to show: what to pick, ConnectWise's refusal or failure."""
    who = request.who
    require_open(who)
    by = person(deps.engine, who.platform, who.member)
    try:
        with deps.psa() as cw:
            ticket = cw.ticket_state(who.ticket_id)
            catalog = catalog_of(deps, cw, ticket)
            selection = request.selection
            if request.refine:
                picked = named_company(cw, selection)
                offered = agreements_for(cw, ticket=ticket, reasons=who.reasons, selection=picked)
                selection, hint = narrow(
                    picked, reasons=who.reasons, catalog=catalog, agreements=offered
                )
                if hint is not None:
                    return _to_pick(deps, cw, who, ticket, catalog, selection, hint)
            result = apply_fix(
                cw,
                ticket=ticket,
                reasons=who.reasons,
                selection=selection,
                catalog=catalog,
                fixed_by=by.display,
                platform_name=PLATFORM_NAMES.get(who.platform, who.platform),
            )
    except PsaError as exc:
        raise psa_failed(who, exc) from exc
    close_nudges(
        deps.engine, ticket_id=who.ticket_id, status="fixed", by=who.member, at=deps.clock()
    )
    try:
        store_fixed_ticket(deps.engine, deps.current, result.record, now=deps.clock())
    except Exception:  # the next sync stores it: not worth failing the fix for
        log.exception("storing fixed ticket %d failed", who.ticket_id)
    done = nudge_done_message(
        ticket_id=who.ticket_id, summary=ticket.summary, changes=result.changes, by=by
    )
    return Fixed(message=done, changes=result.changes)


def _to_pick(
    deps: NudgeDeps,
    cw: Psa,
    who: Authorized,
    ticket: TicketState,
    catalog: BoardCatalog | None,
    selection: Selection,
    hint: str,
) -> ToPick:
    companies = shortlist(deps, cw, who)
    item = nudge_item(
        ticket=ticket,
        reasons=who.reasons,
        catalog=catalog,
        ticket_url=deps.ticket_link(who.ticket_id),
        selection=selection,
        agreements=agreements_for(cw, ticket=ticket, reasons=who.reasons, selection=selection),
    )
    return ToPick(item=item, hint=hint, companies=companies, company=selection.company)


def close_nudges(
    engine: Engine, *, ticket_id: int, status: str, by: str | None, at: datetime
) -> None:
    """Close the ticket's open nudges as "fixed" or "dismissed" by ``by`` (None: nobody in
    chat, e.g. fixed in ConnectWise)."""
    with session_scope(engine) as session:
        notices.set_nudge_status(session, ticket_id=ticket_id, status=status, by=by, at=at)


def store_fixed_ticket(
    engine: Engine, config: DeskboardConfig, record: TicketRecord, *, now: datetime
) -> None:
    """Keep the database in step with a fix until the next sync reads it anyway, through
    the sync's own store step (``bot.core.sync.store_and_judge``)."""
    store_and_judge(engine, config=config, records=[record], now=now)


# ---- dismissing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DismissRequest:
    who: Authorized
    only_open: bool = False  # a ticket with nothing open left answers ``ALREADY_DONE``


def dismiss(deps: NudgeDeps, request: DismissRequest) -> Message:
    """Not needed pressed: the nudge is dismissed; the "done" message for the ticket."""
    who = request.who
    if request.only_open:
        require_open(who)
    with session_scope(deps.engine) as session:
        notices.set_nudge_status(
            session, ticket_id=who.ticket_id, status="dismissed", by=who.member, at=deps.clock()
        )
        records = repo.get_tickets(session, ids=[who.ticket_id])
    return nudge_done_message(
        ticket_id=who.ticket_id,
        summary=(records[0].summary if records else None) or "",
        changes=(),
        by=person(deps.engine, who.platform, who.member),
        dismissed=True,
    )


# ---- the digest a click came from ---------------------------------------------------------------


def sent_digest(engine: Engine, who: Authorized) -> Message | None:
    """The digest that carried the ticket, as the outbox sent it on the clicker's platform."""
    if who.digest is None:
        return None
    with session_scope(engine) as session:
        item = outbox.get_item(session, key=outbox_key(who.platform, who.digest))
    return message_from_json(item.message) if item is not None else None


def closed_elsewhere(
    engine: Engine, *, platform: str, ticket_ids: Sequence[int]
) -> dict[int, Message]:
    """The "done" message of each of ``ticket_ids`` whose nudges were all closed (fixed from
    another chat, or in ConnectWise) by now."""
    if not ticket_ids:
        return {}
    with session_scope(engine) as session:
        rows = {t: notices.nudges_for_ticket(session, ticket_id=t) for t in ticket_ids}
        records = {r.id: r for r in repo.get_tickets(session, ids=list(ticket_ids))}
    done: dict[int, Message] = {}
    for ticket_id, ticket_rows in rows.items():
        if not ticket_rows or any(r.status in OPEN_STATUSES for r in ticket_rows):
            continue
        last = ticket_rows[-1]
        record = records.get(ticket_id)
        done[ticket_id] = nudge_done_message(
            ticket_id=ticket_id,
            summary=(record.summary if record else None) or "",
            changes=(),
            by=person(engine, platform, last.fixed_by),
            dismissed=last.status == "dismissed",
        )
    return done

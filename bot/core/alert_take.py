"""An SLA-risk alert's **Take it** button (README "SLA-risk alerts"): the clicker becomes the
ticket's owner in the PSA, with an internal note saying so, and the ticket is stored again.

Only a technician whose chat user is linked to a PSA member can take a ticket: the owner must
be a member, and nobody takes a ticket in someone else's name. The note is internal and the
PSA notifies nobody (``Psa.add_internal_note``). One path for Slack and Teams: each adapter
turns the click into a ``TakeRequest`` and shows the ``TakeResult``'s text to the clicker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.config import DeskboardConfig
from bot.core.sync import store_and_judge
from psa.port import Psa, PsaError, TicketFields
from storage import repo
from storage.db import session_scope

log = logging.getLogger(__name__)

NOT_LINKED = (
    "Take it needs your chat user linked to a ConnectWise member; an admin can link you "
    "with /deskboard link."
)


@dataclass(frozen=True, slots=True)
class TakeRequest:
    ticket_id: int
    member_key: str | None  # the clicker's PSA member, None when their chat user is not linked


@dataclass(frozen=True, slots=True)
class TakeResult:
    taken: bool
    text: str


def take_ticket(
    request: TakeRequest,
    *,
    engine: Engine,
    config: DeskboardConfig,
    psa: Callable[[], AbstractContextManager[Psa]],
    now: datetime,
) -> TakeResult:
    """Assign the ticket to the clicker and note it; refused for a clicker not linked."""
    if request.member_key is None:
        return TakeResult(False, NOT_LINKED)
    with session_scope(engine) as session:
        member = next((m for m in repo.list_members(session) if m.key == request.member_key), None)
    if member is None:
        return TakeResult(False, NOT_LINKED)
    name = member.name or member.identifier
    try:
        with psa() as client:
            record = client.update_ticket(request.ticket_id, TicketFields(owner_id=member.id))
            client.add_internal_note(
                request.ticket_id, f"{name} took this ticket from a Deskboard SLA alert."
            )
    except PsaError as exc:
        log.warning("take it: ticket %d: %s", request.ticket_id, exc)
        return TakeResult(False, f"ConnectWise did not take the change: {exc}")
    store_and_judge(engine, config=config, records=[record], now=now)
    return TakeResult(True, f"You own #{request.ticket_id} now, {name}.")

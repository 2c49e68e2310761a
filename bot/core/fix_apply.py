"""Checking a nudged ticket's fix and making it in the PSA.

- ``apply_fix``: checks the choices against the ticket's open nudge reasons and the board,
  PATCHes the ticket and adds an internal note saying who fixed it from chat (ConnectWise
  sends no e-mail for it: ``processNotifications`` is off).
- ``narrow``: the picks with what no longer goes with them cleared, and what is left to pick
  (Teams sends no event when a select changes, so its Save narrows before it fixes).

Chat-neutral: ``bot.core.nudge_flow`` passes the chosen ids in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.chat.message import Option
from bot.core.fixes import BoardCatalog, Selection
from metrics.records import TicketRecord
from psa.port import NamedRef, Psa, PsaError, TicketFields, TicketState, invalid_combination

log = logging.getLogger(__name__)


class FixError(Exception):
    """The choices cannot fix the ticket; the message says what to pick instead."""


@dataclass(frozen=True, slots=True)
class FixResult:
    changes: tuple[str, ...]  # "Type / subtype / item: Hardware / Printer / Toner", ...
    record: TicketRecord  # the ticket as ConnectWise returned it after the PATCH


def _check(
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    selection: Selection,
    catalog: BoardCatalog | None,
) -> None:
    if "uncategorized" in reasons:
        if catalog is None:
            raise FixError(f"ticket #{ticket.ticket_id} has no board to categorize it on")
        if selection.type_id is None:
            raise FixError("Pick a type, a subtype and an item first.")
        if not catalog.is_complete(selection.type_id, selection.subtype_id, selection.item_id):
            problem = invalid_combination(
                catalog.associations,
                type_id=selection.type_id,
                subtype_id=selection.subtype_id,
                item_id=selection.item_id,
            )
            if problem is not None:
                raise FixError("That type, subtype and item do not go together on this board.")
            raise FixError("Pick the subtype and the item too: the ticket needs all three.")
    if "catchall" in reasons:
        if selection.company is None:
            raise FixError("Pick the customer's company.")
        if selection.company_id == ticket.company_id:
            raise FixError(f"Pick the customer's company, not {ticket.company_name}.")
    if "no_agreement" in reasons and selection.agreement_id is None:
        raise FixError("Pick an agreement.")


def apply_fix(
    client: Psa,
    *,
    ticket: TicketState,
    reasons: Sequence[str],
    selection: Selection,
    catalog: BoardCatalog | None,
    fixed_by: str,
    platform_name: str = "Slack",
) -> FixResult:
    """Check, PATCH and note; raises ``FixError`` with what to pick, or ConnectWise's refusal."""
    _check(
        ticket=ticket,
        reasons=reasons,
        selection=selection,
        catalog=catalog,
    )
    changes: list[str] = []
    fields: dict[str, int | None] = {}
    if selection.type_id is not None and catalog is not None:
        picked = (selection.type_id, selection.subtype_id, selection.item_id)
        if picked != (ticket.type_id, ticket.subtype_id, ticket.item_id):
            fields.update(
                type_id=selection.type_id,
                subtype_id=selection.subtype_id,
                item_id=selection.item_id,
            )
            changes.append(f"Type / subtype / item: {catalog.names(*picked)}")
    if selection.company is not None and selection.company_id != ticket.company_id:
        fields["company_id"] = selection.company_id
        changes.append(f"Company: {selection.company.text}")
    if selection.agreement_id is not None and selection.agreement_id != ticket.agreement_id:
        company_id = selection.company_id or ticket.company_id
        agreements = {a.id: a for a in client.agreements(company_id)} if company_id else {}
        agreement = agreements.get(selection.agreement_id)
        if agreement is None:
            raise FixError("That agreement does not belong to the ticket's company.")
        fields["agreement_id"] = agreement.id
        changes.append(f"Agreement: {agreement.name}")
    if not fields:
        raise FixError("Nothing to change: pick what the ticket is missing.")
    try:
        record = client.update_ticket(
            ticket.ticket_id,
            TicketFields(**fields),
            current=ticket,
            # ``_check`` checked the combination against these: the PSA need not again
            checked_against=(
                catalog.associations if catalog is not None and "uncategorized" in reasons else None
            ),
        )
    except ValueError as exc:
        raise FixError(str(exc)) from exc
    except PsaError as exc:
        raise FixError(f"ConnectWise refused the change: {exc}") from exc
    note = f"Fixed from {platform_name} by {fixed_by}: " + "; ".join(changes)
    try:
        client.add_internal_note(ticket.ticket_id, note)
    except PsaError as exc:  # the fix is made; a missing note must not undo that
        log.warning("ticket %d fixed, but its note failed: %s", ticket.ticket_id, exc)
    return FixResult(changes=tuple(changes), record=record)


# ---- narrowing the picks (Teams) ------------------------------------------------------------


def _ids(options: Sequence[Option]) -> set[int]:
    return {int(o.value) for o in options if o.value.isdigit()}


def narrow(
    selection: Selection,
    *,
    reasons: Sequence[str],
    catalog: BoardCatalog | None,
    agreements: Sequence[NamedRef],
) -> tuple[Selection, str | None]:
    """The picks with what no longer goes with them cleared, and what is left to pick (None:
    the picks are complete, go ahead and fix)."""
    hint: str | None = None
    if "uncategorized" in reasons and catalog is not None:
        type_id, subtype_id, item_id = selection.type_id, selection.subtype_id, selection.item_id
        if type_id not in _ids(catalog.type_options()):
            type_id, subtype_id, item_id = None, None, None
            hint = "Pick a type, a subtype and an item."
        else:
            subtypes = _ids(catalog.subtype_options(type_id))
            if subtype_id is not None and subtype_id not in subtypes:
                subtype_id, item_id = None, None
            items: set[int] = set()
            if subtype_id is not None or not subtypes:
                items = _ids(catalog.item_options(type_id, subtype_id))
            if item_id is not None and item_id not in items:
                item_id = None
            if subtypes and subtype_id is None:
                hint = "Pick the subtype and the item too: the ticket needs all three."
            elif items and item_id is None:
                hint = "Pick the item too: the ticket needs all three."
        selection = replace(selection, type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    if "catchall" in reasons and selection.company is None:
        hint = hint or "Pick the customer's company."
    if {"catchall", "no_agreement"} & set(reasons):
        offered = {a.id for a in agreements if not a.inactive}
        if selection.agreement_id is not None and selection.agreement_id not in offered:
            selection = replace(selection, agreement_id=None)
            hint = hint or "Pick one of the company's agreements."
        if "no_agreement" in reasons and selection.agreement_id is None and offered:
            hint = hint or "Pick an agreement."
    return selection, hint

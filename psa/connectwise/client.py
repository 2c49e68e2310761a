"""The ConnectWise PSA (Manage) client: reference data, tickets, re-categorizing, notes.

HTTP, retries and paging live in ``psa.connectwise.transport``; this module knows the routes,
maps the JSON into records and checks a ticket's new type/subtype/item against the board's
associations before anything is written.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from metrics.notes import TicketNote
from metrics.records import Board, BoardStatus, Member, TicketRecord
from psa.connectwise.callbacks import CallbackEntry, map_callback_entry
from psa.connectwise.conditions import all_of, changed_tickets, compare, equals, in_list
from psa.connectwise.errors import ConnectWiseError
from psa.connectwise.mapping import (
    map_board,
    map_board_status,
    map_member,
    map_notes,
    map_ticket,
    map_tickets,
)
from psa.connectwise.surveys import read_rating_pages, read_ticket_workers
from psa.connectwise.transport import (
    DEFAULT_RETRY,
    Requester,
    RetryPolicy,
    build_http_client,
    expect_object,
)
from psa.port import (
    Association,
    CompanyQuery,
    NamedRef,
    Psa,
    RatingPage,
    TicketFields,
    TicketPage,
    TicketState,
    invalid_combination,
)

__all__ = [
    "Association",
    "ConnectWiseClient",
    "NamedRef",
    "RetryPolicy",
    "TicketPage",
    "build_http_client",
    "invalid_combination",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def _ref_id(raw: Mapping[str, Any], key: str) -> int | None:
    ref = raw.get(key)
    value = ref.get("id") if isinstance(ref, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def map_named_ref(raw: Mapping[str, Any]) -> NamedRef:
    ref_id = raw.get("id")
    if isinstance(ref_id, bool) or not isinstance(ref_id, int):
        raise ValueError(f"record without an integer id: {ref_id!r}")
    identifier = raw.get("identifier")
    return NamedRef(
        id=ref_id,
        name=str(raw.get("name") or ""),
        identifier=str(identifier) if identifier is not None else None,
        inactive=any(raw.get(flag) is True for flag in ("inactiveFlag", "deletedFlag")),
    )


def map_association(raw: Mapping[str, Any]) -> Association:
    """``{"type": {"id"}, "subType": {"id"}, "item": {"id"}}``; absent keys mean none."""
    type_id = _ref_id(raw, "type")
    if type_id is None:
        raise ValueError(f"association {raw.get('id')!r} has no type")
    return Association(type_id, _ref_id(raw, "subType"), _ref_id(raw, "item"))


def _state_of(ticket_id: int, raw: Mapping[str, Any]) -> TicketState:
    company = raw.get("company")
    company_name = company.get("name") if isinstance(company, Mapping) else None
    return TicketState(
        ticket_id=ticket_id,
        board_id=_ref_id(raw, "board"),
        summary=str(raw.get("summary") or ""),
        company_id=_ref_id(raw, "company"),
        company_name=str(company_name or ""),
        agreement_id=_ref_id(raw, "agreement"),
        type_id=_ref_id(raw, "type"),
        subtype_id=_ref_id(raw, "subType"),
        item_id=_ref_id(raw, "item"),
    )


class ConnectWiseClient:
    """ConnectWise's REST API, implementing ``psa.port.Psa`` (and the callback routes the
    composition root uses to register and verify pushes)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 1000,
        rng: random.Random | None = None,
    ) -> None:
        self._requester = Requester(http, retry=retry, sleep=sleep, page_size=page_size, rng=rng)

    # ---- reference data -------------------------------------------------------------------

    def boards(self) -> list[Board]:
        return self._map_all("/service/boards", map_board, "board")

    def board_statuses(self, board_id: int) -> list[BoardStatus]:
        def mapper(raw: Mapping[str, Any]) -> BoardStatus:
            return map_board_status(raw, board_id=board_id)

        return self._map_all(f"/service/boards/{board_id}/statuses", mapper, "board status")

    def board_types(self, board_id: int) -> list[NamedRef]:
        return self._map_all(f"/service/boards/{board_id}/types", map_named_ref, "type")

    def board_subtypes(self, board_id: int) -> list[NamedRef]:
        return self._map_all(f"/service/boards/{board_id}/subtypes", map_named_ref, "subtype")

    def board_items(self, board_id: int) -> list[NamedRef]:
        return self._map_all(f"/service/boards/{board_id}/items", map_named_ref, "item")

    def associations(self, board_id: int) -> list[Association]:
        path = f"/service/boards/{board_id}/typeSubTypeItemAssociations"
        return self._map_all(path, map_association, "association")

    def members(self) -> list[Member]:
        return self._map_all("/system/members", map_member, "member")

    def companies(self, *, conditions: str | None = None) -> list[NamedRef]:
        params = {"conditions": conditions} if conditions else {}
        return self._map_all("/company/companies", map_named_ref, "company", params)

    def find_companies(self, query: CompanyQuery) -> list[NamedRef]:
        """The companies ``query`` asks for, as one ``conditions`` string."""
        conditions = all_of(
            in_list("id", query.ids) if query.ids is not None else None,
            compare("name", "like", f"{query.name_starts}*") if query.name_starts else None,
            compare("name", "contains", query.name_contains) if query.name_contains else None,
        )
        if query.ids is not None and not query.ids:
            return []
        return self.companies(conditions=conditions)

    def agreements(self, company_id: int) -> list[NamedRef]:
        params = {"conditions": equals("company/id", company_id)}
        return self._map_all("/finance/agreements", map_named_ref, "agreement", params)

    # ---- tickets --------------------------------------------------------------------------

    def iter_ticket_pages(
        self, *, updated_after: datetime | None = None, board_ids: Sequence[int] = ()
    ) -> Iterator[TicketPage]:
        """Tickets in id order, one mapped page at a time; unreadable ones are skipped."""
        conditions = changed_tickets(updated_after, board_ids)
        params = {"orderBy": "id asc"}
        if conditions:
            params["conditions"] = conditions
        for raw_page in self._requester.iter_pages("/service/tickets", params):
            records, skipped = map_tickets(raw_page)
            yield TicketPage(records=records, skipped=skipped, raw_count=len(raw_page))

    def count_tickets(self, *, conditions: str | None = None) -> int:
        params = {"conditions": conditions} if conditions else None
        data = self._requester.send("GET", "/service/tickets/count", params=params).data
        count = data.get("count") if isinstance(data, Mapping) else None
        if isinstance(count, bool) or not isinstance(count, int):
            raise ConnectWiseError(f"ConnectWise ticket count was not a number: {data!r:.200}")
        return count

    def count_changed_tickets(
        self, *, updated_after: datetime | None, board_ids: Sequence[int]
    ) -> int:
        return self.count_tickets(conditions=changed_tickets(updated_after, board_ids))

    def get_ticket_raw(self, ticket_id: int) -> dict[str, Any]:
        data = self._requester.send("GET", f"/service/tickets/{ticket_id}").data
        return expect_object(data, f"ticket {ticket_id}")

    def get_ticket(self, ticket_id: int) -> TicketRecord:
        return map_ticket(self.get_ticket_raw(ticket_id))

    def ticket_state(self, ticket_id: int) -> TicketState:
        """The ticket's fixable fields (board, company, agreement, type/subtype/item)."""
        return _state_of(ticket_id, self.get_ticket_raw(ticket_id))

    def ticket_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        path = f"/service/tickets/{ticket_id}/notes"
        return [note for page in self._requester.iter_pages(path, {}) for note in page]

    def notes(self, ticket_id: int) -> list[TicketNote]:
        """The ticket's notes, mapped; unreadable ones are logged and left out.

        One request for up to ``page_size`` notes (a ticket rarely has more). A deleted ticket
        raises ``psa.connectwise.errors.NotFound``.
        """
        return map_notes(self.ticket_notes(ticket_id), ticket_id=ticket_id)

    def patch_ticket(
        self,
        ticket_id: int,
        *,
        type_id: int | None = None,
        subtype_id: int | None = None,
        item_id: int | None = None,
        company_id: int | None = None,
        agreement_id: int | None = None,
        owner_id: int | None = None,
        current: TicketState | None = None,
        category_checked: bool = False,
    ) -> TicketRecord:
        """Replace type/subtype/item/company/agreement/owner; fields left None are not touched.

        A new type/subtype/item is checked, together with the ticket's current values for
        the levels not given, against the board's associations before anything is sent,
        unless ``category_checked`` (the caller checked it against those associations).
        """
        changes = (
            ("type", type_id),
            ("subType", subtype_id),
            ("item", item_id),
            ("company", company_id),
            ("agreement", agreement_id),
            ("owner", owner_id),
        )
        operations = [
            {"op": "replace", "path": path, "value": {"id": value}}
            for path, value in changes
            if value is not None
        ]
        if not operations:
            raise ValueError("patch_ticket needs at least one field to change")
        if (type_id, subtype_id, item_id) != (None, None, None) and not category_checked:
            state = current if current is not None else self.ticket_state(ticket_id)
            self._check_category(state, type_id, subtype_id, item_id)
        data = self._requester.send(
            "PATCH", f"/service/tickets/{ticket_id}", json_body=operations
        ).data
        return map_ticket(expect_object(data, f"patched ticket {ticket_id}"))

    def update_ticket(
        self,
        ticket_id: int,
        fields: TicketFields,
        *,
        current: TicketState | None = None,
        checked_against: Sequence[Association] | None = None,
    ) -> TicketRecord:
        """``patch_ticket`` with typed fields; ``current`` (the ticket as just read) spares
        reading it again, ``checked_against`` checking a new type/subtype/item again."""
        return self.patch_ticket(
            ticket_id,
            type_id=fields.type_id,
            subtype_id=fields.subtype_id,
            item_id=fields.item_id,
            company_id=fields.company_id,
            agreement_id=fields.agreement_id,
            owner_id=fields.owner_id,
            current=current,
            category_checked=checked_against is not None,
        )

    def add_internal_note(self, ticket_id: int, text: str) -> dict[str, Any]:
        """An internal-analysis note; ``processNotifications`` off, so nobody is e-mailed."""
        if not text.strip():
            raise ValueError("a note needs text")
        body = {
            "text": text,
            "internalAnalysisFlag": True,
            "detailDescriptionFlag": False,
            "resolutionFlag": False,
            "processNotifications": False,
        }
        data = self._requester.send(
            "POST", f"/service/tickets/{ticket_id}/notes", json_body=body
        ).data
        return expect_object(data, f"note on ticket {ticket_id}")

    # ---- callbacks (push) -----------------------------------------------------------------

    def callbacks(self) -> list[CallbackEntry]:
        """Every registered callback (``/system/callbacks``)."""
        return self._map_all("/system/callbacks", map_callback_entry, "callback")

    def register_callback(
        self, *, url: str, description: str, type: str = "ticket", level: str = "owner"
    ) -> CallbackEntry:
        """Register ``url`` for changes to every record of ``type`` (``objectId`` 1 with
        level ``owner``, as ConnectWise documents for "all tickets")."""
        body = {"url": url, "type": type, "level": level, "objectId": 1, "description": description}
        data = self._requester.send("POST", "/system/callbacks", json_body=body).data
        return map_callback_entry(expect_object(data, "the new callback"))

    def signing_key(self, key_url: str) -> str:
        """The callback signing key at ``key_url`` (an absolute URL on the ConnectWise site;
        the caller checks that). Raises ``ConnectWiseError`` when there is none."""
        data = self._requester.send("GET", httpx.URL(key_url)).data
        key = expect_object(data, "the callback signing key").get("signing_key")
        if not isinstance(key, str) or not key:
            raise ConnectWiseError("ConnectWise returned no signing_key for the callback key")
        return key

    def _check_category(
        self,
        state: TicketState,
        type_id: int | None,
        subtype_id: int | None,
        item_id: int | None,
    ) -> None:
        ticket_id, board_id = state.ticket_id, state.board_id
        if board_id is None:
            raise ValueError(f"ticket {ticket_id} has no board; cannot check type/subtype/item")
        effective_type = type_id if type_id is not None else state.type_id
        effective_subtype = subtype_id if subtype_id is not None else state.subtype_id
        effective_item = item_id if item_id is not None else state.item_id
        problem = invalid_combination(
            self.associations(board_id),
            type_id=effective_type,
            subtype_id=effective_subtype,
            item_id=effective_item,
        )
        if problem:
            raise ValueError(
                f"ticket {ticket_id} on board {board_id}: not a valid combination: {problem}"
                " (levels not given keep the ticket's current value)"
            )

    # ---- customer satisfaction ----------------------------------------------------------

    def iter_rating_pages(
        self,
        *,
        updated_after: datetime | None,
        positive_at: float,
        negative_at: float,
    ) -> Iterator[RatingPage]:
        return read_rating_pages(
            self._requester,
            updated_after=updated_after,
            positive_at=positive_at,
            negative_at=negative_at,
        )

    def ticket_workers(self, ticket_id: int) -> list[str]:
        return read_ticket_workers(self._requester, ticket_id)

    def _map_all(
        self,
        path: str,
        mapper: Callable[[Mapping[str, Any]], T],
        what: str,
        params: Mapping[str, str] | None = None,
    ) -> list[T]:
        mapped: list[T] = []
        for page in self._requester.iter_pages(path, params or {}):
            for raw in page:
                try:
                    mapped.append(mapper(raw if isinstance(raw, Mapping) else {}))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("skipping unreadable %s from %s: %s", what, path, exc)
        return mapped


def _implements_the_port(client: ConnectWiseClient) -> Psa:
    """mypy checks here that ``ConnectWiseClient`` implements every ``Psa`` operation."""
    return client

"""The ConnectWise REST API over a ``SimulationState``, without sockets: a request in, a
reply out. ``server.py`` puts it on HTTP.

Routes (under ``/{codebase}/apis/3.0``) and the 2025.1 model of what each serves:

- ``/service/tickets`` (+ ``/count``, ``/{id}`` GET and PATCH): Ticket; ``/{id}/notes`` GET
  and POST: ServiceNote.
- ``/service/boards``: Board; per board ``/{id}/statuses``: BoardStatus, ``/types``:
  BoardType, ``/subtypes``: BoardSubType, ``/items``: BoardItem,
  ``/typeSubTypeItemAssociations``: BoardTypeSubTypeItemAssociation, ``/teams``: BoardTeam.
- ``/service/priorities``: Priority; ``/service/sources``: Source; ``/system/members``:
  Member; ``/company/companies``: Company; ``/company/contacts``: Contact;
  ``/finance/agreements``: Agreement; ``/system/info``: Info.
- ``/system/callbacks`` (GET, POST, ``/count``, ``/{id}`` GET and DELETE): CallbackEntry;
  ``/system/callbackkeys/{id}``: the signing key callbacks are signed with.

Every list but notes also answers ``/count`` (``{"count": N}``, a Count) and ``/{id}``;
every list takes ``conditions``, ``orderBy``, ``fields``, ``page``/``pageSize`` and
forward-only paging.
Errors have ConnectWise's body: ``{"code", "message"}``, plus ``errors`` (``code``,
``message``, ``resource``, ``field``) for an invalid object.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from psa.connectwise.simulator.callbacks import CallbackRegistry
from psa.connectwise.simulator.conditions import (
    INFO_FIELDS,
    Condition,
    ConditionError,
    matches,
    parse_conditions,
    resolve,
)
from psa.connectwise.simulator.patching import Rejected, field_error, invalid
from psa.connectwise.simulator.state import SimulationState
from psa.connectwise.simulator.surveys import SurveyDesk
from psa.connectwise.simulator.ticket_fields import is_ticket_field

Json = dict[str, Any]
Row = TypeVar("Row")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25
NOTE_FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
FAILURE_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str  # relative to the API base, e.g. "/service/tickets"
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys in lower case
    body: bytes = b""


@dataclass(slots=True)
class ApiReply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(
    status: int, payload: object, headers: list[tuple[str, str]] | None = None
) -> ApiReply:
    return ApiReply(status, _ENCODER.encode(payload).encode("utf-8"), headers or [])


def error_reply(status: int, code: str, message: str) -> ApiReply:
    return json_reply(status, {"code": code, "message": message})


def basic_credentials(company: str, public_key: str, private_key: str) -> str:
    token = base64.b64encode(f"{company}+{public_key}:{private_key}".encode()).decode("ascii")
    return f"Basic {token}"


def _bad_request(message: str) -> Rejected:
    return Rejected(400, {"code": "InvalidObject", "message": message})


def _project(record: Json, fields: list[tuple[str, ...]]) -> Json:
    """Only the requested ``fields`` (paths like ``board/name``), nested as in the record."""
    out: Json = {}
    for path in fields:
        value = resolve(record, path)
        if value is None:
            continue
        if path[0].casefold() in INFO_FIELDS and path[0] not in record:
            path = ("_info", INFO_FIELDS[path[0].casefold()])
        target = out
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return out


class Api:
    def __init__(
        self,
        state: SimulationState,
        *,
        authorization: str,
        client_id: str,
        link_headers: bool = True,
        callbacks: CallbackRegistry | None = None,
        on_ticket_change: Callable[[int], None] | None = None,
    ) -> None:
        self.state = state
        self.authorization = authorization
        self.client_id = client_id
        self.link_headers = link_headers
        self.callbacks = callbacks or CallbackRegistry(company="simulated")
        self.on_ticket_change = on_ticket_change  # called with a ticket id after a PATCH
        self.failures: list[tuple[int, int | None]] = []  # injected (status, retry-after)
        self.surveys = SurveyDesk(state)

    # -- entry ---------------------------------------------------------------------------
    def handle(self, request: ApiRequest) -> ApiReply:
        if self.failures:
            status, retry_after = self.failures.pop(0)
            headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
            message = f"Simulated failure {status}."
            body = {"code": FAILURE_CODES.get(status, "Error"), "message": message}
            return json_reply(status, body, headers)
        problem = self._auth_problem(request)
        if problem:
            return error_reply(401, "Unauthorized", problem)
        try:
            return self._route(request)
        except Rejected as rejected:
            return json_reply(rejected.status, rejected.body)
        except LookupError as exc:  # the clock moved back under a request
            return error_reply(404, "NotFound", str(exc))

    def _auth_problem(self, request: ApiRequest) -> str:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        try:
            decoded = base64.b64decode(token, validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            decoded = b""
        expected = base64.b64decode(self.authorization.partition(" ")[2])
        if not decoded or decoded != expected:
            return "The API credentials (company+publicKey:privateKey) are not valid."
        if request.headers.get("clientid", "") != self.client_id:
            return "A valid clientId header is required."
        return ""

    def _route(self, request: ApiRequest) -> ApiReply:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if parts[:2] == ["service", "tickets"]:
            return self._tickets_route(request, parts[2:])
        if parts[:2] == ["system", "callbacks"]:
            return self._callbacks_route(request, parts[2:])
        if parts[:2] == ["service", "surveys"] or parts == ["time", "entries"]:
            return self._surveys_route(request, parts)
        if parts[:2] == ["system", "callbackkeys"] and len(parts) == 3 and method == "GET":
            if parts[2] != self.callbacks.key_id:
                raise Rejected(404, {"code": "NotFound", "message": "No such signing key."})
            return json_reply(200, {"signing_key": self.callbacks.signing_key})
        if parts == ["system", "info"] and method == "GET":
            return json_reply(
                200, {"version": "v2025.1.10431", "isCloud": True, "cloudRegion": "NA"}
            )
        items, rest = self._reference(parts)
        if items is None:
            raise Rejected(404, {"code": "NotFound", "message": f"No route for {request.path}"})
        if method != "GET":
            raise Rejected(405, {"code": "MethodNotAllowed", "message": f"{method} not allowed"})
        if rest == ["count"]:
            condition = self._condition(request, self._known_in(items))
            count = sum(1 for item in items if condition is None or matches(condition, item))
            return json_reply(200, {"count": count})
        if len(rest) == 1 and rest[0].isdigit():
            found = next((item for item in items if item.get("id") == int(rest[0])), None)
            if found is None:
                raise Rejected(404, {"code": "NotFound", "message": f"{rest[0]} was not found."})
            return json_reply(200, found)
        if rest:
            raise Rejected(404, {"code": "NotFound", "message": f"No route for {request.path}"})
        return self._list(request, items)

    def _reference(self, parts: list[str]) -> tuple[list[Json] | None, list[str]]:
        msp = self.state.msp
        collections: dict[tuple[str, str], list[Json]] = {
            ("service", "boards"): msp.boards,
            ("service", "priorities"): msp.priorities,
            ("service", "sources"): msp.sources,
            ("system", "members"): msp.members,
            ("company", "companies"): msp.companies,
            ("company", "contacts"): msp.contacts,
            ("finance", "agreements"): msp.agreements,
        }
        per_board: dict[str, dict[int, list[Json]]] = {
            "statuses": msp.statuses,
            "types": msp.types,
            "subtypes": msp.subtypes,
            "items": msp.items,
            "typesubtypeitemassociations": msp.associations,
            "teams": msp.teams,
        }
        if parts[:2] == ["service", "boards"] and len(parts) >= 4 and parts[2].isdigit():
            by_board = per_board.get(parts[3].lower())
            if by_board is not None:
                board_items = by_board.get(int(parts[2]))
                if board_items is None:
                    message = f"Board with id {parts[2]} was not found."
                    raise Rejected(404, {"code": "NotFound", "message": message})
                return board_items, parts[4:]
        items = collections.get((parts[0], parts[1])) if len(parts) >= 2 else None
        return items, parts[2:]

    # -- shared list machinery -----------------------------------------------------------
    @staticmethod
    def _known_in(items: list[Json]) -> Callable[[tuple[str, ...]], bool] | None:
        if not items:
            return None
        names = {key.casefold() for item in items for key in item} | set(INFO_FIELDS)
        return lambda path: path[0].casefold() in names

    @staticmethod
    def _condition(
        request: ApiRequest, known: Callable[[tuple[str, ...]], bool] | None
    ) -> Condition | None:
        text = request.query.get("conditions", "").strip()
        if not text:
            return None
        try:
            return parse_conditions(text, known=known)
        except ConditionError as exc:
            raise Rejected(400, {"code": "ApiFindCondition", "message": exc.message}) from None

    @staticmethod
    def _order(request: ApiRequest) -> tuple[tuple[str, ...], bool]:
        text = request.query.get("orderBy", "").strip() or "id asc"
        name, _, direction = text.partition(" ")
        if direction.strip().lower() not in ("", "asc", "desc"):
            raise _bad_request(f"orderBy {text!r} is not valid.")
        return tuple(name.split("/")), direction.strip().lower() == "desc"

    @staticmethod
    def _fields(request: ApiRequest) -> list[tuple[str, ...]]:
        text = request.query.get("fields", "")
        return [tuple(f.strip().split("/")) for f in text.split(",") if f.strip()]

    @staticmethod
    def _paging(request: ApiRequest) -> tuple[int, int, int]:
        """``pageSize`` (1 to 1000, default 25), ``page`` and ``pageId`` from the query."""
        query = request.query
        try:
            size = int(query.get("pageSize", DEFAULT_PAGE_SIZE))
            page = int(query.get("page", 1))
            page_id = int(query.get("pageId", 0))
        except ValueError:
            raise _bad_request("page, pageSize and pageId must be whole numbers.") from None
        return min(max(size, 1), MAX_PAGE_SIZE), page, page_id

    def _page(
        self, request: ApiRequest, rows: Sequence[Row], id_of: Callable[[Row], int]
    ) -> tuple[Sequence[Row], list[tuple[str, str]]]:
        """One page of ``rows`` and the ``Link`` header that leads on."""
        size, page, page_id = self._paging(request)
        links: list[str] = []
        if request.headers.get("pagination-type", "").lower() == "forward-only":
            start = bisect_right(rows, page_id, key=id_of)
            chunk = rows[start : start + size]
            if chunk and start + size < len(rows):
                links.append(self._link(request, "next", pageId=id_of(chunk[-1])))
        else:
            if page < 1:
                raise _bad_request("page must be 1 or more.")
            start = (page - 1) * size
            chunk = rows[start : start + size]
            last = max(1, math.ceil(len(rows) / size))
            if page > 1:
                links.append(self._link(request, "prev", page=page - 1))
                links.append(self._link(request, "first", page=1))
            if page < last:
                links.append(self._link(request, "next", page=page + 1))
                links.append(self._link(request, "last", page=last))
        if not self.link_headers or not links:
            return chunk, []
        return chunk, [("Link", ", ".join(links))]

    def _link(self, request: ApiRequest, rel: str, **changes: int) -> str:
        params = {k: v for k, v in request.query.items() if k not in ("page", "pageId")}
        params.update({k: str(v) for k, v in changes.items()})
        params.setdefault("pageSize", str(DEFAULT_PAGE_SIZE))
        url = f"{self.state.base_url}{request.path}?{urlencode(params, quote_via=quote)}"
        return f'<{url}>; rel="{rel}"'

    def _list(self, request: ApiRequest, items: list[Json]) -> ApiReply:
        condition = self._condition(request, self._known_in(items))
        rows = [item for item in items if condition is None or matches(condition, item)]
        path, descending = self._order(request)
        forward = request.headers.get("pagination-type", "").lower() == "forward-only"
        if forward:
            rows.sort(key=lambda item: item.get("id", 0))
        elif path != ("id",) or descending:
            rows = _sorted(rows, path, descending)
        chunk, headers = self._page(request, rows, lambda item: int(item.get("id", 0)))
        fields = self._fields(request)
        payload = [_project(item, fields) if fields else item for item in chunk]
        return json_reply(200, payload, headers)

    # -- surveys and time entries (psa.connectwise.simulator.surveys) --------------------
    def _surveys_route(self, request: ApiRequest, parts: list[str]) -> ApiReply:
        if request.method != "GET":
            raise Rejected(405, {"code": "MethodNotAllowed", "message": "Only GET here."})
        items: list[Json] | None = None
        if parts == ["time", "entries"]:
            items = self.surveys.time_entries(request.query.get("conditions", ""))
        elif len(parts) == 2:
            items = self.surveys.surveys()
        elif len(parts) == 4 and parts[2].isdigit() and parts[3] == "questions":
            items = self.surveys.questions(int(parts[2]))
        elif len(parts) == 4 and parts[2].isdigit() and parts[3] == "results":
            items = self.surveys.results(int(parts[2]))
        if items is None:
            raise Rejected(404, {"code": "NotFound", "message": f"No route for {request.path}"})
        return self._list(request, items)

    # -- callbacks -----------------------------------------------------------------------
    def _callbacks_route(self, request: ApiRequest, rest: list[str]) -> ApiReply:
        method = request.method
        if not rest and method == "GET":
            return self._list(request, list(self.callbacks.entries))
        if rest == ["count"] and method == "GET":
            entries = list(self.callbacks.entries)
            condition = self._condition(request, self._known_in(entries))
            count = sum(1 for e in entries if condition is None or matches(condition, e))
            return json_reply(200, {"count": count})
        if not rest and method == "POST":
            return json_reply(201, self.callbacks.register(_callback_body(request)))
        if len(rest) == 1 and rest[0].isdigit():
            entry_id = int(rest[0])
            found = next((e for e in self.callbacks.entries if e["id"] == entry_id), None)
            if found is None:
                message = f"Callback with id {entry_id} was not found."
                raise Rejected(404, {"code": "NotFound", "message": message})
            if method == "GET":
                return json_reply(200, found)
            if method == "DELETE":
                self.callbacks.remove(entry_id)
                return ApiReply(204, b"")
        raise Rejected(405, {"code": "MethodNotAllowed", "message": f"{method} not allowed"})

    # -- tickets -------------------------------------------------------------------------
    def _tickets_route(self, request: ApiRequest, rest: list[str]) -> ApiReply:
        method = request.method
        if not rest and method == "GET":
            return self._ticket_list(request)
        if rest == ["count"] and method == "GET":
            condition_text = request.query.get("conditions", "").strip()
            positions, _ = self.state.query(
                self._condition(request, is_ticket_field), condition_text
            )
            return json_reply(200, {"count": len(positions)})
        if not rest or not rest[0].isdigit():
            raise Rejected(404, {"code": "NotFound", "message": f"No route for {request.path}"})
        ticket_id = int(rest[0])
        position = self.state.position(ticket_id)
        if position is None:
            message = f"Ticket with id {ticket_id} was not found."
            raise Rejected(404, {"code": "NotFound", "message": message})
        if rest[1:] == [] and method == "GET":
            fields = self._fields(request)
            ticket = self.state.render(position)
            return json_reply(200, _project(ticket, fields) if fields else ticket)
        if rest[1:] == [] and method == "PATCH":
            patched = self.state.patch(position, _json_body(request))
            if self.on_ticket_change is not None:
                self.on_ticket_change(ticket_id)
            return json_reply(200, patched)
        if rest[1:] == ["notes"] and method == "GET":
            return self._list(request, self.state.notes(position))
        if rest[1:] == ["notes"] and method == "POST":
            return json_reply(201, self.state.add_note(position, _note_body(request)))
        if rest[1:] in ([], ["notes"]):
            raise Rejected(405, {"code": "MethodNotAllowed", "message": f"{method} not allowed"})
        raise Rejected(404, {"code": "NotFound", "message": f"No route for {request.path}"})

    def _ticket_list(self, request: ApiRequest) -> ApiReply:
        condition = self._condition(request, is_ticket_field)
        if request.headers.get("pagination-type", "").lower() == "forward-only":
            size, _, page_id = self._paging(request)
            chunk, more, clock = self.state.query_after(condition, after_id=page_id, limit=size)
            headers: list[tuple[str, str]] = []
            if more and self.link_headers:
                last_id = self.state.ids[chunk[-1]]
                headers.append(("Link", self._link(request, "next", pageId=last_id)))
        else:
            text = request.query.get("conditions", "").strip()
            positions, clock = self.state.query(condition, text)
            path, descending = self._order(request)
            if path == ("id",) and descending:
                positions = positions[::-1]
            elif path != ("id",):
                rendered = {p: self.state.render(p, clock) for p in positions}
                positions = _sorted_by(positions, lambda p: resolve(rendered[p], path), descending)
            ids = self.state.ids
            page, headers = self._page(request, positions, lambda p: ids[p])
            chunk = list(page)
        tickets = [self.state.render(p, clock) for p in chunk]
        fields = self._fields(request)
        if fields:
            tickets = [_project(ticket, fields) for ticket in tickets]
        return json_reply(200, tickets, headers)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first, then numbers, then text (case-insensitive), like SQL Server would."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value).casefold())


def _sorted_by(rows: Sequence[Row], value_of: Callable[[Row], Any], descending: bool) -> list[Row]:
    return sorted(rows, key=lambda row: _sort_key(value_of(row)), reverse=descending)


def _sorted(rows: list[Json], path: tuple[str, ...], descending: bool) -> list[Json]:
    return _sorted_by(rows, lambda row: resolve(row, path), descending)


def _json_body(request: ApiRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise invalid([field_error("InvalidField", "the body is not JSON", "")]) from None


def _callback_body(request: ApiRequest) -> Json:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise invalid([field_error("InvalidField", "expected a callback object", "")], "callback")
    errors: list[Json] = []
    url = body.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(field_error("InvalidField", "url must be an http(s) URL", "url", "callback"))
    for name in ("type", "level"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            message = f"{name} is required"
            errors.append(field_error("MissingRequiredField", message, name, "callback"))
    object_id = body.get("objectId")
    if isinstance(object_id, bool) or not isinstance(object_id, int):
        message = "objectId must be a number"
        errors.append(field_error("InvalidField", message, "objectId", "callback"))
    if errors:
        raise invalid(errors, "callback")
    return body


def _note_body(request: ApiRequest) -> Json:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise invalid([field_error("InvalidField", "expected a note object", "")], "ticketNote")
    errors: list[Json] = []
    if not isinstance(body.get("text"), str) or not body["text"].strip():
        errors.append(field_error("MissingRequiredField", "text is required", "text", "ticketNote"))
    if not any(body.get(flag) is True for flag in NOTE_FLAGS):
        message = (
            "One of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true"
        )
        errors.append(field_error("InvalidField", message, "detailDescriptionFlag", "ticketNote"))
    if errors:
        raise invalid(errors, "ticketNote")
    return body

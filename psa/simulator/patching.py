"""``PATCH /service/tickets/{id}``: a JSON-patch array checked the way ConnectWise checks it.

Supported paths (no leading slash, as ConnectWise writes them): ``type``, ``subType``,
``item``, ``company``, ``agreement``, ``status``. Values are references (``{"id": 12}``,
or ``{"name": ...}`` / ``{"identifier": ...}``); ``null`` or ``op: remove`` clears an
optional one. The resulting type/subtype/item must be a combination the board's
``typeSubTypeItemAssociations`` allow, and an agreement must belong to the company.
A status change also does what ConnectWise does around it: a resolved status sets
``dateResolved``/``resolvedBy``, a closed status ``closedFlag``/``closedDate``/``closedBy``,
and an open status after a resolved one clears them (a reopen).
"""

from __future__ import annotations

from typing import Any

from psa.simulator.model import SimulatedMSP

Json = dict[str, Any]
PATHS = {p.casefold(): p for p in ("type", "subType", "item", "company", "agreement", "status")}
OPTIONAL = {"type", "subType", "item", "agreement"}


class Rejected(Exception):
    """A request ConnectWise would refuse: ``status`` and the error body to send."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def invalid(errors: list[Json], resource: str = "ticket") -> Rejected:
    return Rejected(
        400,
        {"code": "InvalidObject", "message": f"{resource} object is invalid", "errors": errors},
    )


def field_error(code: str, message: str, field: str, resource: str = "ticket") -> Json:
    return {"code": code, "message": message, "resource": resource, "field": field}


def _ref(full: Json, kind: str) -> Json:
    if kind == "company":
        return {"id": full["id"], "identifier": full["identifier"], "name": full["name"]}
    return {"id": full["id"], "name": full["name"]}


def _find(value: object, candidates: list[Json], kind: str) -> Json:
    if not isinstance(value, dict):
        raise invalid([field_error("InvalidField", f"{kind} must be an object", kind)])
    for key in ("id", "identifier", "name"):
        wanted = value.get(key)
        if wanted is None:
            continue
        for candidate in candidates:
            have = candidate.get(key)
            if have == wanted or (
                isinstance(have, str)
                and isinstance(wanted, str)
                and have.casefold() == wanted.casefold()
            ):
                return candidate
        raise invalid([field_error("NotFound", f"{kind} {wanted} not found", f"{kind}/{key}")])
    raise invalid([field_error("InvalidField", f"{kind} needs an id", f"{kind}/id")])


def _operations(ops: object) -> list[tuple[str, object]]:
    if not isinstance(ops, list) or not ops:
        raise invalid([field_error("InvalidField", "expected a JSON-patch array", "")])
    parsed: list[tuple[str, object]] = []
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("replace", "add", "remove"):
            raise invalid([field_error("InvalidField", f"unsupported operation {op!r}", "op")])
        path = str(op.get("path", "")).lstrip("/")
        canonical = PATHS.get(path.casefold())
        if canonical is None:
            message = f"path {path!r} cannot be patched on this server"
            raise invalid([field_error("InvalidField", message, path)])
        parsed.append((canonical, None if op["op"] == "remove" else op.get("value")))
    return parsed


def _check_categories(result: Json, board_id: int, msp: SimulatedMSP) -> None:
    kind, sub, item = result.get("type"), result.get("subType"), result.get("item")
    board = next(b["name"] for b in msp.boards if b["id"] == board_id)
    if kind is None:
        if sub is not None or item is not None:
            message = "a subtype or item needs a type"
            raise invalid([field_error("InvalidField", message, "type")])
        return
    allowed = [a for a in msp.associations[board_id] if a["type"]["id"] == kind["id"]]
    if sub is not None:
        allowed = [a for a in allowed if a["subType"]["id"] == sub["id"]]
        if not allowed:
            message = f"subType {sub['name']} is not valid for type {kind['name']} on {board}"
            raise invalid([field_error("InvalidField", message, "subType")])
    if item is not None and not any(a["item"]["id"] == item["id"] for a in allowed):
        combination = "/".join(r["name"] for r in (kind, sub) if r is not None)
        message = f"item {item['name']} is not valid for {combination} on {board}"
        raise invalid([field_error("InvalidField", message, "item")])


def status_changes(state: Json, status: Json, *, at: str, by: str) -> Json:
    """The fields a move to ``status`` (a board status object) changes."""
    changes: Json = {"status": _ref(status, "status")}
    resolved = status.get("escalationStatus") == "Resolved" or status.get("closedStatus") is True
    responds = status.get("escalationStatus") != "NotResponded"
    if responds and "dateResponded" not in state:
        changes.update(dateResponded=at, respondedBy=by)
    if resolved:
        if "dateResolved" not in state:
            changes.update(dateResolved=at, resolvedBy=by, slaStatus="Resolved")
        if status.get("closedStatus") is True and state.get("closedFlag") is not True:
            changes.update(closedFlag=True, closedDate=at, closedBy=by)
        elif status.get("closedStatus") is not True and state.get("closedFlag") is True:
            changes.update(closedFlag=False, closedDate=None, closedBy=None)
    elif "dateResolved" in state or state.get("closedFlag") is True:
        changes.update(dateResolved=None, resolvedBy=None)
        changes.update(closedFlag=False, closedDate=None, closedBy=None)
    return changes


def build_patch(ops: object, *, state: Json, msp: SimulatedMSP, at: str, by: str) -> Json:
    """The changes ``ops`` make to a ticket whose JSON is ``state``; raises ``Rejected``."""
    board_id = state["board"]["id"]
    candidates = {
        "type": msp.types[board_id],
        "subType": msp.subtypes[board_id],
        "item": msp.items[board_id],
        "company": msp.companies,
        "agreement": msp.agreements,
        "status": msp.statuses[board_id],
    }
    changes: Json = {}
    new_status: Json | None = None
    for path, value in _operations(ops):
        if value is None:
            if path not in OPTIONAL:
                raise invalid([field_error("InvalidField", f"{path} is required", path)])
            changes[path] = None
            continue
        found = _find(value, candidates[path], path)
        if path == "status":
            if found.get("inactive") is True:
                message = f"status {found['name']} is inactive"
                raise invalid([field_error("InvalidField", message, "status")])
            new_status = found
        changes[path] = _ref(found, path)
    result = {**state, **changes}
    _check_categories(result, board_id, msp)
    agreement = result.get("agreement")
    if agreement is not None:
        owner = next(a["company"]["id"] for a in msp.agreements if a["id"] == agreement["id"])
        if owner != result["company"]["id"]:
            message = (
                f"agreement {agreement['id']} does not belong to company {result['company']['id']}"
            )
            raise invalid([field_error("InvalidField", message, "agreement/id")])
    if new_status is not None:
        changes.update(status_changes(state, new_status, at=at, by=by))
    return changes

"""``PATCH /service/tickets/{id}``: a JSON Patch array applied the way ConnectWise applies it.

Operations are ``replace`` and ``add`` (the same thing for a ticket's fields) and ``remove``
(clears an optional field; so does a ``null`` value). A path names a field of the 2025.1
Ticket model, in any letter case and without a leading slash as ConnectWise's clients write
it (one is tolerated); a reference may be named one level down, with the bare value:
``status/id``, ``status/name``, ``owner/identifier``, ``owner/id``, ``board/id``,
``priority/id``, ``type/id``, ``company/id``, ``contact/id``... while ``status`` itself
takes ``{"id": 12}`` (or ``{"name": ...}``, ``{"identifier": ...}``).

What a path may do (``WRITABLE``, ``READ_ONLY``, ``POST_ONLY``, ``IGNORED``):

- References must name an object of the simulated MSP, else 400 ``NotFound``: board,
  status and team (of the ticket's board), type/subType/item (of its board), company,
  contact, agreement, owner (an active member), priority, source, serviceLocation, site (the
  company's), country, location, department. workRole, workType and opportunity are fields
  too, but the MSP has none of them, so any value is not found.
- Scalars must have the model's JSON type, enumeration and maximum length: summary (1 to
  100 characters), severity and impact (which cannot be removed: "Required On Updates"),
  requiredDate and estimatedStartDate (ConnectWise timestamps), budgetHours, duration,
  resources, the site address and contact details, flags, billing settings, integratorTags,
  customFields (``[{"id", "value"}]`` for the MSP's ticket custom fields).
- Read-only fields (id, _info, recordType, the response, plan and resolution stamps and who
  did them, SLA minutes, hours and status, closedDate/closedBy, actualHours, costs and
  revenues, mobileGuid, currency, sla, merges, parents and knowledge-base links) answer 400,
  as do POST-only ones (initialDescription...) and names that are not Ticket fields.
- processNotifications and skipCallback are accepted and change nothing stored.

A refused PATCH changes nothing: the body is ConnectWise's ``{"code": "InvalidObject",
"message": "ticket object is invalid", "errors": [{"code", "message", "resource": "ticket",
"field"}]}``. Rules are checked on the ticket as it would be after every operation:

- type/subType/item must be a combination the board's ``typeSubTypeItemAssociations``
  allow; an agreement must belong to the company; a contact set here must belong to it.
- A new board keeps the status of the same name on that board (else its default status),
  drops a type, subtype or item that board does not have, and takes its team, unless the
  PATCH sets them.
- A status change does what ConnectWise does around it: a resolved status sets
  ``dateResolved``/``resolvedBy``, a closed one ``closedFlag``/``closedDate``/``closedBy``,
  and an open status after a resolved one clears them (a reopen). ``closedFlag`` true moves
  an open ticket to the board's closed status, false a closed one to the default status
  (when the PATCH sets no status).
- A new company brings its site and the site's address; a new owner joins ``resources``;
  a new priority brings its SLA targets (``respondedHours``, ``resplanHours``,
  ``resolutionHours``); a new contact brings its name, e-mail address and phone number
  (removing the contact removes them).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from psa.connectwise.simulator import catalog
from psa.connectwise.simulator.model import CONSTANT_FIELDS, SimulatedMSP
from psa.connectwise.simulator.reference import contact_email, contact_phone

Json = dict[str, Any]
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
BILLABLE = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
BILLING_METHODS = ("ActualRates", "FixedFee", "NotToExceed", "OverrideRate")
LEVELS = ("Low", "Medium", "High")


class Scalar(NamedTuple):
    kind: str  # "string", "number", "integer", "boolean", "datetime", "strings"
    limit: int = 0  # maximum length of a string
    choices: tuple[str, ...] = ()


REFERENCES = (
    "board", "status", "workRole", "workType", "company", "site", "country", "contact", "type",
    "subType", "item", "team", "owner", "priority", "serviceLocation", "source", "opportunity",
    "agreement", "location", "department",
)  # fmt: skip
SCALARS: dict[str, Scalar] = {
    "summary": Scalar("string", 100),
    "siteName": Scalar("string", 50),
    "addressLine1": Scalar("string", 50),
    "addressLine2": Scalar("string", 50),
    "city": Scalar("string", 50),
    "stateIdentifier": Scalar("string", 50),
    "zip": Scalar("string", 12),
    "contactName": Scalar("string", 62),
    "contactPhoneNumber": Scalar("string", 20),
    "contactPhoneExtension": Scalar("string", 15),
    "contactEmailAddress": Scalar("string", 250),
    "requiredDate": Scalar("datetime"),
    "budgetHours": Scalar("number"),
    "severity": Scalar("string", choices=LEVELS),
    "impact": Scalar("string", choices=LEVELS),
    "externalXRef": Scalar("string", 100),
    "poNumber": Scalar("string", 50),
    "knowledgeBaseCategoryId": Scalar("integer"),
    "knowledgeBaseSubCategoryId": Scalar("integer"),
    "allowAllClientsPortalView": Scalar("boolean"),
    "customerUpdatedFlag": Scalar("boolean"),
    "automaticEmailContactFlag": Scalar("boolean"),
    "automaticEmailResourceFlag": Scalar("boolean"),
    "automaticEmailCcFlag": Scalar("boolean"),
    "automaticEmailCc": Scalar("string", 1000),
    "closedFlag": Scalar("boolean"),
    "approved": Scalar("boolean"),
    "billingMethod": Scalar("string", choices=BILLING_METHODS),
    "billingAmount": Scalar("number"),
    "hourlyRate": Scalar("number"),
    "subBillingMethod": Scalar("string", choices=BILLING_METHODS),
    "subBillingAmount": Scalar("number"),
    "subDateAccepted": Scalar("string"),
    "resources": Scalar("string"),
    "billTime": Scalar("string", choices=BILLABLE),
    "billExpenses": Scalar("string", choices=BILLABLE),
    "billProducts": Scalar("string", choices=BILLABLE),
    "predecessorType": Scalar("string", choices=("Ticket", "Phase")),
    "predecessorId": Scalar("integer"),
    "lagDays": Scalar("integer"),
    "lagNonworkingDaysFlag": Scalar("boolean"),
    "estimatedStartDate": Scalar("datetime"),
    "duration": Scalar("integer"),
    "requestForChangeFlag": Scalar("boolean"),
    "integratorTags": Scalar("strings"),
}
SPECIAL = ("customFields",)
WRITABLE = frozenset((*REFERENCES, *SCALARS, *SPECIAL))
_READ_ONLY = """
    id _info recordType agreementType closedDate closedBy actualHours estimatedExpenseCost
    estimatedExpenseRevenue estimatedProductCost estimatedProductRevenue estimatedTimeCost
    estimatedTimeRevenue dateResolved dateResplan dateResponded resolveMinutes resPlanMinutes
    respondMinutes isInSla knowledgeBaseLinkId knowledgeBaseLinkType parentTicketId
    hasChildTicket hasMergedChildTicketFlag predecessorClosedFlag mobileGuid sla slaStatus
    currency mergedParentTicket escalationStartDateUTC escalationLevel minutesBeforeWaiting
    respondedSkippedMinutes resplanSkippedMinutes respondedHours respondedBy resplanHours
    resplanBy resolutionHours resolvedBy minutesWaiting
"""
READ_ONLY = frozenset(_READ_ONLY.split())
POST_ONLY = frozenset(
    {
        "initialDescription",
        "initialInternalAnalysis",
        "initialResolution",
        "initialDescriptionFrom",
        "contactEmailLookup",
    }
)
IGNORED = frozenset({"processNotifications", "skipCallback"})
_FIELDS = {name.casefold(): name for name in WRITABLE | READ_ONLY | POST_ONLY | IGNORED}
REQUIRED = frozenset(
    {"board", "status", "company", "priority", "summary", "severity", "impact", "closedFlag"}
)
REFERENCE_KEYS = {"id": "id", "identifier": "identifier", "name": "name"}
_REMOVE = object()  # an operation that clears the field


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


def _refuse(code: str, message: str, field: str) -> Rejected:
    return invalid([field_error(code, message, field)])


# -- reading the operations -----------------------------------------------------------------
def _operations(ops: object) -> dict[str, object]:
    """Each field the operations set, with its value (``_REMOVE`` to clear it); a later
    operation on a field replaces an earlier one."""
    if not isinstance(ops, list) or not ops:
        raise _refuse("InvalidField", "expected a JSON-patch array", "")
    requested: dict[str, object] = {}
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("replace", "add", "remove"):
            raise _refuse("InvalidField", f"unsupported operation {op!r}", "op")
        path = str(op.get("path", "")).strip().removeprefix("/")
        name, *rest = path.split("/")
        field = _FIELDS.get(name.casefold())
        if field is None:
            raise _refuse("InvalidField", f"{path!r} is not a field of a ticket", path)
        if field in READ_ONLY:
            raise _refuse("InvalidField", f"{field} is read-only", field)
        if field in POST_ONLY:
            raise _refuse("InvalidField", f"{field} can only be set on a new ticket", field)
        key = REFERENCE_KEYS.get(rest[0].casefold()) if len(rest) == 1 else None
        if rest and (field not in REFERENCES or key is None):
            raise _refuse("InvalidField", f"{path!r} cannot be patched", path)
        if op["op"] == "remove":
            requested[field] = _REMOVE
            continue
        if "value" not in op:
            raise _refuse("MissingRequiredField", f"{op['op']} {path!r} needs a value", path)
        value = op["value"]
        if value is None:
            requested[field] = _REMOVE
        else:
            requested[field] = {key: value} if key is not None else value
    return requested


def _scalar(field: str, value: object) -> object:
    spec = SCALARS[field]
    expected: tuple[type, ...] = {
        "string": (str,),
        "datetime": (str,),
        "number": (int, float),
        "integer": (int,),
        "boolean": (bool,),
        "strings": (list,),
    }[spec.kind]
    if isinstance(value, bool) != (spec.kind == "boolean") or not isinstance(value, expected):
        raise _refuse("InvalidField", f"{field} must be a {spec.kind}", field)
    if spec.kind == "strings" and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        raise _refuse("InvalidField", f"{field} must be a list of strings", field)
    if isinstance(value, str):
        if spec.limit and len(value) > spec.limit:
            message = f"{field} is longer than {spec.limit} characters"
            raise _refuse("InvalidField", message, field)
        if spec.choices and value not in spec.choices:
            message = f"{field} must be one of {', '.join(spec.choices)}"
            raise _refuse("InvalidField", message, field)
        if spec.kind == "datetime" and not TIMESTAMP.fullmatch(value):
            message = f"{field} must be a date like 2026-09-30T00:00:00Z"
            raise _refuse("InvalidField", message, field)
        if field == "summary" and not value.strip():
            raise _refuse("MissingRequiredField", "summary is required", field)
    return value


def _custom_fields(value: object, current: list[Json]) -> list[Json]:
    """The ticket's custom fields with the values ``[{"id", "value"}]`` sets."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _refuse("InvalidField", "customFields must be a list of objects", "customFields")
    result = {field["id"]: dict(field) for field in current}
    for given in value:
        known = result.get(given.get("id"))
        if known is None:
            message = f"custom field {given.get('id')!r} not found"
            raise _refuse("NotFound", message, "customFields/id")
        if given.get("value") is None:
            known.pop("value", None)
        else:
            known["value"] = given["value"]
    return list(result.values())


# -- references -----------------------------------------------------------------------------
def _find(value: object, candidates: list[Json], kind: str) -> Json:
    if not isinstance(value, dict):
        raise _refuse("InvalidField", f"{kind} must be an object", kind)
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
        raise _refuse("NotFound", f"{kind} {wanted} not found", f"{kind}/{key}")
    raise _refuse("InvalidField", f"{kind} needs an id", f"{kind}/id")


def _ref(full: Json, kind: str) -> Json:
    """The reference a ticket embeds for ``full`` (a candidate of ``kind``)."""
    if kind in ("company", "owner"):
        return {"id": full["id"], "identifier": full["identifier"], "name": full["name"]}
    if kind == "department":
        return {"id": full["id"], "identifier": full["identifier"], "name": full["name"]}
    if kind == "priority":
        return {"id": full["id"], "name": full["name"], "sort": full["sortOrder"]}
    return {"id": full["id"], "name": full["name"]}


def _named(people: list[Json]) -> list[Json]:
    """Members or contacts with the ``name`` their references carry."""
    return [{**p, "name": f"{p['firstName']} {p['lastName']}"} for p in people]


def _candidates(msp: SimulatedMSP, board_id: int, company_id: int) -> dict[str, list[Json]]:
    return {
        "status": msp.statuses[board_id],
        "type": msp.types[board_id],
        "subType": msp.subtypes[board_id],
        "item": msp.items[board_id],
        "team": msp.teams[board_id],
        "contact": _named(msp.contacts),
        "agreement": msp.agreements,
        "owner": _named(msp.members),
        "priority": msp.priorities,
        "source": msp.sources,
        "serviceLocation": [{"id": i, "name": n} for i, n in catalog.SERVICE_LOCATIONS],
        "site": [c["site"] for c in msp.companies if c["id"] == company_id],
        "country": [{"id": catalog.COUNTRY[0], "name": catalog.COUNTRY[1]}],
        "location": [CONSTANT_FIELDS["location"]],
        "department": [CONSTANT_FIELDS["department"]],
        "workRole": [],
        "workType": [],
        "opportunity": [],
    }


def _check_categories(result: Json, board_id: int, msp: SimulatedMSP) -> None:
    kind, sub, item = result.get("type"), result.get("subType"), result.get("item")
    board = next(b["name"] for b in msp.boards if b["id"] == board_id)
    if kind is None:
        if sub is not None or item is not None:
            raise _refuse("InvalidField", "a subtype or item needs a type", "type")
        return
    allowed = [a for a in msp.associations[board_id] if a["type"]["id"] == kind["id"]]
    if sub is not None:
        allowed = [a for a in allowed if a["subType"]["id"] == sub["id"]]
        if not allowed:
            message = f"subType {sub['name']} is not valid for type {kind['name']} on {board}"
            raise _refuse("InvalidField", message, "subType")
    if item is not None and not any(a["item"]["id"] == item["id"] for a in allowed):
        combination = "/".join(r["name"] for r in (kind, sub) if r is not None)
        message = f"item {item['name']} is not valid for {combination} on {board}"
        raise _refuse("InvalidField", message, "item")


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


# -- the patch ------------------------------------------------------------------------------
def build_patch(ops: object, *, state: Json, msp: SimulatedMSP, at: str, by: str) -> Json:
    """The changes ``ops`` make to a ticket whose JSON is ``state``; raises ``Rejected``."""
    requested = _operations(ops)
    for field in REQUIRED:
        if requested.get(field) is _REMOVE:
            raise _refuse("MissingRequiredField", f"{field} is required", field)
    changes: Json = {}
    for field, value in requested.items():
        if field in SCALARS:
            checked = None if value is _REMOVE else _scalar(field, value)
            if field != "closedFlag":  # a status move below, if it changes anything
                changes[field] = checked
    if "customFields" in requested:
        value = requested["customFields"]
        current = state.get("customFields", [])
        changes["customFields"] = _custom_fields([] if value is _REMOVE else value, current)

    board_id = state["board"]["id"]
    if "board" in requested:
        board = _find(requested["board"], msp.boards, "board")
        changes["board"] = _ref(board, "board")
        board_id = board["id"]
    company_id = state["company"]["id"]
    if "company" in requested:
        company = _find(requested["company"], msp.companies, "company")
        changes["company"] = _ref(company, "company")
        company_id = company["id"]
        if company_id != state["company"]["id"]:
            _follow_company(requested, company, changes)
    candidates = _candidates(msp, board_id, company_id)
    found: dict[str, Json] = {}
    for field in REFERENCES:
        if field in ("board", "company") or field not in requested:
            continue
        if requested[field] is _REMOVE:
            changes[field] = None
            continue
        found[field] = _find(requested[field], candidates[field], field)
        changes[field] = _ref(found[field], field)

    new_status = _status_move(state, requested, found, candidates, board_id)
    if board_id != state["board"]["id"]:
        _follow_board(state, requested, changes, candidates)
    result = {key: value for key, value in {**state, **changes}.items() if value is not None}
    _check_categories(result, board_id, msp)
    _check_agreement(result, msp)
    if "contact" in requested:
        _follow_contact(requested, found.get("contact"), changes, company_id)
    if "owner" in found:
        _follow_owner(state, requested, found["owner"], changes)
    if "priority" in found:
        _follow_priority(found["priority"], changes)
    if new_status is not None and new_status["id"] != state["status"]["id"]:
        changes.update(status_changes(state, new_status, at=at, by=by))
    return changes


def _status_move(
    state: Json,
    requested: dict[str, object],
    found: dict[str, Json],
    candidates: dict[str, list[Json]],
    board_id: int,
) -> Json | None:
    """The board status the ticket moves to, if any: the one named, the closed or default
    one ``closedFlag`` asks for, or the same status on a new board."""
    statuses = candidates["status"]
    if "status" in found:
        status = found["status"]
        if status.get("inactive") is True:
            raise _refuse("InvalidField", f"status {status['name']} is inactive", "status")
        return status
    flag = requested.get("closedFlag")
    if isinstance(flag, bool):
        if flag and state.get("closedFlag") is not True:
            return next(s for s in statuses if s["closedStatus"] and not s["inactive"])
        if not flag and state.get("closedFlag") is True:
            return next(s for s in statuses if s["defaultFlag"])
    if board_id != state["board"]["id"]:
        name = state["status"]["name"].casefold()
        same = next((s for s in statuses if s["name"].casefold() == name), None)
        return same or next(s for s in statuses if s["defaultFlag"])
    return None


def _follow_board(
    state: Json, requested: dict[str, object], changes: Json, candidates: dict[str, list[Json]]
) -> None:
    """A new board: categories it lacks go, its team comes (unless the PATCH says)."""
    for kind in ("type", "subType", "item"):
        if kind in state and kind not in requested:
            ids = {c["id"] for c in candidates[kind]}
            if state[kind]["id"] not in ids:
                changes[kind] = None
    if "team" not in requested and candidates["team"]:
        changes["team"] = _ref(candidates["team"][0], "team")


def _follow_company(requested: dict[str, object], company: Json, changes: Json) -> None:
    """A new company: its site and the site's address (unless the PATCH says)."""
    address = {
        "site": company["site"],
        "siteName": company["site"]["name"],
        "addressLine1": company.get("addressLine1"),
        "addressLine2": company.get("addressLine2"),
        "city": company.get("city"),
        "stateIdentifier": company.get("state"),
        "zip": company.get("zip"),
        "country": company.get("country"),
    }
    for field, value in address.items():
        if field not in requested:
            changes[field] = value


def _check_agreement(result: Json, msp: SimulatedMSP) -> None:
    agreement = result.get("agreement")
    if agreement is None:
        return
    owner = next(a["company"]["id"] for a in msp.agreements if a["id"] == agreement["id"])
    if owner != result["company"]["id"]:
        company = result["company"]["id"]
        message = f"agreement {agreement['id']} does not belong to company {company}"
        raise _refuse("InvalidField", message, "agreement/id")


def _follow_contact(
    requested: dict[str, object], contact: Json | None, changes: Json, company_id: int
) -> None:
    """The contact's name, e-mail address and phone number (none when it is removed)."""
    details: dict[str, str | None] = dict.fromkeys(
        ("contactName", "contactEmailAddress", "contactPhoneNumber")
    )
    if contact is not None:
        if contact["company"]["id"] != company_id:
            message = f"contact {contact['id']} does not belong to company {company_id}"
            raise _refuse("InvalidField", message, "contact/id")
        details = {
            "contactName": contact["name"],
            "contactEmailAddress": contact_email(contact) or None,
            "contactPhoneNumber": contact_phone(contact) or None,
        }
    for field, value in details.items():
        if field not in requested:
            changes[field] = value


def _follow_owner(state: Json, requested: dict[str, object], owner: Json, changes: Json) -> None:
    if owner.get("inactiveFlag") is True:
        raise _refuse("InvalidField", f"member {owner['identifier']} is inactive", "owner")
    if "resources" in requested:
        return
    people = [p.strip() for p in str(state.get("resources", "")).split(",") if p.strip()]
    if owner["identifier"].casefold() not in {p.casefold() for p in people}:
        changes["resources"] = ", ".join([*people, owner["identifier"]])


def _follow_priority(priority: Json, changes: Json) -> None:
    for priority_id, _, _, targets in catalog.PRIORITIES:
        if priority_id == priority["id"]:
            changes.update(
                respondedHours=targets[0], resplanHours=targets[1], resolutionHours=targets[2]
            )

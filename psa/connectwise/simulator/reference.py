"""The MSP's reference data as ConnectWise JSON: members, boards, statuses, categories,
board teams, companies, contacts, agreements, priorities and sources, plus the small
"reference" dicts (``{"id", "name"}``) that tickets embed. Reference dicts are shared, never
mutated.

Each object carries fields of the ConnectWise 2025.1 model of its endpoint (``Member``,
``Board``, ``BoardStatus``, ``BoardTeam``, ``Priority``, ``Contact``, ``Company``,
``Agreement``...) with their JSON types, every field the model requires among them (a
member's ``hireDate``, ``defaultPhone`` and ``securityRole``, a team's ``teamLeader``, a
priority's ``color``, an agreement's ``contact``), and nothing the model lacks: a contact's
e-mail address and phone number are in its ``communicationItems``. Values that are not drawn
from the seeded ``Random`` (phone numbers, hire dates) are derived from ids, so adding them
changed no draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from psa.connectwise.simulator import catalog
from psa.connectwise.simulator.model import iso

Json = dict[str, Any]


def _info(stamp: str, by: str = "Admin") -> Json:
    return {"lastUpdated": stamp, "updatedBy": by}


@dataclass(eq=False)
class Reference:
    members: list[Json] = field(default_factory=list)
    member_refs: dict[str, Json] = field(default_factory=dict)  # by identifier
    roles: dict[str, list[str]] = field(default_factory=dict)  # role → identifiers
    boards: list[Json] = field(default_factory=list)
    board_refs: dict[str, Json] = field(default_factory=dict)  # by name
    team_refs: dict[str, Json] = field(default_factory=dict)  # by board name
    teams: dict[int, list[Json]] = field(default_factory=dict)
    statuses: dict[int, list[Json]] = field(default_factory=dict)
    status_refs: dict[tuple[str, str], Json] = field(default_factory=dict)  # (board, status)
    types: dict[int, list[Json]] = field(default_factory=dict)
    subtypes: dict[int, list[Json]] = field(default_factory=dict)
    items: dict[int, list[Json]] = field(default_factory=dict)
    associations: dict[int, list[Json]] = field(default_factory=dict)
    category_refs: dict[tuple[str, str, str], Json] = field(default_factory=dict)
    companies: list[Json] = field(default_factory=list)
    company_refs: dict[str, Json] = field(default_factory=dict)
    company_weights: list[float] = field(default_factory=list)
    contacts: list[Json] = field(default_factory=list)
    contacts_by_company: dict[str, list[Json]] = field(default_factory=dict)
    agreements: list[Json] = field(default_factory=list)
    agreement_refs: dict[str, Json] = field(default_factory=dict)  # primary, by company
    agreement_levels: dict[str, str] = field(default_factory=dict)
    priorities: list[Json] = field(default_factory=list)
    priority_refs: dict[int, Json] = field(default_factory=dict)  # by sort (1..5)
    sla_targets: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    sources: list[Json] = field(default_factory=list)
    source_refs: dict[str, Json] = field(default_factory=dict)
    sla_refs: dict[str, Json] = field(default_factory=dict)
    api_member: Json = field(default_factory=dict)


DAY = 86400


def _midnight(epoch: int) -> str:
    return iso(epoch - epoch % DAY)


def contact_email(contact: Json) -> str:
    """The contact's default e-mail address (from its ``communicationItems``)."""
    return _communication(contact, "Email")


def contact_phone(contact: Json) -> str:
    """The contact's default phone number (from its ``communicationItems``)."""
    return _communication(contact, "Phone")


def _communication(contact: Json, kind: str) -> str:
    items = contact.get("communicationItems", ())
    found = next((i for i in items if i["communicationType"] == kind and i["defaultFlag"]), None)
    return "" if found is None else str(found["value"])


def _member(
    member_id: int, spec: tuple[str, str, str, str], since: int, board: Json, offset: int
) -> Json:
    identifier, first, last, role = spec
    stamp = iso(since)
    email = f"{first.lower()}.{last.lower().replace(' ', '')}@{catalog.MSP_DOMAIN}"
    titles = {
        "dispatch": "Service Coordinator",
        "tier1": "Help Desk Technician",
        "noc": "NOC Technician",
        "tier2": "Systems Engineer",
        "projects": "Project Engineer",
        "api": "API Integration",
    }
    role_id, role_name = catalog.SECURITY_ROLES[role]
    return {
        "id": member_id,
        "identifier": identifier,
        "firstName": first,
        "lastName": last,
        # Hired between a month and about six years before the reference data was last set up.
        "hireDate": _midnight(since - (30 + offset * 167 % 2200) * DAY),
        "officeEmail": email,
        "primaryEmail": email,
        "defaultEmail": "Office",
        "officePhone": f"312555{7100 + offset:04d}",
        "defaultPhone": "Office",
        "securityRole": {"id": role_id, "name": role_name},
        "title": titles[role],
        "licenseClass": "A" if role == "api" else "F",
        "inactiveFlag": False,
        "timeZone": {"id": 2, "name": "US Central"},
        "serviceDefaultBoard": board,
        "_info": _info(stamp),
    }


def _build_members(ref: Reference, since: int, inactive_since: str) -> None:
    default_board = ref.board_refs["Service Desk"]
    specs = [*catalog.TECHNICIANS, catalog.INACTIVE_TECHNICIAN, catalog.API_MEMBER]
    for offset, spec in enumerate(specs):
        member = _member(101 + offset, spec, since, default_board, offset)
        if spec == catalog.INACTIVE_TECHNICIAN:
            member["inactiveFlag"] = True
            member["inactiveDate"] = inactive_since
        ref.members.append(member)
        member_ref = {
            "id": member["id"],
            "identifier": spec[0],
            "name": f"{member['firstName']} {member['lastName']}",
        }
        ref.member_refs[spec[0]] = member_ref
        ref.roles.setdefault(spec[3], []).append(spec[0])
    ref.api_member = ref.member_refs[catalog.API_MEMBER[0]]


def _staff_teams(ref: Reference) -> None:
    """Each board's team: its leader and members (active members of the team's roles)."""
    active = {m["identifier"] for m in ref.members if not m["inactiveFlag"]}
    for board_id, _, team_name in catalog.BOARDS:
        roles = catalog.TEAM_ROLES[team_name]
        staff = [i for role in roles for i in ref.roles.get(role, ()) if i in active]
        for team in ref.teams[board_id]:
            team["teamLeader"] = ref.member_refs[staff[0]]
            team["members"] = [ref.member_refs[i]["id"] for i in staff]


def _build_boards(ref: Reference, stamp: str) -> None:
    for board_id, name, team in catalog.BOARDS:
        board_ref = {"id": board_id, "name": name}
        ref.board_refs[name] = board_ref
        team_ref = {"id": 20 + board_id, "name": team}
        ref.team_refs[name] = team_ref
        ref.teams[board_id] = [
            {**team_ref, "defaultFlag": True, "boardId": board_id, "_info": _info(stamp)}
        ]
        ref.boards.append(
            {
                "id": board_id,
                "name": name,
                "location": {"id": 2, "name": "Chicago Office"},
                "department": {"id": 10, "identifier": "Services", "name": "Managed Services"},
                "inactiveFlag": False,
                "projectFlag": name == "Projects",
                "_info": _info(stamp),
            }
        )
        statuses: list[Json] = []
        for order, (status, escalation, closed, inactive) in enumerate(catalog.STATUSES):
            status_ref = {"id": board_id * 100 + order + 1, "name": status}
            ref.status_refs[(name, status)] = status_ref
            statuses.append(
                {
                    **status_ref,
                    "board": board_ref,
                    "sortOrder": order,
                    "displayOnBoard": not inactive,
                    "inactive": inactive,
                    "closedStatus": closed,
                    "timeEntryNotAllowed": closed,
                    "defaultFlag": order == 0,
                    "escalationStatus": escalation,
                    "_info": _info(stamp),
                }
            )
        ref.statuses[board_id] = statuses
        _build_categories(ref, board_id, name, stamp)


def _build_categories(ref: Reference, board_id: int, board: str, stamp: str) -> None:
    """Types, subtypes and items of a board, and the (type, subtype, item) triples allowed."""
    board_ref = ref.board_refs[board]
    types: dict[str, Json] = {}
    subtypes: dict[str, Json] = {}
    subtype_types: dict[str, list[int]] = {}
    items: dict[str, Json] = {}
    associations: list[Json] = []
    next_id = board_id * 1000
    for (type_name, subtype_name), (item_names, _) in catalog.CATEGORIES[board].items():
        if type_name not in types:
            next_id += 1
            types[type_name] = {"id": next_id, "name": type_name}
        if subtype_name not in subtypes:
            next_id += 1
            subtypes[subtype_name] = {"id": next_id, "name": subtype_name}
        subtype_types.setdefault(subtype_name, []).append(types[type_name]["id"])
        for item_name in item_names:
            if item_name not in items:
                next_id += 1
                items[item_name] = {"id": next_id, "name": item_name}
            associations.append(
                {
                    "id": board_id * 1000 + len(associations) + 1,
                    "type": types[type_name],
                    "subType": subtypes[subtype_name],
                    "item": items[item_name],
                    "board": board_ref,
                }
            )
    for kind, refs in (("type", types), ("subType", subtypes), ("item", items)):
        for name, category_ref in refs.items():
            ref.category_refs[(board, kind, name)] = category_ref
    extra = {"board": board_ref, "inactiveFlag": False, "_info": _info(stamp)}
    ref.types[board_id] = [{**t, **extra} for t in types.values()]
    ref.subtypes[board_id] = [
        {**s, "typeAssociationIds": subtype_types[s["name"]], **extra} for s in subtypes.values()
    ]
    ref.items[board_id] = [{**i, **extra} for i in items.values()]
    ref.associations[board_id] = associations


def _build_companies(ref: Reference, rng: random.Random, stamp: str) -> None:
    specs = [(*spec[:4], spec[4], spec[5]) for spec in catalog.COMPANIES]
    specs.append((*catalog.CATCHALL, 0.0, None))
    contact_id = 3000
    for offset, (identifier, name, city, state, weight, level) in enumerate(specs):
        company_id = 250 + offset
        company: Json = {
            "id": company_id,
            "identifier": identifier,
            "name": name,
            "status": {"id": 1, "name": "Active"},
            "addressLine1": f"{100 + offset * 37} {rng.choice(('Main', 'Oak', 'Lake', 'Elm'))} St",
        }
        if offset % 3 == 1:  # a suite for every third client (not drawn: no Random call)
            company["addressLine2"] = f"Suite {100 + offset * 10}"
        company |= {
            "city": city,
            "state": state,
            "zip": f"{60000 + offset * 211:05d}",
            "country": {"id": catalog.COUNTRY[0], "name": catalog.COUNTRY[1]},
            "phoneNumber": f"312555{1000 + offset * 17:04d}",
            "website": f"www.{identifier.lower()}.example",
            "types": [{"id": 1, "name": "Client"}],
            "site": {"id": 1000 + offset, "name": "Main"},
            "deletedFlag": False,
            "_info": {**_info(stamp), "dateEntered": stamp, "enteredBy": "Admin"},
        }
        ref.companies.append(company)
        company_ref = {"id": company_id, "identifier": identifier, "name": name}
        ref.company_refs[identifier] = company_ref
        if identifier != catalog.CATCHALL[0]:
            ref.company_weights.append(weight)
        contacts: list[Json] = []
        for _ in range(2 if identifier == catalog.CATCHALL[0] else rng.randint(3, 6)):
            contact_id += 1
            first = rng.choice(catalog.CONTACT_FIRST)
            last = rng.choice(catalog.CONTACT_LAST)
            mailbox = f"{first[0]}{last}".lower()
            phone = f"{company['phoneNumber'][:6]}{contact_id * 7 % 10000:04d}"
            contacts.append(
                {
                    "id": contact_id,
                    "firstName": first,
                    "lastName": last,
                    "company": company_ref,
                    "site": company["site"],
                    "inactiveFlag": False,
                    "defaultPhoneType": "Direct",
                    "defaultPhoneNbr": phone,
                    "communicationItems": [
                        {
                            "id": contact_id * 10 + 1,
                            "type": {"id": 1, "name": "Email"},
                            "value": f"{mailbox}@{identifier.lower()}.example",
                            "defaultFlag": True,
                            "communicationType": "Email",
                        },
                        {
                            "id": contact_id * 10 + 2,
                            "type": {"id": 2, "name": "Direct"},
                            "value": phone,
                            "defaultFlag": True,
                            "communicationType": "Phone",
                        },
                    ],
                    "_info": _info(stamp),
                }
            )
        ref.contacts.extend(contacts)
        ref.contacts_by_company[identifier] = contacts
        if level is not None:
            primary = contacts[0]
            contact_ref = {
                "id": primary["id"],
                "name": f"{primary['firstName']} {primary['lastName']}",
            }
            _add_agreements(ref, company_ref, contact_ref, level, stamp)


def _add_agreements(ref: Reference, company: Json, contact: Json, level: str, stamp: str) -> None:
    names = [f"Managed Services - {level}" if level != "Internal" else "Internal IT"]
    if level == "Gold":
        names.append("Block Time - 20 Hours")
    for name in names:
        agreement_id = 400 + len(ref.agreements)
        ref.agreements.append(
            {
                "id": agreement_id,
                "name": name,
                "type": {
                    "id": 1 if name.startswith("Managed") else 2,
                    "name": name.split(" - ")[0],
                },
                "company": company,
                "contact": contact,
                "agreementStatus": "Active",
                "startDate": stamp[:10] + "T00:00:00Z",
                "noEndingDateFlag": True,
                "cancelledFlag": False,
                "_info": _info(stamp),
            }
        )
        if company["identifier"] not in ref.agreement_refs:
            ref.agreement_refs[company["identifier"]] = {"id": agreement_id, "name": name}
            ref.agreement_levels[company["identifier"]] = level


def build_reference(rng: random.Random, *, since: int, inactive_since: int) -> Reference:
    """Everything but the tickets; ``since`` dates the reference data (epoch seconds)."""
    ref = Reference()
    stamp = iso(since)
    _build_boards(ref, stamp)
    _build_members(ref, since, iso(inactive_since))
    _staff_teams(ref)
    _build_companies(ref, rng, stamp)
    for priority_id, name, sort, targets in catalog.PRIORITIES:
        # Tickets embed a PriorityReference (``sort``); /service/priorities serves Priority
        # objects, whose order is ``sortOrder``.
        priority_ref = {"id": priority_id, "name": name, "sort": sort}
        ref.priority_refs[sort] = priority_ref
        ref.sla_targets[sort] = targets
        ref.priorities.append(
            {
                "id": priority_id,
                "name": name,
                "color": catalog.PRIORITY_COLORS[sort],
                "sortOrder": sort,
                "defaultFlag": sort == 3,
                "_info": _info(stamp),
            }
        )
    for source_id, name in catalog.SOURCES:
        ref.source_refs[name] = {"id": source_id, "name": name}
        ref.sources.append({"id": source_id, "name": name, "_info": _info(stamp)})
    for sla_id, name in catalog.SLAS:
        ref.sla_refs[name] = {"id": sla_id, "name": name}
    return ref

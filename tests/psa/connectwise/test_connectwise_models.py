"""The test fixture of the ConnectWise 2025.1 models and its checker: it must be able to fail."""

from __future__ import annotations

from tests.psa.connectwise.connectwise_models import (
    MODELS,
    NOTE_FIELDS_IN_SAMPLES,
    TICKET_FIELDS_IN_SAMPLES,
    problems,
)


def test_the_checker_refuses_what_the_models_do_not_allow() -> None:
    contact = {"id": 1, "firstName": "Ann", "defaultEmail": "ann@example.com"}
    assert problems(contact, "Contact") == ["Contact.defaultEmail: Contact has no such field"]
    wrong = {"id": "7", "name": "P1", "color": "Mauve", "sortOrder": True}
    assert problems(wrong, "Priority") == [
        "Priority.id: expected integer, got str '7'",
        "Priority.color: 'Mauve' is not one of Black, Blue, Cyan, Gray, Green, Lime, Orange, "
        "Pink, Purple, Red, White, Yellow, Custom",
        "Priority.sortOrder: expected integer, got bool True",
    ]
    team = {"name": "NOC", "teamLeader": {"id": 3, "identifier": "x", "nickname": "y"}}
    assert problems(team, "BoardTeam") == [
        "BoardTeam.teamLeader.nickname: MemberReference has no such field"
    ]
    assert problems({"name": "NOC"}, "BoardTeam") == [
        "BoardTeam.teamLeader: required by BoardTeam, missing"
    ]
    ticket = {
        "summary": "x",
        "company": {"id": 1},
        "requiredDate": "2026-09-01",
        "owner": None,
        "customFields": [{"id": 1, "value": True}, {"id": "2"}],
        "_info": {"lastUpdated": 5},
        "initialDescription": "hello",
    }
    assert problems(ticket, "Ticket") == [
        "Ticket.requiredDate: '2026-09-01' is not a ConnectWise timestamp (2022-09-02T08:29:34Z)",
        "Ticket.owner: null (ConnectWise omits null fields)",
        "Ticket.customFields[1].id: expected integer, got str '2'",
        "Ticket._info.lastUpdated: expected a string",
        "Ticket.initialDescription: Ticket never returns it",
    ]
    assert problems([], "Ticket") == ["Ticket: expected a Ticket object, got list"]


def test_every_model_field_names_a_known_type() -> None:
    scalars = {"integer", "number", "string", "boolean", "datetime", "any", "{string}"}
    for model in MODELS.values():
        for field in model.fields.values():
            assert field.type.strip("[]") in scalars | set(MODELS), (model.name, field)


def test_the_fields_real_responses_show_are_fields_of_the_models() -> None:
    assert sorted(TICKET_FIELDS_IN_SAMPLES - set(MODELS["Ticket"].fields)) == []
    assert sorted(NOTE_FIELDS_IN_SAMPLES - set(MODELS["ServiceNote"].fields)) == []


def test_the_models_the_issue_names_declare_the_fields_it_names() -> None:
    assert {"communicationItems"} <= set(MODELS["Contact"].fields)
    assert "defaultEmail" not in MODELS["Contact"].fields
    assert {"sortOrder", "color"} <= set(MODELS["Priority"].fields)
    assert "sort" not in MODELS["Priority"].fields
    assert MODELS["Agreement"].fields["contact"].required
    assert MODELS["BoardTeam"].fields["teamLeader"].required
    for name in ("hireDate", "defaultPhone", "securityRole"):
        assert MODELS["Member"].fields[name].required

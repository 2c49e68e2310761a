import pytest

from psa.connectwise.client import Association, invalid_combination
from tests.psa.connectwise.fake_connectwise import ref, ticket

ASSOCIATIONS_PATH = "/service/boards/1/typeSubTypeItemAssociations"


def association(row_id, type_id, subtype_id=None, item_id=None):
    """An association row as ConnectWise sends it; absent levels are omitted keys."""
    raw = {"id": row_id, "type": ref("service/boards/1/types", type_id, f"Type {type_id}")}
    if subtype_id is not None:
        raw["subType"] = ref("service/boards/1/subtypes", subtype_id, f"Sub {subtype_id}")
    if item_id is not None:
        raw["item"] = ref("service/boards/1/items", item_id, f"Item {item_id}")
    raw["board"] = ref("service/boards", 1, "Service Desk")
    return raw


# Board 1: Hardware(12) with Printer(34) or Laptop(35); Laptop has items 56, 57.
# Software(13) has no subtypes.
BOARD_ASSOCIATIONS = [
    association(1, 12, 34),
    association(2, 12, 35, 56),
    association(3, 12, 35, 57),
    association(4, 13),
]


def test_get_ticket_and_raw(fake_cw, make_client):
    fake_cw.reply(
        "GET", "/service/tickets/42", ticket(42, agreement=ref("finance/agreements", 7, "MSA"))
    )
    fake_cw.reply("GET", "/service/tickets/42", ticket(42))
    client = make_client()
    record = client.get_ticket(42)
    assert (record.id, record.agreement, record.agreement_id) == (42, "MSA", 7)
    assert client.get_ticket_raw(42)["summary"] == "Printer offline #42"


def test_count_tickets_sends_the_conditions(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets/count", {"count": 1234})
    count = make_client().count_tickets(conditions="closedFlag = false")
    assert count == 1234
    assert fake_cw.requests[0].param("conditions") == "closedFlag = false"


def test_ticket_notes_are_collected_across_pages(fake_cw, make_client):
    notes = [{"id": 1, "ticketId": 42, "text": "a"}, {"id": 2, "ticketId": 42, "text": "b"}]
    fake_cw.reply("GET", "/service/tickets/42/notes", notes)
    assert [n["text"] for n in make_client().ticket_notes(42)] == ["a", "b"]


def test_patch_sends_the_exact_json_patch_after_checking_the_combination(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets/42", ticket(42))  # type 12, subtype 34, no item
    fake_cw.reply("GET", ASSOCIATIONS_PATH, BOARD_ASSOCIATIONS)
    patched = ticket(42, subType=ref("service/boards/1/subtypes", 35, "Laptop"))
    patched["item"] = ref("service/boards/1/items", 56, "Battery")
    fake_cw.reply("PATCH", "/service/tickets/42", patched)

    record = make_client().patch_ticket(42, subtype_id=35, item_id=56)

    (patch,) = fake_cw.requests_to("PATCH", "/service/tickets/42")
    assert patch.json() == [
        {"op": "replace", "path": "subType", "value": {"id": 35}},
        {"op": "replace", "path": "item", "value": {"id": 56}},
    ]
    assert patch.headers["content-type"] == "application/json"
    assert (record.subtype, record.item) == ("Laptop", "Battery")


def test_patch_of_every_field_in_order(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets/42", ticket(42))
    fake_cw.reply("GET", ASSOCIATIONS_PATH, BOARD_ASSOCIATIONS)
    fake_cw.reply("PATCH", "/service/tickets/42", ticket(42))

    make_client().patch_ticket(
        42, type_id=12, subtype_id=35, item_id=57, company_id=250, agreement_id=7
    )

    assert fake_cw.requests_to("PATCH", "/service/tickets/42")[0].json() == [
        {"op": "replace", "path": "type", "value": {"id": 12}},
        {"op": "replace", "path": "subType", "value": {"id": 35}},
        {"op": "replace", "path": "item", "value": {"id": 57}},
        {"op": "replace", "path": "company", "value": {"id": 250}},
        {"op": "replace", "path": "agreement", "value": {"id": 7}},
    ]


def test_company_change_alone_leaves_the_agreement_and_skips_the_check(fake_cw, make_client):
    fake_cw.reply("PATCH", "/service/tickets/42", ticket(42))
    make_client().patch_ticket(42, company_id=251)

    assert [(r.method, r.path) for r in fake_cw.requests] == [("PATCH", "/service/tickets/42")]
    assert fake_cw.requests[0].json() == [
        {"op": "replace", "path": "company", "value": {"id": 251}}
    ]


def test_rejected_combination_is_never_sent(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets/42", ticket(42))
    fake_cw.reply("GET", ASSOCIATIONS_PATH, BOARD_ASSOCIATIONS)

    with pytest.raises(ValueError, match="not a valid combination") as caught:
        make_client().patch_ticket(42, subtype_id=99)

    assert "subtypes allowed with type 12: 34, 35" in str(caught.value)
    assert fake_cw.requests_to("PATCH", "/service/tickets/42") == []


def test_changing_only_the_type_keeps_the_current_subtype_in_the_check(fake_cw, make_client):
    # Ticket is Hardware/Printer; Software (13) has no Printer subtype.
    fake_cw.reply("GET", "/service/tickets/42", ticket(42))
    fake_cw.reply("GET", ASSOCIATIONS_PATH, BOARD_ASSOCIATIONS)
    with pytest.raises(ValueError, match="type 13 / subtype 34"):
        make_client().patch_ticket(42, type_id=13)
    assert fake_cw.requests_to("PATCH", "/service/tickets/42") == []


def test_patch_without_changes_is_refused(make_client):
    with pytest.raises(ValueError, match="at least one"):
        make_client().patch_ticket(42)


def test_note_is_posted_internal_and_silent(fake_cw, make_client):
    created = {"id": 9001, "ticketId": 42, "text": "Re-categorized by Deskboard"}
    fake_cw.reply("POST", "/service/tickets/42/notes", created, status=201)

    note = make_client().add_internal_note(42, "Re-categorized by Deskboard")

    assert note == created
    assert fake_cw.requests[0].json() == {
        "text": "Re-categorized by Deskboard",
        "internalAnalysisFlag": True,
        "detailDescriptionFlag": False,
        "resolutionFlag": False,
        "processNotifications": False,
    }


def test_empty_note_is_refused(fake_cw, make_client):
    with pytest.raises(ValueError, match="text"):
        make_client().add_internal_note(42, "   ")
    assert fake_cw.requests == []


ROWS = [
    Association(12, 34),
    Association(12, 35, 56),
    Association(12, 35, 57),
    Association(13),
    Association(14, None, 60),
]


@pytest.mark.parametrize(
    ("combo", "valid"),
    [
        ((12, None, None), True),  # a type alone: lower levels may stay empty
        ((12, 34, None), True),
        ((12, 35, None), True),  # subtype without item, as the ticket screen allows
        ((12, 35, 56), True),
        ((13, None, None), True),
        ((14, None, 60), True),  # an item straight under a type
        ((12, 34, 56), False),  # item 56 belongs to subtype 35
        ((12, None, 56), False),  # item 56 needs its subtype
        ((13, 34, None), False),
        ((99, None, None), False),
        ((None, 34, None), False),
    ],
)
def test_invalid_combination_rules(combo, valid):
    type_id, subtype_id, item_id = combo
    problem = invalid_combination(ROWS, type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    assert (problem is None) == valid, problem


def test_invalid_combination_lists_at_most_ten_options():
    rows = [Association(1, subtype) for subtype in range(100, 125)]
    problem = invalid_combination(rows, type_id=1, subtype_id=5, item_id=None)
    # 25 subtypes: the first ten are shown, then the 15 others counted.
    assert problem is not None
    assert "100, 101, 102, 103, 104, 105, 106, 107, 108, 109 … (15 more)" in problem

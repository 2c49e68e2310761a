from metrics.records import Board, BoardStatus, Member
from psa.connectwise.client import Association, NamedRef
from tests.psa.connectwise.test_tickets import association


def test_boards(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/service/boards",
        [
            {"id": 1, "name": "Service Desk", "inactiveFlag": False, "projectFlag": False},
            {"id": 9, "name": "Old Board", "inactiveFlag": True},
            {"name": "no id"},
        ],
    )
    assert make_client().boards() == [
        Board(id=1, name="Service Desk"),
        Board(id=9, name="Old Board", inactive=True),
    ]


def test_board_statuses(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/service/boards/1/statuses",
        [
            {"id": 10, "name": "New", "board": {"id": 1}, "escalationStatus": "NotResponded"},
            {"id": 19, "name": ">Closed", "board": {"id": 1}, "closedStatus": True},
        ],
    )
    assert make_client().board_statuses(1) == [
        BoardStatus(board_id=1, id=10, name="New", escalation_status="NotResponded"),
        BoardStatus(board_id=1, id=19, name=">Closed", closed=True),
    ]


def test_board_types_subtypes_and_items(fake_cw, make_client):
    fake_cw.reply("GET", "/service/boards/1/types", [{"id": 12, "name": "Hardware"}])
    fake_cw.reply(
        "GET", "/service/boards/1/subtypes", [{"id": 34, "name": "Printer", "inactiveFlag": True}]
    )
    fake_cw.reply("GET", "/service/boards/1/items", [{"id": 56, "name": "Battery"}])
    client = make_client()
    assert client.board_types(1) == [NamedRef(12, "Hardware")]
    assert client.board_subtypes(1) == [NamedRef(34, "Printer", inactive=True)]
    assert client.board_items(1) == [NamedRef(56, "Battery")]


def test_associations_read_type_subtype_and_item_references(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/service/boards/1/typeSubTypeItemAssociations",
        [association(1, 12, 34), association(2, 12, 35, 56), association(3, 13), {"id": 4}],
    )
    assert make_client().associations(1) == [
        Association(12, 34, None),
        Association(12, 35, 56),
        Association(13, None, None),
    ]  # the row without a type is skipped


def test_members_email_name_and_inactive(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/system/members",
        [
            {
                "id": 176,
                "identifier": "AGarcia",
                "firstName": "Ana",
                "lastName": "Garcia",
                "primaryEmail": "ana@harbortech.example",
                "officeEmail": "office@harbortech.example",
                "inactiveFlag": False,
            },
            {
                "id": 177,
                "identifier": "BLee",
                "firstName": "Ben",
                "officeEmail": "ben@harbortech.example",
                "inactiveFlag": True,
            },
            {"id": 178, "firstName": "No", "lastName": "Identifier"},
        ],
    )
    assert make_client().members() == [
        Member(176, "AGarcia", "Ana Garcia", "ana@harbortech.example"),
        Member(177, "BLee", "Ben", "ben@harbortech.example", inactive=True),
    ]


def test_companies_with_identifier_and_conditions(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/company/companies",
        [{"id": 2, "identifier": "Catchall", "name": "Catch All (do not delete)"}],
    )
    companies = make_client().companies(conditions='identifier = "Catchall"')
    assert companies == [NamedRef(2, "Catch All (do not delete)", identifier="Catchall")]
    assert fake_cw.requests[0].param("conditions") == 'identifier = "Catchall"'


def test_agreements_of_a_company(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/finance/agreements",
        [{"id": 7, "name": "Managed Services", "company": {"id": 250}}],
    )
    assert make_client().agreements(250) == [NamedRef(7, "Managed Services")]
    assert fake_cw.requests[0].param("conditions") == "company/id = 250"

from datetime import UTC, datetime

import pytest

from psa.connectwise.errors import ConnectWiseError
from tests.psa.connectwise.fake_connectwise import Scripted, link_header, ticket

CONDITIONS = "lastUpdated > [2026-11-01T00:00:00Z] and board/id in (1,2)"


def ids(pages):
    return [[record.id for record in page.records] for page in pages]


def test_forward_only_paging_follows_link_urls_as_given_across_three_pages(fake_cw, make_client):
    # Page size 2: tickets 101,102 | 103,104 | 105,106. The third page is full yet has no
    # Link header: once paging by links, a missing "next" ends the list (no page=N guess).
    first_link = ", ".join(
        [
            link_header(fake_cw, "/service/tickets", "pageSize=2&pageId=0", rel="first"),
            # A comma inside the URL (the "in (1,2)" list) must not break Link parsing.
            link_header(
                fake_cw,
                "/service/tickets",
                "conditions=board/id%20in%20(1,2)&pageSize=2&pageId=102",
            ),
        ]
    )
    second_link = link_header(fake_cw, "/service/tickets", "pageSize=2&pageId=104").replace(
        'rel="next"', "rel=Next"
    )
    fake_cw.script(
        "GET",
        "/service/tickets",
        Scripted(body=[ticket(101), ticket(102)], headers={"Link": first_link}),
        Scripted(body=[ticket(103), ticket(104)], headers={"Link": second_link}),
        Scripted(body=[ticket(105), ticket(106)]),
    )

    pages = list(make_client(page_size=2).iter_ticket_pages())

    assert ids(pages) == [[101, 102], [103, 104], [105, 106]]
    first, second, third = fake_cw.requests
    assert first.query["pageSize"] == ["2"]
    assert "page" not in first.query
    assert second.raw_target.endswith("conditions=board/id%20in%20(1,2)&pageSize=2&pageId=102")
    assert third.raw_target.endswith("?pageSize=2&pageId=104")
    assert {r.headers["pagination-type"] for r in fake_cw.requests} == {"forward-only"}


def test_pages_are_fetched_lazily_one_at_a_time(fake_cw, make_client):
    fake_cw.script(
        "GET",
        "/service/tickets",
        Scripted(
            body=[ticket(1), ticket(2)],
            headers={"Link": link_header(fake_cw, "/service/tickets", "pageSize=2&pageId=2")},
        ),
        Scripted(body=[ticket(3)]),
    )
    pages = make_client(page_size=2).iter_ticket_pages()

    assert [r.id for r in next(pages).records] == [1, 2]
    assert len(fake_cw.requests) == 1  # the second page is not asked for yet
    assert [r.id for r in next(pages).records] == [3]
    assert len(fake_cw.requests) == 2


def test_without_link_header_falls_back_to_page_numbers_until_a_short_page(fake_cw, make_client):
    fake_cw.script(
        "GET",
        "/service/tickets",
        Scripted(body=[ticket(1), ticket(2)]),
        Scripted(body=[ticket(3), ticket(4)]),
        Scripted(body=[ticket(5)]),
    )
    pages = list(make_client(page_size=2).iter_ticket_pages())

    assert ids(pages) == [[1, 2], [3, 4], [5]]
    assert [r.param("page") for r in fake_cw.requests] == [None, "2", "3"]
    assert [r.param("pageSize") for r in fake_cw.requests] == ["2", "2", "2"]
    assert [r.param("orderBy") for r in fake_cw.requests] == ["id asc"] * 3


def test_page_numbers_stop_on_an_empty_page_after_an_exact_multiple(fake_cw, make_client):
    fake_cw.script(
        "GET",
        "/service/tickets",
        Scripted(body=[ticket(1), ticket(2)]),
        Scripted(body=[]),
    )
    assert ids(make_client(page_size=2).iter_ticket_pages()) == [[1, 2]]
    assert len(fake_cw.requests) == 2


def test_a_server_that_repeats_the_same_page_is_caught(fake_cw, make_client):
    fake_cw.script(
        "GET",
        "/service/tickets",
        Scripted(body=[ticket(1), ticket(2)]),
        Scripted(body=[ticket(1), ticket(2)]),
    )
    with pytest.raises(ConnectWiseError, match="did not advance"):
        list(make_client(page_size=2).iter_ticket_pages())


def test_next_link_naming_another_host_is_fetched_from_our_host(fake_cw, make_client):
    # The credentials must never go to a host named in a response.
    foreign = (
        '<http://elsewhere.invalid:9/v4_6_release/apis/3.0/service/boards?pageId=2>; rel="next"'
    )
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(body=[{"id": 1, "name": "Service Desk"}], headers={"Link": foreign}),
        Scripted(body=[{"id": 3, "name": "Projects"}]),
    )
    boards = make_client().boards()

    assert [b.id for b in boards] == [1, 3]
    assert fake_cw.requests[1].raw_target == "/v4_6_release/apis/3.0/service/boards?pageId=2"


def test_ticket_conditions_combine_updated_after_and_boards(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets", [])
    since = datetime(2026, 11, 1, tzinfo=UTC)

    pages = list(make_client().iter_ticket_pages(updated_after=since, board_ids=[1, 2]))

    assert pages == []
    (request,) = fake_cw.requests
    assert request.param("conditions") == CONDITIONS
    assert request.param("orderBy") == "id asc"
    assert request.param("pageSize") == "1000"


def test_no_filters_sends_no_conditions(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets", [])
    list(make_client().iter_ticket_pages())
    assert "conditions" not in fake_cw.requests[0].query


def test_malformed_tickets_are_skipped_and_the_rest_of_the_page_returned(fake_cw, make_client):
    broken_date = ticket(203)
    broken_date["_info"] = {"lastUpdated": "yesterday-ish"}
    fake_cw.reply(
        "GET",
        "/service/tickets",
        [ticket(201), {"id": "202"}, broken_date, ticket(204, closedFlag=True)],
    )
    (page,) = list(make_client().iter_ticket_pages())

    assert page.raw_count == 4
    assert [r.id for r in page.records] == [201, 204]
    assert [(s.ticket_id, s.field) for s in page.skipped] == [("202", "id"), (203, "lastUpdated")]
    # A mapped fixture ticket keeps its values (hand-read from ticket() in fake_connectwise).
    first = page.records[0]
    assert (first.board, first.company, first.type, first.subtype) == (
        "Service Desk",
        "HarborDental",
        "Hardware",
        "Printer",
    )
    assert first.agreement is None
    assert first.item is None
    assert first.updated_at == datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
    assert page.records[1].closed is True

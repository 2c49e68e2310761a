import base64

import httpx
import pytest

from psa.connectwise.errors import (
    REQUIRED_PERMISSIONS,
    AuthenticationFailed,
    BadRequest,
    ConnectWiseError,
    FieldError,
    NotFound,
    PermissionDenied,
    error_from_response,
    required_module,
)
from tests.psa.connectwise.conftest import COMPANY, PRIVATE_KEY, PUBLIC_KEY
from tests.psa.connectwise.fake_connectwise import Scripted, ticket

AUTH_TOKEN = base64.b64encode(f"{COMPANY}+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()


def assert_no_secrets(error: Exception) -> None:
    text = str(error) + repr(error.__dict__)
    assert PRIVATE_KEY not in text
    assert AUTH_TOKEN not in text
    assert "Basic " not in text


def test_401_says_the_key_pair_was_rejected_and_where_to_fix_it(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/system/members",
        {"code": "Unauthorized", "message": "Authentication failed for this member."},
        status=401,
    )
    with pytest.raises(AuthenticationFailed) as caught:
        make_client().members()

    message = str(caught.value)
    assert "Authentication failed for this member." in message
    assert "key pair was rejected" in message
    assert "CW_COMPANY" in message
    assert "CW_PUBLIC_KEY" in message
    assert "CW_PRIVATE_KEY" in message
    assert caught.value.status == 401
    assert caught.value.code == "Unauthorized"
    assert_no_secrets(caught.value)


def test_401_with_an_html_body_still_quotes_what_came_back(fake_cw, make_client):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(
            status=401,
            raw=b"<html><head><title>401</title></head><body><h1>Access denied</h1></body></html>",
            headers={"Content-Type": "text/html"},
        ),
    )
    with pytest.raises(AuthenticationFailed) as caught:
        make_client().boards()
    assert "401 Access denied" in str(caught.value)  # tags stripped, text kept
    assert "<h1>" not in str(caught.value)
    assert_no_secrets(caught.value)


def test_403_names_the_path_and_the_security_role_module_to_grant(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/system/members",
        {"code": "Forbidden", "message": "You do not have access to Member Maintenance."},
        status=403,
    )
    with pytest.raises(PermissionDenied) as caught:
        make_client().members()

    message = str(caught.value)
    assert "You do not have access to Member Maintenance." in message
    assert "GET /system/members" in message
    assert "System > Member Maintenance at Inquire level" in message
    assert_no_secrets(caught.value)


def test_403_on_the_ticket_patch_asks_for_edit_level(fake_cw, make_client):
    fake_cw.reply("PATCH", "/service/tickets/42", {"message": "Not allowed"}, status=403)
    with pytest.raises(PermissionDenied) as caught:
        make_client().patch_ticket(42, company_id=250)
    assert "PATCH /service/tickets/42" in str(caught.value)
    assert "Service Desk > Service Tickets at Edit level" in str(caught.value)


def test_400_api_find_condition_shows_the_rejected_condition(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/company/companies",
        {"code": "ApiFindCondition", "message": "identifer is not a recognized name."},
        status=400,
    )
    with pytest.raises(BadRequest) as caught:
        make_client().companies(conditions='identifer = "Catchall"')

    message = str(caught.value)
    assert 'the condition was rejected: identifer = "Catchall"' in message
    assert "ApiFindCondition: identifer is not a recognized name." in message
    assert caught.value.code == "ApiFindCondition"


def test_400_invalid_object_lists_the_field_errors(fake_cw, make_client):
    fake_cw.reply(
        "PATCH",
        "/service/tickets/42",
        {
            "code": "InvalidObject",
            "message": "ticket object is invalid",
            "errors": [
                {
                    "code": "NotFound",
                    "message": "company 99999 not found",
                    "resource": "ticket",
                    "field": "company/id",
                }
            ],
        },
        status=400,
    )
    with pytest.raises(BadRequest) as caught:
        make_client().patch_ticket(42, company_id=99999)

    assert "InvalidObject: ticket object is invalid" in str(caught.value)
    assert "ticket/company/id: company 99999 not found (NotFound)" in str(caught.value)
    assert caught.value.errors == [
        FieldError(
            code="NotFound",
            message="company 99999 not found",
            resource="ticket",
            field="company/id",
        )
    ]


def test_404_is_not_found(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/service/tickets/404404",
        {"code": "NotFound", "message": "Ticket with id 404404 not found"},
        status=404,
    )
    with pytest.raises(NotFound, match="Ticket with id 404404 not found"):
        make_client().get_ticket(404404)


def test_other_statuses_are_plain_connectwise_errors(fake_cw, make_client):
    fake_cw.reply("GET", "/service/tickets/1", {"message": "Conflict"}, status=409)
    with pytest.raises(ConnectWiseError, match="HTTP 409") as caught:
        make_client().get_ticket(1)
    assert type(caught.value) is ConnectWiseError


def test_a_3xx_is_not_followed(fake_cw, make_client):
    # Following a redirect could carry the Authorization header to another host.
    fake_cw.script(
        "GET",
        "/service/tickets/1",
        Scripted(status=302, headers={"Location": "http://elsewhere.invalid/"}),
        Scripted(body=ticket(1)),
    )
    with pytest.raises(ConnectWiseError, match="HTTP 302"):
        make_client().get_ticket(1)
    assert len(fake_cw.requests) == 1


def test_every_guarded_route_maps_to_a_listed_permission():
    listed = {permission.module for permission in REQUIRED_PERMISSIONS}
    for path in (
        "/service/tickets",
        "/service/tickets/5/notes",
        "/service/boards/1/typeSubTypeItemAssociations",
        "/system/members",
        "/company/companies",
        "/finance/agreements",
    ):
        assert required_module(path) in listed
    assert required_module("/system/audittrail") is None


def test_403_on_an_unmapped_route_still_names_the_path():
    request = httpx.Request("GET", "https://cw.example.test/v4_6_release/apis/3.0/sales/orders")
    response = httpx.Response(403, json={"message": "No"}, request=request)
    error = error_from_response(response)
    assert isinstance(error, PermissionDenied)
    assert "the module that covers /sales/orders at Inquire level" in str(error)

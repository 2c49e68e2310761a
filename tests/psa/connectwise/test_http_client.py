import base64

import pytest

from psa.connectwise.client import build_http_client
from tests.psa.connectwise.conftest import CLIENT_ID, COMPANY, PRIVATE_KEY, PUBLIC_KEY


def test_every_request_carries_basic_auth_client_id_and_pinned_version(fake_cw, make_client):
    fake_cw.reply("GET", "/service/boards", [{"id": 1, "name": "Service Desk"}])
    make_client().boards()

    (request,) = fake_cw.requests
    # Basic base64("harbortech+PubKey7Q2:s3cr3t-Priv4te-KEY"), computed independently here.
    expected = base64.b64encode(b"harbortech+PubKey7Q2:s3cr3t-Priv4te-KEY").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["clientid"] == CLIENT_ID
    assert request.headers["accept"] == "application/vnd.connectwise.com+json; version=2022.1"
    assert request.headers["pagination-type"] == "forward-only"
    assert request.raw_target.startswith("/v4_6_release/apis/3.0/service/boards?")


def test_api_version_is_configurable(fake_cw):
    http = build_http_client(
        api_url=fake_cw.api_url + "/",  # a trailing slash is tolerated
        company=COMPANY,
        public_key=PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        client_id=CLIENT_ID,
        api_version="2025.1",
    )
    with http:
        assert http.headers["Accept"] == "application/vnd.connectwise.com+json; version=2025.1"
        assert str(http.base_url) == fake_cw.api_url + "/"


@pytest.mark.parametrize(
    "api_url",
    [
        "https://api-na.myconnectwise.net/v4_6_release",
        "https://api-na.myconnectwise.net/v4_6_release/apis/3.0/service",
        "api-na.myconnectwise.net/v4_6_release/apis/3.0",
        "ftp://api-na.myconnectwise.net/v4_6_release/apis/3.0",
    ],
)
def test_api_url_must_be_the_rest_root(api_url):
    with pytest.raises(ValueError, match=r"/apis/3\.0"):
        build_http_client(
            api_url=api_url,
            company=COMPANY,
            public_key=PUBLIC_KEY,
            private_key=PRIVATE_KEY,
            client_id=CLIENT_ID,
        )


def test_empty_key_is_named_but_not_echoed():
    with pytest.raises(ValueError, match="private_key is empty"):
        build_http_client(
            api_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
            company=COMPANY,
            public_key=PUBLIC_KEY,
            private_key="  ",
            client_id=CLIENT_ID,
        )

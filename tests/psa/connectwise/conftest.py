"""Shared pieces of the ConnectWise client tests: the fake server and a client pointed at it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import httpx
import pytest

from psa.connectwise.client import ConnectWiseClient, RetryPolicy, build_http_client
from tests.psa.connectwise.fake_connectwise import FakeConnectWise
from tests.psa.connectwise.fake_connectwise import fake_cw as fake_cw

COMPANY = "harbortech"
PUBLIC_KEY = "PubKey7Q2"
PRIVATE_KEY = "s3cr3t-Priv4te-KEY"
CLIENT_ID = "8f0e6f5c-1a2b-4c3d-9e8f-0123456789ab"

MakeClient = Callable[..., ConnectWiseClient]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake_cw: FakeConnectWise, sleeps: list[float]) -> Iterator[MakeClient]:
    """A real client (real httpx, real sockets) against the fake; sleeps are recorded."""
    opened: list[httpx.Client] = []

    def make(
        *, page_size: int = 1000, timeout: float = 5.0, retry: RetryPolicy | None = None
    ) -> ConnectWiseClient:
        http = build_http_client(
            api_url=fake_cw.api_url,
            company=COMPANY,
            public_key=PUBLIC_KEY,
            private_key=PRIVATE_KEY,
            client_id=CLIENT_ID,
            timeout=timeout,
        )
        opened.append(http)
        return ConnectWiseClient(
            http,
            retry=retry or RetryPolicy(),
            sleep=sleeps.append,
            page_size=page_size,
            rng=random.Random(7),
        )

    yield make
    for http in opened:
        http.close()

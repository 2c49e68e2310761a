import logging
import random

import pytest

from psa.connectwise.client import RetryPolicy
from psa.connectwise.errors import AuthenticationFailed, ConnectWiseError, RetriesExhausted
from tests.psa.connectwise.conftest import PRIVATE_KEY
from tests.psa.connectwise.fake_connectwise import Scripted, ticket

BOARDS = [{"id": 1, "name": "Service Desk"}]
UNAVAILABLE = Scripted(status=503, body={"code": "ServiceUnavailable", "message": "Try later"})


def jitter(seed: int, caps: list[float]) -> list[float]:
    """The delays full jitter draws from random.Random(seed): uniform(0, cap) per retry."""
    rng = random.Random(seed)
    return [rng.uniform(0.0, cap) for cap in caps]


def test_429_sleeps_for_retry_after_then_succeeds(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(status=429, body={"code": "TooManyRequests"}, headers={"Retry-After": "7"}),
        Scripted(body=BOARDS),
    )
    assert [b.name for b in make_client().boards()] == ["Service Desk"]
    assert sleeps == [7.0]
    assert len(fake_cw.requests) == 2


def test_retry_after_is_clamped_to_the_policy_maximum(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(status=429, headers={"Retry-After": "3600"}),
        Scripted(body=BOARDS),
    )
    make_client(retry=RetryPolicy(max_retry_after=120.0)).boards()
    assert sleeps == [120.0]


def test_429_without_usable_retry_after_backs_off(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(status=429, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}),
        Scripted(body=BOARDS),
    )
    make_client().boards()
    # First retry: cap = base_delay 0.5 · 2⁰ = 0.5; the client's rng is Random(7).
    assert sleeps == jitter(7, [0.5])


def test_500_then_success(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/tickets/42",
        Scripted(status=500, body={"code": "UnexpectedError", "message": "Boom"}),
        Scripted(body=ticket(42)),
    )
    assert make_client().get_ticket(42).id == 42
    assert sleeps == jitter(7, [0.5])


def test_timeout_then_success(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/tickets/42",
        Scripted(body=ticket(42), delay=0.5),  # longer than the 0.15 s client timeout
        Scripted(body=ticket(42)),
    )
    assert make_client(timeout=0.15).get_ticket(42).id == 42
    assert len(sleeps) == 1


def test_connection_dropped_then_success(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/tickets/42",
        Scripted(drop=True),  # the server closes the socket without answering
        Scripted(body=ticket(42)),
    )
    assert make_client().get_ticket(42).id == 42
    assert len(sleeps) == 1


def test_html_body_on_200_is_retried_as_a_proxy_hiccup(fake_cw, make_client, sleeps):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(
            raw=b"<html><body>Gateway warming up</body></html>",
            headers={"Content-Type": "text/html"},
        ),
        Scripted(body=BOARDS),
    )
    assert [b.id for b in make_client().boards()] == [1]
    assert len(sleeps) == 1


def test_retries_exhausted_names_what_failed_last(fake_cw, make_client, sleeps):
    fake_cw.script("GET", "/service/boards", *[UNAVAILABLE] * 5)
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=1.5)

    with pytest.raises(RetriesExhausted) as caught:
        make_client(retry=policy).boards()

    assert len(fake_cw.requests) == 5
    # Four sleeps between five tries; caps 0.5, 1.0, 2.0→1.5 (max_delay), 4.0→1.5.
    assert sleeps == jitter(7, [0.5, 1.0, 1.5, 1.5])
    message = str(caught.value)
    assert "GET /service/boards failed 5 times" in message
    assert "HTTP 503" in message
    assert "Try later" in message
    assert caught.value.status == 503


def test_truncated_json_every_time_exhausts_with_the_parse_problem(fake_cw, make_client, sleeps):
    fake_cw.script("GET", "/service/tickets/7", *[Scripted(raw=b'{"id": 7, "summ')] * 3)
    with pytest.raises(RetriesExhausted, match="not JSON") as caught:
        make_client(retry=RetryPolicy(attempts=3)).get_ticket(7)
    assert "summ" in str(caught.value)  # an excerpt of what arrived
    assert len(sleeps) == 2


def test_401_is_not_retried(fake_cw, make_client, sleeps):
    fake_cw.reply("GET", "/service/boards", {"code": "Unauthorized"}, status=401)
    with pytest.raises(AuthenticationFailed):
        make_client().boards()
    assert len(fake_cw.requests) == 1
    assert sleeps == []


def test_a_note_post_is_not_retried_after_a_server_error(fake_cw, make_client, sleeps):
    # The note may already exist: a second POST could duplicate it.
    fake_cw.reply("POST", "/service/tickets/42/notes", {"message": "Boom"}, status=500)
    with pytest.raises(ConnectWiseError) as caught:
        make_client().add_internal_note(42, "Checked the spooler")
    assert not isinstance(caught.value, RetriesExhausted)
    assert caught.value.status == 500
    assert len(fake_cw.requests) == 1
    assert sleeps == []


def test_a_note_post_is_not_retried_after_a_dropped_connection(fake_cw, make_client, sleeps):
    fake_cw.script("POST", "/service/tickets/42/notes", Scripted(drop=True))
    with pytest.raises(ConnectWiseError, match="POST /service/tickets/42/notes failed"):
        make_client().add_internal_note(42, "Checked the spooler")
    assert len(fake_cw.requests) == 1
    assert sleeps == []


def test_a_note_post_is_retried_after_429(fake_cw, make_client, sleeps):
    # 429 means ConnectWise refused the request, so nothing was written yet.
    fake_cw.script(
        "POST",
        "/service/tickets/42/notes",
        Scripted(status=429, headers={"Retry-After": "2"}),
        Scripted(status=201, body={"id": 9001, "text": "Checked the spooler"}),
    )
    assert make_client().add_internal_note(42, "Checked the spooler")["id"] == 9001
    assert sleeps == [2.0]


def test_retry_log_names_method_path_status_and_delay_but_no_secrets(fake_cw, make_client, caplog):
    fake_cw.script(
        "GET",
        "/service/boards",
        Scripted(status=429, headers={"Retry-After": "3"}),
        Scripted(body=BOARDS),
    )
    with caplog.at_level(logging.DEBUG):
        make_client().boards()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "GET /service/boards" in text
    assert "HTTP 429" in text
    assert "3.00s" in text
    everything = caplog.text
    assert PRIVATE_KEY not in everything
    assert "authorization" not in everything.lower()

"""Deskboard's own rating links end to end: the real HTTP app on 127.0.0.1, plain GETs as a
mail scanner makes them, and Debian's chromium as a customer's browser (bot.web.csat,
bot.core.rating_links)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.config import parse_config
from bot.core.push import PushReceiver
from bot.core.rating_links import RatingLinks, template_links, ticket_links
from bot.core.sync import store_records
from bot.web.routes import http_app
from metrics.ratings import LINK_RESPONDENT, RatingValue
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage import ratings as rating_store
from storage.db import create_engine_for, session_scope
from tests.browser import chromium as chromium
from tests.browser import served

SECRET = "test-csat-secret-0123456789"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
FRESH, OLD = 501, 502
HOSTILE_COMMENT = '<script>window.hacked=1</script><b>bold</b> & "quotes"'
CONFIG = parse_config({"csat": {"company_name": "Harbor <IT> & Co", "accent_color": "#0a7d4f"}})


class Refusing:
    def verify(self, headers: Any, body: bytes) -> Any:
        raise AssertionError("no callback here")


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    records = [
        TicketRecord(
            id=FRESH,
            summary="Printer <offline>",
            closed=True,
            resolver="jsmith",
            resolved_at=NOW - timedelta(days=2),
            updated_at=NOW - timedelta(days=2),
        ),
        TicketRecord(
            id=OLD,
            summary="Old one",
            closed=True,
            resolver="jsmith",
            resolved_at=NOW - timedelta(days=31),
            updated_at=NOW - timedelta(days=31),
        ),
        TicketRecord(id=503, summary="Still open", updated_at=NOW),
    ]
    store_records(
        engine, records=records, params=CONFIG.derive_params(), waiting_rule=WaitingRule()
    )
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def site(engine, clock) -> Iterator[tuple[str, list[str]]]:
    answered: list[str] = []
    links = RatingLinks(
        engine=engine,
        config=CONFIG,
        secret=SECRET,
        clock=lambda: clock[0],
        on_answer=lambda: answered.append("acted"),
    )
    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: clock[0])
    with served(http_app(callbacks=receiver, rating_links=links)) as url:
        yield url, answered


def link(url: str, ticket: int, face: str) -> str:
    return ticket_links(public_url=url, secret=SECRET, ticket_id=ticket)[face]


def held(engine) -> list[tuple[int, str, str | None]]:
    with session_scope(engine) as session:
        return [
            (r.rating.ticket_id, r.rating.value.value, r.rating.comment)
            for r in rating_store.all_ratings(session)
        ]


def test_a_plain_get_records_nothing_as_a_scanner_would(site, engine):
    url, answered = site
    for face in ("positive", "neutral", "negative"):
        page = httpx.get(link(url, FRESH, face))
        assert page.status_code == 200
        assert "Confirm" in page.text
    page = httpx.get(link(url, FRESH, "positive") + "?done=1")
    assert page.status_code == 200
    assert held(engine) == []
    assert answered == []


def test_the_page_is_strict_about_what_it_loads(site):
    url, _ = site
    page = httpx.get(link(url, FRESH, "positive"))
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    assert "Harbor &lt;IT&gt; &amp; Co" in page.text  # the MSP's name, escaped
    assert "Printer &lt;offline&gt;" in page.text
    assert "http" not in page.text.split("<body>")[1].replace(url, "")  # nothing from elsewhere
    theme = httpx.get(f"{url}/csat/static/theme.css")
    assert "--accent: #0a7d4f" in theme.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/csat/{fresh}/positive/AAAAAAAAAAAAAAAAAAAAAA", 403),  # forged signature
        ("/csat/{fresh}/ecstatic/{sig}", 400),  # no such face
        ("/csat/abc/positive/{sig}", 400),  # not a ticket number
        ("/csat/{fresh}/positive", 400),  # cut short
        ("/csat/99999/positive/{template}", 404),  # no such ticket
        ("/csat/{old}/positive/{old_sig}", 404),  # resolved 31 days ago
        ("/csat/503/positive/{open_sig}", 404),  # not resolved
        ("/csat/{old}/positive/{sig}", 403),  # another ticket's signature
    ],
)
def test_refused_links_get_a_friendly_page_and_record_nothing(site, engine, path, status):
    url, _ = site
    signature = link(url, FRESH, "positive").rsplit("/", 1)[1]
    target = path.format(
        fresh=FRESH,
        old=OLD,
        sig=signature,
        template=template_links(public_url=url, secret=SECRET)["positive"].rsplit("/", 1)[1],
        old_sig=link(url, OLD, "positive").rsplit("/", 1)[1],
        open_sig=link(url, 503, "positive").rsplit("/", 1)[1],
    )
    page = httpx.get(url + target)
    assert page.status_code == status
    assert "<html" in page.text
    assert "Traceback" not in page.text
    posted = httpx.post(url + target, data={"token": "x"})
    assert posted.status_code in (status, 405) or 400 <= posted.status_code < 500
    assert held(engine) == []


def test_the_template_link_works_for_any_recent_ticket_number(site, engine, chromium):
    url, _ = site
    template = template_links(public_url=url, secret=SECRET)["neutral"]
    page = chromium.new_page()
    page.goto(template.replace("[srnumber]", str(FRESH)))
    page.wait_for_selector("text=Thank you for your feedback")
    page.close()
    assert held(engine) == [(FRESH, "neutral", None)]


def test_a_real_browser_records_exactly_one_and_may_change_its_mind(site, engine, clock, chromium):
    url, answered = site
    page = chromium.new_page()
    page.goto(link(url, FRESH, "negative"))
    page.wait_for_selector("text=Thank you for your feedback")
    assert held(engine) == [(FRESH, "negative", None)]
    page.goto(link(url, FRESH, "negative"))  # opened again: still one
    page.wait_for_selector("text=Thank you for your feedback")
    assert held(engine) == [(FRESH, "negative", None)]
    assert answered == ["acted"]

    clock[0] = NOW + timedelta(days=6)
    page.goto(link(url, FRESH, "positive"))  # a change of mind within 7 days: latest wins
    page.wait_for_selector("text=Thank you for your feedback")
    assert held(engine) == [(FRESH, "positive", None)]

    clock[0] = NOW + timedelta(days=8)
    page.goto(link(url, FRESH, "negative"))  # too late to change
    page.wait_for_selector("text=can no longer be changed")
    assert held(engine) == [(FRESH, "positive", None)]
    page.close()
    with session_scope(engine) as session:
        answer = rating_store.get_rating(session, ticket_id=FRESH, respondent=LINK_RESPONDENT)
    assert answer is not None
    assert answer.previous is RatingValue.NEGATIVE


def test_a_comment_is_stored_as_text_and_shown_escaped(site, engine, chromium):
    url, _ = site
    page = chromium.new_page()
    page.goto(link(url, FRESH, "positive"))
    page.wait_for_selector("#comment-text")
    page.fill("#comment-text", HOSTILE_COMMENT)
    page.click("#comment button")
    page.wait_for_selector("#shown-comment")
    assert page.inner_text("#shown-comment") == HOSTILE_COMMENT
    assert page.evaluate("window.hacked") is None
    assert page.locator("section b").count() == 0  # the <b> stayed text
    page.close()
    assert held(engine) == [(FRESH, "positive", HOSTILE_COMMENT)]


def test_without_scripts_the_button_records_one(site, engine, chromium):
    url, _ = site
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(link(url, FRESH, "neutral"))
    assert held(engine) == []  # nothing until the customer confirms
    page.click("#confirm button")
    page.wait_for_selector("text=Thank you for your feedback")
    context.close()
    assert held(engine) == [(FRESH, "neutral", None)]


def test_a_flood_from_one_address_is_refused_and_recorded_nowhere(site, engine):
    url, _ = site
    target = link(url, FRESH, "positive")
    from bot.core.rating_links import form_token

    token = form_token(SECRET, FRESH, "positive")
    answers = [httpx.post(target, data={"token": token}) for _ in range(7)]
    assert [a.status_code for a in answers[:5]] == [303] * 5
    assert [a.status_code for a in answers[5:]] == [429, 429]
    assert "Please slow down" in answers[5].text
    assert held(engine) == [(FRESH, "positive", None)]  # five POSTs, one answer


def test_a_post_without_the_pages_token_records_nothing(site, engine):
    url, _ = site
    answer = httpx.post(link(url, FRESH, "positive"), data={"token": "forged"})
    assert answer.status_code == 403
    assert held(engine) == []

"""``WorkflowMessenger`` against a real HTTP server on 127.0.0.1 standing in for a Workflows
"When a Teams webhook request is received" URL: what it posts, how it fails, and that the
signed URL never shows up in errors or logs."""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image

from bot.chat.chart import standings_chart
from bot.chat.message import message_to_json
from bot.chat.messenger import DeliveryRefused
from bot.chat.views import Person, kudos_message, leaderboard_message
from bot.core.delivery import deliver_due
from bot.teams.cards import CARD_CONTENT_TYPE, WORKFLOW_LIMIT, card_size, validate_card
from bot.teams.workflow import CHART_BUDGET, WorkflowMessenger, WorkflowUnavailable
from metrics.contests import Contest
from metrics.definitions import parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window
from storage import outbox
from storage.db import create_engine_for, session_scope
from tests.bot.teams.schema import assert_schema_valid
from tests.loopback import Loopback, QuietHandler

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
SIGNATURE = "s3cr3t-signature-value"
PATH = "/workflows/abc/triggers/manual/paths/invoke"
QUERY = f"api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIGNATURE}"


@dataclass
class FakeWorkflow:
    """Records every request; answers each with the next of ``statuses`` (202 when none)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    server: Loopback | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.body()
                with fake.lock:
                    fake.requests.append((self.path, dict(self.headers), body))
                    status = fake.statuses.pop(0) if fake.statuses else 202
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "7")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = Loopback(Handler).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}{PATH}?{QUERY}"

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, _, body in self.requests]


@pytest.fixture
def workflow() -> Iterator[FakeWorkflow]:
    fake = FakeWorkflow()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def messenger(workflow: FakeWorkflow) -> Iterator[WorkflowMessenger]:
    sender = WorkflowMessenger(workflow.url)
    yield sender
    sender.close()


def big_standings() -> Standings:
    """500 ranked members with long names: a full-size chart of about 80 KB."""
    contest = Contest(
        "Monthly stars", parse_metric_ref("resolved", frozenset()), period=Period.MONTHLY
    )
    window = period_window(Period.MONTHLY, now=NOW, tz=TZ)
    members = {
        f"member {i:03d} with a long name": MemberValues(
            f"member {i:03d} with a long name", {None: 10}, {contest.refs[0].key: float(i)}
        )
        for i in range(500)
    }
    return compute_standings(contest, members, window=window, data_as_of=NOW)


def test_a_standings_post_with_its_chart_fits_the_webhook(workflow, messenger):
    standings = big_standings()
    chart = standings_chart(standings, people={})
    assert len(chart) > 3 * CHART_BUDGET  # far too big for the card as drawn
    message = leaderboard_message(
        standings, people={}, caller=None, shareable=True, share_value="v"
    )
    ref = messenger.post("workflow", message, chart, "stars.png")
    assert ref.startswith("teams-workflow:127.0.0.1:")
    ((path, headers, body),) = workflow.requests
    assert path == f"{PATH}?{QUERY}"  # the URL as given, signature and all
    assert headers["Content-Type"] == "application/json"
    assert len(body) <= 26 * 1024
    payload = json.loads(body)
    (attachment,) = payload["attachments"]
    assert payload == {
        "type": "message",
        "attachments": [
            {"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": attachment["content"]}
        ],
    }
    card = attachment["content"]
    validate_card(card, limit=WORKFLOW_LIMIT)
    assert_schema_valid(card)
    assert card_size(card) <= WORKFLOW_LIMIT
    # the chart is in the card, shrunk: a PNG within the chart budget
    (image,) = [e for e in card["body"] if e["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    png = base64.b64decode(image["url"][len(prefix) :])
    assert len(png) <= CHART_BUDGET
    with Image.open(io.BytesIO(png)) as drawn:
        assert drawn.format == "PNG"
        assert drawn.width >= 300
    # the webhook cannot call back: the Share button is left out, the standings are all there
    assert not any(e["type"] == "ActionSet" for e in card["body"])
    assert "…and 490 more ranked" in json.dumps(card, ensure_ascii=False)


def test_a_post_without_a_chart_and_with_a_mention(workflow, messenger, caplog):
    message = kudos_message(
        person=Person("jane", "Jane", "29:jane"),
        ticket_id=7,
        summary="<at>Everyone</at>",
        company="Acme",
        ticket_url=None,
    )
    with caplog.at_level(logging.INFO):
        messenger.post("workflow", message)
    # httpx logs each request with its URL: the signed part is redacted, the host stays
    (request_line,) = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    host = workflow.url.split(PATH)[0]
    assert request_line.startswith(f"HTTP Request: POST {host}/[redacted] ")
    assert "posted a card to the Teams workflow at 127.0.0.1" in caplog.text
    assert SIGNATURE not in caplog.text
    (payload,) = workflow.payloads()
    card = payload["attachments"][0]["content"]
    validate_card(card, limit=WORKFLOW_LIMIT)
    assert_schema_valid(card)
    assert not any(e["type"] == "Image" for e in card["body"])
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == ["29:jane"]


@pytest.mark.parametrize("status", [429, 412, 500, 502, 504])
def test_throttling_and_server_errors_are_retryable(workflow, messenger, status, caplog):
    workflow.statuses = [status]
    message = kudos_message(
        person=Person("j", "Jane"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(WorkflowUnavailable) as raised:
        messenger.post("workflow", message)
    assert not isinstance(raised.value, DeliveryRefused)
    assert str(status) in str(raised.value)
    assert "127.0.0.1" in str(raised.value)
    assert SIGNATURE not in str(raised.value)
    if status == 429:
        assert "retry after 7 s" in str(raised.value)
    assert SIGNATURE not in caplog.text


@pytest.mark.parametrize("status", [400, 413])
def test_a_payload_the_webhook_refuses_is_refused_for_good(workflow, messenger, status):
    workflow.statuses = [status]
    message = kudos_message(
        person=Person("j", "Jane"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    with pytest.raises(DeliveryRefused, match=str(status)) as raised:
        messenger.post("workflow", message)
    assert SIGNATURE not in str(raised.value)


def test_an_unreachable_webhook_is_retryable_and_the_url_stays_secret(workflow, caplog):
    url = workflow.url
    workflow.stop()  # nothing listens on the port any more
    sender = WorkflowMessenger(url, http=httpx.Client(timeout=2.0))
    message = kudos_message(
        person=Person("j", "Jane"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(WorkflowUnavailable) as raised:
        sender.post("workflow", message)
    assert "unreachable" in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert SIGNATURE not in str(raised.value)
    assert SIGNATURE not in caplog.text


def test_no_dms_and_no_updates(messenger, workflow):
    message = kudos_message(
        person=Person("j", "Jane"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    assert messenger.platform == "teams-workflow"
    assert messenger.dm("jane", message) is None
    with pytest.raises(DeliveryRefused):
        messenger.update("teams-workflow:host:1", message)
    assert workflow.requests == []


def test_the_url_must_be_a_web_url():
    with pytest.raises(ValueError, match="http"):
        WorkflowMessenger("file:///etc/passwd")


def test_the_outbox_retries_a_throttled_post_once_and_gives_up_on_a_refused_one(
    workflow, messenger, database_url: str
):
    engine = create_engine_for(database_url)
    message = kudos_message(
        person=Person("j", "Jane"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    with session_scope(engine) as session:
        for key in ("teams-workflow:throttled", "teams-workflow:refused"):
            outbox.enqueue(
                session,
                key=key,
                platform="teams-workflow",
                kind="post",
                target="workflow",
                message=message_to_json(message),
                now=NOW,
            )
    workflow.statuses = [429, 400]  # the items go oldest first: throttled, then refused
    first = deliver_due(engine, messenger, now=NOW)
    assert (first.sent, first.failed, first.dead) == (0, 2, 1)
    # the first retry comes 30 s later; the refused item is not tried again
    second = deliver_due(engine, messenger, now=NOW + timedelta(seconds=31))
    assert (second.sent, second.failed, second.dead) == (1, 0, 0)
    with session_scope(engine) as session:
        throttled = outbox.get_item(session, key="teams-workflow:throttled")
        refused = outbox.get_item(session, key="teams-workflow:refused")
    assert throttled is not None
    assert throttled.sent_at is not None
    assert refused is not None
    assert refused.dead
    assert SIGNATURE not in (refused.last_error or "")
    assert len(workflow.requests) == 3


def test_post_only_mode_gets_every_contests_standings_but_no_nudges(workflow, messenger, engine):
    """The Workflows channel gets standings without any teams_channel being set, and no DMs."""
    from bot.config import parse_config
    from bot.core.runtime import Runtime

    config = parse_config(
        {
            "timezone": "America/Chicago",
            "contests": [{"name": "Most resolved", "metric": "resolved", "period": "monthly"}],
        }
    )
    now = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # a Friday afternoon in Chicago
    runtime = Runtime(
        engine=engine,
        config=config,
        messengers=(messenger,),
        psa=lambda: pytest.fail("post-only standings need no ConnectWise call"),
        clock=lambda: now,
        ticket_link=lambda _id: None,
    )
    assert runtime.post_standings("Most resolved") == 1
    assert runtime.deliver().sent == 1
    (payload,) = workflow.payloads()
    card = payload["attachments"][0]["content"]
    validate_card(card)
    assert_schema_valid(card)
    assert "Most resolved" in json.dumps(card)
    assert runtime.post_nudges() == 0  # a webhook cannot DM: nothing is queued for it

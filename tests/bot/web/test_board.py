"""The wallboard (README "The wallboard") in Debian's chromium: the standings it shows equal
the standings Deskboard computes, a change reaches the open page within two seconds without a
reload, the page rides out a server restart, a revoked board goes at once, an opted-out
technician is absent from the page, and hostile text stays text."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.chat.message import Actions, Button
from bot.cli import app as cli
from bot.config import parse_config
from bot.core.boards import find_board, new_board, revoke
from bot.core.commands import Caller, CommandContext, handle
from bot.core.personal_links import member_of, personal_token
from bot.core.push import PushReceiver
from bot.core.reports import standings_for_window
from bot.core.sync import store_records
from bot.web.board import BoardPages
from bot.web.charts import sparkline
from bot.web.routes import http_app
from metrics.ratings import Rating, RatingSource, RatingValue
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage import notices, people, ratings
from storage.db import create_engine_for, session_scope
from tests.browser import chromium as chromium
from tests.browser import served

NOW = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)  # Friday 16:00 in Chicago
HOSTILE = '<img src=x onerror="window.pwned=1">Cup & <b>co</b>'
CONFIG = parse_config(
    {
        "timezone": "America/Chicago",
        "contests": [
            {
                "name": HOSTILE,
                "metric": "resolved",
                "period": "monthly",
                "prize": "<script>window.pwned=2</script>Lunch",
            }
        ],
    }
)
RESOLVED = {"jsmith": 3, "apatel": 2, "hidden": 4}  # hidden opts out


class Refusing:
    def verify(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("no callback here")


def resolved(ticket_id: int, member: str, days_ago: float) -> TicketRecord:
    at = NOW - timedelta(days=days_ago)
    return TicketRecord(
        id=ticket_id, summary="Fixed", closed=True, resolver=member, resolved_at=at, updated_at=at
    )


def store(engine: Any, records: list[TicketRecord]) -> None:
    store_records(
        engine, records=records, params=CONFIG.derive_params(), waiting_rule=WaitingRule()
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    engine = create_engine_for(database_url)
    ids = iter(range(1000, 2000))
    store(engine, [resolved(next(ids), m, 1 + i) for m, n in RESOLVED.items() for i in range(n)])
    with session_scope(engine) as session:
        people.set_opt_out(session, member_key="hidden", opted_out=True, at=NOW)
    yield engine
    engine.dispose()


def pages(engine: Any) -> BoardPages:
    return BoardPages(engine=engine, config=lambda: CONFIG, clock=lambda: NOW)


def app_of(engine: Any) -> Any:
    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: NOW)
    return http_app(callbacks=receiver, boards=pages(engine))


@pytest.fixture
def board(engine: Any) -> str:
    _, token = new_board(engine, name="Office TV", contests=[], theme="dark", actor="t", now=NOW)
    return token


def truth(engine: Any) -> list[tuple[str, str]]:
    (contest,) = CONFIG.contest_list()
    window = contest.window(now=NOW, tz=CONFIG.tz, week_start=CONFIG.week_start_day)
    standings = standings_for_window(engine, config=CONFIG, contest=contest, window=window)
    names = {"hidden": "a teammate"}
    return [(names.get(s.member, s.member), f"{s.value:g}") for s in standings.ranked]


# The page shows the stream's state (not only the server-rendered first screen) and is
# connected.
LIVE = (
    "document.getElementById('board').hasAttribute('data-live')"
    " && document.getElementById('status').hidden === true"
)


def new_page(chromium: Any, **options: Any) -> Any:
    """A page whose test probes (``wait_for_function``) may run despite the board's CSP; the
    CSP itself is checked on the headers, and escaping is proved without its safety net."""
    return chromium.new_page(bypass_csp=True, **options)


def shown(page: Any) -> list[tuple[str, str]]:
    rows = page.locator("#ranked li.row")
    return [
        (rows.nth(i).locator(".name").inner_text(), rows.nth(i).locator(".value").inner_text())
        for i in range(rows.count())
    ]


def test_the_board_shows_the_standings_deskboard_computes(engine, board, chromium):
    with served(app_of(engine)) as url:
        page = new_page(chromium, viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/board/{board}")
        page.wait_for_function(LIVE)
        assert (
            shown(page) == truth(engine) == [("a teammate", "4"), ("jsmith", "3"), ("apatel", "2")]
        )
        html = page.content()
        assert "hidden" not in page.locator("#ranked").inner_text()  # opted out: no name
        assert "a teammate" in html
        # hostile names and prizes are text
        assert page.locator("#title").inner_text() == HOSTILE
        assert "<script>window.pwned=2</script>Lunch" in page.locator("#prize").inner_text()
        assert page.evaluate("window.pwned") is None
        assert page.locator("img").count() == 0
        page.close()  # its stream ends with it; the server stops without waiting


def test_a_change_shows_within_two_seconds_without_a_reload(engine, board, chromium):
    with served(app_of(engine)) as url:
        page = new_page(chromium)
        page.goto(f"{url}/board/{board}")
        page.wait_for_function(LIVE)
        page.evaluate("window.sameDocument = true")
        store(engine, [resolved(3000 + i, "apatel", 0.5) for i in range(3)])
        started = time.monotonic()
        page.wait_for_function(
            "document.querySelector('#ranked li.row .name').textContent === 'apatel'",
            timeout=2000,
        )
        assert time.monotonic() - started < 2.0
        assert page.evaluate("window.sameDocument") is True  # updated in place
        assert shown(page)[0] == ("apatel", "5")
        page.close()


@contextmanager
def server_on(app: Any, port: int) -> Iterator[None]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)


def test_the_board_rides_out_a_server_restart(engine, board, chromium):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page = new_page(chromium)
    with server_on(app_of(engine), port):
        page.goto(f"http://127.0.0.1:{port}/board/{board}")
        page.wait_for_function(LIVE)
        page.evaluate("window.sameDocument = true")
    page.wait_for_function("document.getElementById('status').hidden === false", timeout=10000)
    assert shown(page) == truth(engine)  # the last good screen stays
    store(engine, [resolved(4000 + i, "apatel", 0.5) for i in range(3)])
    with server_on(app_of(engine), port):
        page.wait_for_function(
            "document.getElementById('status').hidden === true"
            " && document.querySelector('#ranked li.row .name').textContent === 'apatel'",
            timeout=10000,
        )
    assert page.evaluate("window.sameDocument") is True


def test_a_revoked_board_is_gone_at_once(engine, chromium):
    made, token = new_board(engine, name="Lobby", contests=[], theme="light", actor="t", now=NOW)
    with served(app_of(engine)) as url:
        page = new_page(chromium)
        page.goto(f"{url}/board/{token}")
        page.wait_for_function(LIVE)
        assert page.evaluate("document.body.className") == "theme-light"
        assert revoke(engine, board_id=made.id, now=NOW)
        page.wait_for_function(
            "document.getElementById('title').textContent === 'This board was revoked'",
            timeout=3000,
        )
        again = httpx.get(f"{url}/board/{token}")
        assert again.status_code == 404
        assert "This board does not exist" in again.text
        assert "Traceback" not in again.text
        page.close()


def test_pages_are_strict_and_unknown_tokens_are_404(engine, board):
    with served(app_of(engine)) as url:
        page = httpx.get(f"{url}/board/{board}")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-frame-options"] == "DENY"
        assert "http" not in page.text.replace(url, "")  # nothing from another site
        for path in ("/board/nope", "/board/" + "x" * 500, "/board/a/b/c", f"/board/{board}x"):
            missing = httpx.get(f"{url}{path}")
            assert missing.status_code == 404, path
        assert (
            httpx.get(f"{url}/board/static/board.js")
            .headers["content-type"]
            .startswith("text/javascript")
        )


def test_the_token_is_shown_once_and_kept_only_as_a_hash(
    engine, tmp_path, monkeypatch, database_url
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(
        'timezone = "America/Chicago"\n[[contests]]\nname = "Most resolved"\nmetric = "resolved"\n'
        'period = "monthly"\n'
    )
    env = {"DESKBOARD_DATABASE_URL": database_url}
    made = CliRunner().invoke(
        cli, ["board", "new", "Office TV", "--contests", "Most resolved"], env=env
    )
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    assert url.startswith("http://localhost:3000/board/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, base64
    found = find_board(engine, token)
    assert found is not None
    assert found.contests == ("Most resolved",)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_hash FROM wallboards").scalars().all()
    assert token not in stored
    listed = CliRunner().invoke(cli, ["board", "list"], env=env)
    assert "Office TV" in listed.stdout
    assert token not in listed.stdout
    bad = CliRunner().invoke(cli, ["board", "new", "X", "--contests", "Nope"], env=env)
    assert bad.exit_code == 2
    assert "no running contest named 'Nope'" in bad.stderr
    gone = CliRunner().invoke(cli, ["board", "revoke", str(found.id)], env=env)
    assert gone.exit_code == 0
    assert find_board(engine, token) is None
    again = CliRunner().invoke(cli, ["board", "revoke", str(found.id)], env=env)
    assert again.exit_code == 2


def me_pages(engine: Any, now: list[datetime]) -> Any:
    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: now[0])
    pages = BoardPages(
        engine=engine,
        config=lambda: CONFIG,
        clock=lambda: now[0],
        ticket_link=lambda ticket: f"https://cw.example/ticket?id={ticket}",
    )
    return http_app(callbacks=receiver, boards=pages)


def test_the_personal_page_shows_one_technician_and_expires(engine):
    now = [NOW]
    token = personal_token(engine, member="jsmith", now=NOW)
    with served(me_pages(engine, now)) as url:
        page = httpx.get(f"{url}/me/{token}")
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert "<h1>jsmith</h1>" in page.text
        assert "November 2026" in page.text
        assert "October 2026" in page.text  # the trend: this month and the two before
        assert "#2 of 3" in page.text  # in the hostile-named contest, behind "a teammate"
        for other in ("apatel", "hidden", "a teammate"):
            assert other not in page.text  # only that technician's data
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert httpx.get(f"{url}/me/{tampered}").status_code == 404
        assert httpx.get(f"{url}/me/not-a-token").status_code == 404
        now[0] = NOW + timedelta(days=7)
        expired = httpx.get(f"{url}/me/{token}")
        assert expired.status_code == 410
        assert "/mystats gives you a new one" in expired.text


def test_mystats_gives_the_personal_link_where_the_address_is_known(engine):
    config = CONFIG.model_copy(
        update={"csat": CONFIG.csat.model_copy(update={"public_url": "https://desk.example"})}
    )
    ctx = CommandContext(
        engine=engine,
        config=config,
        now=NOW,
        platform="slack",
        caller=Caller(user_id="U1", member_key="jsmith"),
        ticket_link=lambda ticket: None,
    )
    message = handle("mystats", "", ctx)
    (button,) = [
        e
        for b in message.blocks
        if isinstance(b, Actions)
        for e in b.elements
        if isinstance(e, Button)
    ]
    assert button.url is not None
    assert button.url.startswith("https://desk.example/me/")
    assert member_of(engine, button.url.rsplit("/", 1)[1], now=NOW) == "jsmith"
    plain = handle("mystats", "", replace(ctx, config=CONFIG))
    assert not [b for b in plain.blocks if isinstance(b, Actions)]


def test_the_ticker_shows_kudos_and_customers_kind_words_as_text(engine, board, chromium):
    with session_scope(engine) as session:
        notices.record_kudos(
            session,
            ticket_id=1000,
            member_key="jsmith",
            resolved_at=NOW - timedelta(days=1),
            at=NOW,
        )
        ratings.upsert_ratings(
            session,
            ratings=[
                Rating(
                    ticket_id=1001,
                    respondent="ceo@acme.example",
                    value=RatingValue.POSITIVE,
                    rated_at=NOW - timedelta(hours=3),
                    source=RatingSource.LINK,
                    comment='<img src=x onerror="window.pwned=3">Fast & friendly!',
                )
            ],
            now=NOW,
        )
    with served(app_of(engine)) as url:
        page = new_page(chromium)
        page.goto(f"{url}/board/{board}")
        page.wait_for_function(LIVE)
        ticker = page.locator("#ticker").inner_text()
        assert "Kudos · jsmith: #1000 Fixed" in ticker
        assert '“<img src=x onerror="window.pwned=3">Fast & friendly!” — about jsmith' in ticker
        assert page.evaluate("window.pwned") is None
        page.close()


def test_a_goal_shows_as_a_line_across_the_bars(engine, board, chromium):
    goal = CONFIG.with_program(
        {
            "contests": [
                {"name": "Three a month", "metric": "resolved", "period": "monthly", "goal": 3}
            ]
        }
    )
    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: NOW)
    app = http_app(
        callbacks=receiver, boards=BoardPages(engine=engine, config=lambda: goal, clock=lambda: NOW)
    )
    with served(app) as url:
        page = new_page(chromium)
        page.goto(f"{url}/board/{board}")
        page.wait_for_function(LIVE)
        lines = page.locator("#ranked .goal")
        assert lines.count() == 3  # one on each bar
        assert lines.first.evaluate("e => e.style.left") == "75%"  # 3 of the best 4
        assert "goal 3" in page.locator("#sub").inner_text()
        page.close()


def test_the_personal_page_draws_each_numbers_trend(engine):
    store(engine, [resolved(5000, "jsmith", 70), resolved(5001, "jsmith", 71)])  # September
    token = personal_token(engine, member="jsmith", now=NOW)
    with served(me_pages(engine, [NOW])) as url:
        page = httpx.get(f"{url}/me/{token}").text
    (label,) = re.findall(r'aria-label="Resolved: ([^"]*)"', page)
    assert label.startswith("June 2026 —, July 2026 —")  # six months, oldest first
    assert label.endswith("September 2026 2, October 2026 —, November 2026 3")
    row = page[page.index('aria-label="Resolved:') :]
    svg = row[: row.index("</svg>")]
    dots = [(float(x), float(y)) for x, y in re.findall(r'cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert dots == [(71.2, 28.0), (116.0, 4.0)]  # September low, November (the best) on top
    assert "<polyline" not in svg  # October is unknown: no line joins the two
    assert sparkline([1, 2, None, 2]).lines == ("4,28 41.33,4",)
    assert sparkline([5, 5]).dots == ((4.0, 16.0), (116.0, 16.0))
    assert sparkline([None, None]) == sparkline([])

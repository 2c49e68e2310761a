"""The README's screenshots (``make screenshots``): the contest modal and the App Home's admin
tab (a simulated MSP synced into a scratch database, the exact Block Kit Deskboard sends
Slack, drawn as HTML by ``tools.blockkit_html``), and the wallboard in both themes (the
demo's month, served by Deskboard's own web app); photographed by Debian's chromium under
Playwright (nothing downloads a browser).

    python -m tools.screenshots [OUT_DIR]     (default: docs/images)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from bench.browser import CHROMIUM_ARGS
from bot.chat.message import Message
from bot.core.contest_admin import contests_overview
from bot.core.contest_form import FormState
from bot.core.program import Actor, LiveConfig, replace_program
from bot.core.program_forms import refresh_form
from bot.core.sync import run_sync
from bot.demo import demo_config
from bot.slack.blocks import to_slack
from bot.slack.forms import form_view
from bot.slack.listeners.home import tab_bar
from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage.db import create_engine_for, migrate
from tools import blockkit_html
from tools.blockkit_html import home_html, modal_html

NOW = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)  # Friday 16:00 in Chicago
START = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
NEW_CONTEST = {
    "name": "December sprint",
    "metric": "categorized_pct",
    "category": "all",
    "period": "monthly",
    "kind": "places",
    "places": "3",
    "goal": "90",
    "min_resolved": "5",
    "prize": "Lunch on the company for the top three",
    "channel": "C0SERVICE",
    "post": "every weekday at 9:00",
}


def build(folder: Path) -> tuple[str, str]:
    """The modal's and the admin tab's pages."""
    config = demo_config()
    engine = create_engine_for(f"sqlite:///{folder / 'screens.db'}")
    migrate(engine)
    msp = generate_msp(seed=7, start=START, end=NOW, timezone=config.timezone)
    with SimulatorServer(msp, clock=NOW) as server, server.connectwise_client() as client:
        run_sync(client=client, engine=engine, config=config, now=NOW, since=START.date())
    live = LiveConfig.adopt(engine, config, now=NOW)
    doc = live.current().program_doc()
    doc["contests"] = [
        *doc["contests"],
        {
            "name": "Holiday cup",
            "metric": "avg_response_minutes",
            "start": date(2026, 12, 14),
            "end": date(2026, 12, 24),
            "kind": "winner_takes_all",
            "prize": "A day off in January",
            "channel": "#service-desk",
        },
        {
            "name": "October resolves",
            "metric": "resolved",
            "start": date(2026, 10, 1),
            "end": date(2026, 11, 1),
            "channel": "#service-desk",
        },
    ]
    actor = Actor("Ines Director (slack U0ADMIN)", "slack")
    replace_program(engine, config.with_program(doc), actor=actor, now=NOW)
    live.refresh()
    current = live.current()
    form = refresh_form(
        engine,
        current,
        form_id="contest",
        values=NEW_CONTEST,
        state=FormState("new"),
        platform="slack",
        now=NOW,
    )
    blockkit_html.CHANNELS["C0SERVICE"] = "service-desk"
    modal = modal_html(form_view(form))
    overview = contests_overview(engine, current, now=NOW, platform="slack", admin=True)
    home = Message(overview.text, tab_bar("admin").blocks + overview.blocks)
    engine.dispose()
    return modal, home_html({"type": "home", "blocks": to_slack(home)[1]})


def board_shots(folder: Path, out: Path) -> None:
    """The wallboard of the demo's month, dark and light, at 1920x1080."""
    import io
    import threading
    import time

    import uvicorn
    from playwright.sync_api import sync_playwright
    from rich.console import Console

    from bot.core.boards import new_board
    from bot.core.personal_links import personal_token
    from bot.core.push import PushReceiver
    from bot.demo import _NoCallbacks, run_demo
    from bot.web.board import BoardPages
    from bot.web.routes import http_app

    database = folder / "demo.db"
    until = run_demo(Console(file=io.StringIO()), seed=7, database=database, now=NOW)
    config = demo_config()
    engine = create_engine_for(f"sqlite:///{database}")
    tokens = {
        theme: new_board(
            engine, name="Office TV", contests=(), theme=theme, actor="shots", now=until
        )[1]
        for theme in ("dark", "light")
    }
    me_token = personal_token(engine, member="jsmith", now=until)
    receiver = PushReceiver(verifier=_NoCallbacks(), sync_ticket=print, clock=lambda: until)
    app = http_app(
        callbacks=receiver,
        boards=BoardPages(
            engine=engine,
            config=lambda: config,
            clock=lambda: until,
            ticket_link=lambda ticket: f"https://cw.example/ticket/{ticket}",
        ),
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (make setup installs Debian's chromium)")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            shots = [
                ("board-dark.png", tokens["dark"], 1920, 1080),
                ("board-light.png", tokens["light"], 1920, 1080),
                ("board-4k.png", tokens["dark"], 3840, 2160),
            ]
            for name, token, width, height in shots:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"http://127.0.0.1:{port}/board/{token}")
                page.locator("#board[data-live]").wait_for(state="attached")
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / name))
                print(f"wrote {out / name}")
                page.close()
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/me/{me_token}")
            page.screenshot(path=str(out / "personal-page.png"), full_page=True)
            print(f"wrote {out / 'personal-page.png'}")
            page.close()
            browser.close()
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
        receiver.close()
        engine.dispose()


def photograph(pages: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (make setup installs Debian's chromium)")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 960, "height": 800}, device_scale_factor=1)
        for name, content in pages.items():
            page.set_content(content)
            page.locator(".frame").screenshot(path=str(out / name))
            print(f"wrote {out / name}")
        browser.close()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images")
    with tempfile.TemporaryDirectory() as folder:
        modal, home = build(Path(folder))
    photograph({"contest-modal.png": modal, "admin-tab.png": home}, out)
    with tempfile.TemporaryDirectory() as folder:
        board_shots(Path(folder), out)


if __name__ == "__main__":
    main()

"""``deskboard demo``: the whole pipeline against the built-in ConnectWise simulator.

The simulator generates an MSP (technicians, boards, companies, a month of tickets) and
serves it over HTTP on 127.0.0.1. The demo advances the simulator's clock in steps of a few
hours and runs the bot's own jobs at each step, exactly as the scheduler would: sync (with
kudos and nudges for fresh resolutions), nudge digests in business hours, and at the end the
contests' standings posts with their chart. Nothing goes to a chat platform: a recording
messenger keeps every message, and a sample is printed through the console messenger.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from bot.chat.message import Message
from bot.chat.messenger import ConsoleMessenger
from bot.config import DeskboardConfig, parse_config
from bot.console import metrics_tables, standings_panel
from bot.core.nudging import in_business_hours
from bot.core.reports import contest_standings, metrics_from_database
from bot.core.runtime import Runtime
from bot.core.sync import run_sync
from bot.wiring import member_names
from metrics.windows import Period, Window, period_window
from psa.connectwise.simulator import SimulatorServer, generate_msp
from psa.port import Push, PushRejected
from storage.db import create_engine_for, migrate

DEMO_CONFIG = Path(__file__).with_name("demo.toml")
CUSTOMER_WORDS = "a customer"  # in the text of kudos for a customer's rating
STEP = timedelta(hours=6)
SLA_ALERT = "sla-alert:"  # in the outbox key of every SLA-risk alert (bot.core.alerting)
LEAD_IN = timedelta(days=14)
"""Tickets entered this long before the month start, so some resolve inside the month."""


def demo_config() -> DeskboardConfig:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    return parse_config(tomllib.loads(text), source="bot/demo.toml")


def demo_window(config: DeskboardConfig, now: datetime) -> Window:
    """This month, or last month during the first three days of a month (too little data)."""
    month = period_window(Period.MONTHLY, now=now, tz=config.tz)
    if now - month.start < timedelta(days=3):
        return period_window(Period.MONTHLY, now=now, tz=config.tz, offset=-1)
    return month


@dataclass(frozen=True, slots=True)
class Sent:
    kind: str  # "post" | "dm" | "update"
    target: str
    message: Message
    at: datetime
    attachment: bytes | None = None
    attachment_name: str | None = None
    key: str = ""  # the outbox key it was sent under


class RecordingMessenger:
    """Keeps what the jobs send (the demo prints a sample of it afterwards)."""

    platform = "demo"

    def __init__(self, clock: list[datetime]) -> None:
        self.sent: list[Sent] = []
        self._clock = clock

    def post(
        self,
        channel: str,
        message: Message,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        *,
        key: str | None = None,
    ) -> str:
        self.sent.append(
            Sent("post", channel, message, self._clock[0], attachment, attachment_name, key or "")
        )
        return f"demo:{len(self.sent)}"

    def dm(
        self, member_key: str, message: Message, *, key: str | None = None, safety: bool = False
    ) -> str | None:
        self.sent.append(Sent("dm", member_key, message, self._clock[0], key=key or ""))
        return f"demo:{len(self.sent)}"

    def update(self, ref: str, message: Message) -> None:
        self.sent.append(Sent("update", ref, message, self._clock[0]))

    def reply(self, ref: str, message: Message, *, key: str | None = None) -> str:
        self.sent.append(Sent("reply", ref, message, self._clock[0]))
        return f"demo:{len(self.sent)}"

    def find_delivered(self, *, kind: str, target: str, key: str, since: datetime) -> str | None:
        return None  # the demo never crashes between a send and its commit


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _clock_steps(start: datetime, until: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every ``STEP``, and at 01:30 local each night: the simulator's night emergencies come
    in between 01:00 and 01:45, and a sync then shows what an alert says while they wait (in
    production the alerts are checked every minute and on every push)."""
    steps = set()
    clock = start
    while clock < until:
        steps.add(clock)
        night = datetime.combine(clock.astimezone(tz).date(), time(1, 30), tzinfo=tz)
        if start < night < until:
            steps.add(night.astimezone(UTC))
        clock += STEP
    steps.add(until)
    return sorted(steps)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("syncs"),
        TimeElapsedColumn(),
        console=console,
    )


def run_demo(
    console: Console, *, seed: int, database: Path, now: datetime, serving: bool = False
) -> datetime:
    """Replay the month and show it; returns the instant the replay stopped at."""
    config = demo_config()
    tz = config.tz
    window = demo_window(config, now)
    # A month replayed in full ends a minute before the next one starts: at window.end the
    # contests would already show the new, empty, period.
    until = min(now, window.end - timedelta(minutes=1))
    console.rule("[bold]Deskboard demo")
    console.print(
        f"Generating an MSP with the ConnectWise simulator (seed {seed}): "
        f"{window.start - LEAD_IN:%d %b} → {until.astimezone(tz):%d %b %Y %H:%M %Z}."
    )
    msp = generate_msp(
        seed=seed,
        start=window.start - LEAD_IN,
        end=until,
        timezone=config.timezone,
        night_emergencies=True,
    )
    _remove_database(database)
    engine = create_engine_for(f"sqlite:///{database}")
    migrate(engine)
    clocks = _clock_steps(window.start, until, tz)
    current = [clocks[0]]
    messenger = RecordingMessenger(current)
    with SimulatorServer(msp, clock=clocks[0]) as server:
        console.print(f"Simulator listening at [cyan]{server.url}[/]")

        runtime = Runtime(
            engine=engine,
            config=config,
            messengers=(messenger,),
            psa=server.connectwise_client,
            clock=lambda: current[0],
            ticket_link=lambda ticket_id: f"https://cw.example/ticket/{ticket_id}",
        )
        with _progress(console) as progress:
            task = progress.add_task("Syncing from ConnectWise", total=len(clocks))
            stored = 0
            for i, clock in enumerate(clocks):
                current[0] = server.clock = clock
                if i == 0:  # the backfill: history, not news (no kudos, no nudges)
                    with server.connectwise_client() as client:
                        report = run_sync(
                            client=client,
                            engine=engine,
                            config=config,
                            now=clock,
                            since=window.start.astimezone(tz).date(),
                        )
                else:
                    report = runtime.sync()
                    if in_business_hours(config, clock):
                        runtime.post_nudges()
                        runtime.deliver()
                stored += report.inserted
                progress.update(
                    task, advance=1, description=f"Syncing from ConnectWise ({stored} tickets)"
                )
            for contest in config.contest_list():
                runtime.post_standings(contest.name)
            runtime.deliver()
    _show_results(console, engine, config, window, until, messenger.sent, database, serving)
    engine.dispose()
    return until


def _show_results(
    console: Console,
    engine: Engine,
    config: DeskboardConfig,
    window: Window,
    now: datetime,
    sent: list[Sent],
    database: Path,
    serving: bool = False,
) -> None:
    names = member_names(engine)
    console.print()
    console.rule(f"[bold]The month so far: {escape(window.label())}")
    report = metrics_from_database(
        engine, config=config, window=window, basis=config.metrics.time_basis
    )
    console.print(metrics_tables(report, names))
    console.print()
    console.rule("[bold]Contests")
    for contest in config.contest_list():
        result = contest_standings(engine, config=config, contest=contest, now=now)
        console.print(standings_panel(result, names, config.tz))
    _show_messages(console, config, sent, database)
    console.print()
    console.print(
        Panel(
            "\n".join(
                [
                    f"The demo database is [cyan]{escape(str(database))}[/]; explore it with:",
                    f"  export DESKBOARD_DATABASE_URL=sqlite:///{escape(str(database))}",
                    "  .venv/bin/deskboard standings -c bot/demo.toml",
                    "  .venv/bin/deskboard metrics -c bot/demo.toml --json",
                    "  .venv/bin/deskboard post leaderboard -c bot/demo.toml --dry-run",
                    (
                        "The month on a wallboard: starting below."
                        if serving
                        else "The month on a wallboard (this run was non-interactive):\n"
                        "  .venv/bin/deskboard demo --serve"
                    ),
                    "Connect your own ConnectWise: README.md, 'Connecting ConnectWise'.",
                    "Add Deskboard to Slack: README.md, 'Slack'.",
                    "Define your contests: deskboard.example.toml and the README's reference.",
                ]
            ),
            title="Where to go next",
            title_align="left",
        )
    )


def _show_messages(
    console: Console, config: DeskboardConfig, sent: list[Sent], database: Path
) -> None:
    to_kudos = [s for s in sent if s.kind == "post" and s.target == config.kudos.channel]
    csat_kudos = [s for s in to_kudos if CUSTOMER_WORDS in s.message.text]
    kudos = [s for s in to_kudos if CUSTOMER_WORDS not in s.message.text]
    alerts = [
        s
        for s in sent
        if s.kind == "post" and s.target == config.csat.alert_channel and SLA_ALERT not in s.key
    ]
    recoveries = [s for s in sent if s.kind == "reply"]
    digests = [s for s in sent if s.kind == "dm" and SLA_ALERT not in s.key]
    risk = [s for s in sent if s.kind in ("post", "dm") and SLA_ALERT in s.key]
    risk_posts = [s for s in risk if s.kind == "post"]
    cleared = [s for s in sent if s.kind == "update"]
    standings = [s for s in sent if s.kind == "post" and s.attachment_name]
    console.print()
    console.rule("[bold]What Deskboard sent to chat (printed, not sent)")
    console.print(
        f"{len(kudos)} kudos posts (at most {config.kudos.daily_cap} per technician a day), "
        f"{len(csat_kudos)} kudos for customers' kind words, "
        f"{len(alerts)} bad-rating alerts to managers ({len(recoveries)} recovered), "
        f"{len(digests)} nudge digests (one DM a day per technician, business hours only), "
        f"{len(standings)} standings posts with a chart, "
        f"{len(risk_posts)} SLA-risk alerts posted and {len(risk) - len(risk_posts)} sent to "
        f"owners ({len(cleared)} messages updated in place once the ticket was dealt with)."
    )
    if risk_posts:
        console.print("SLA-risk alerts as they fired (the first few):")
        for s in risk_posts[:6]:
            console.print(
                f"  {s.at.astimezone(config.tz):%a %d %b %H:%M} {s.target}: "
                f"{escape(s.message.text)}",
                highlight=False,
            )
    transcript = database.with_name("demo-messages.txt")
    with transcript.open("w", encoding="utf-8") as out:
        everything = ConsoleMessenger(Console(file=out, width=100, color_system=None))
        for s in sent:
            if s.kind == "dm":
                everything.dm(s.target, s.message)
            elif s.kind == "post":
                everything.post(s.target, s.message, s.attachment, s.attachment_name)
            elif s.kind == "reply":
                everything.reply(s.target, s.message)
            elif s.kind == "update":
                everything.update(s.target, s.message)
    console.print(f"Every message is printed in [cyan]{escape(str(transcript))}[/]; a sample:")
    printer = ConsoleMessenger(console)
    last_day = max((s.at.astimezone(config.tz).date() for s in kudos), default=None)
    for s in [k for k in kudos if k.at.astimezone(config.tz).date() == last_day][:2]:
        printer.post(s.target, s.message)
    for s in csat_kudos[-1:] + alerts[-1:] + risk_posts[:1]:
        printer.post(s.target, s.message)
    if digests:
        last = digests[-1]
        printer.dm(last.target, last.message)
    for s in standings[:1]:
        chart = database.with_name(s.attachment_name or "chart.png")
        chart.write_bytes(s.attachment or b"")
        printer.post(s.target, s.message, s.attachment, s.attachment_name)
        console.print(f"The chart is in [cyan]{escape(str(chart))}[/].")


class _NoCallbacks:
    """The demo serves no ConnectWise callbacks: every one is refused."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> Push:
        raise PushRejected(404, "the demo takes no callbacks")


def serve_demo_board(
    console: Console, *, database: Path, now: datetime, host: str, port: int
) -> None:
    """Serve the demo's month on a wallboard until Ctrl-C (``deskboard demo --serve``)."""
    import uvicorn

    from bot.core.boards import new_board
    from bot.core.push import PushReceiver
    from bot.web.board import BoardPages
    from bot.web.routes import http_app

    config = demo_config()
    engine = create_engine_for(f"sqlite:///{database}")
    _, token = new_board(engine, name="Demo", contests=(), theme="dark", actor="demo", now=now)
    receiver = PushReceiver(verifier=_NoCallbacks(), sync_ticket=print, clock=lambda: now)
    pages = BoardPages(engine=engine, config=lambda: config, clock=lambda: now)
    app = http_app(callbacks=receiver, boards=pages)
    console.print(
        Panel(
            f"Open [cyan]http://{host}:{port}/board/{token}[/] (Ctrl-C stops it).",
            title="The demo's month on a wallboard",
            title_align="left",
        )
    )
    console.file.flush()  # the URL shows at once, even through a pipe
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        receiver.close()
        engine.dispose()

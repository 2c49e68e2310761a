"""``deskboard demo``: the whole pipeline against the built-in ConnectWise simulator.

The simulator generates an MSP (technicians, boards, companies, a month of tickets) and
serves it over HTTP on 127.0.0.1. The demo advances the simulator's clock in steps of a few
hours and syncs after each step, exactly as the scheduler would in production, so Deskboard
sees tickets change status (waiting periods, reopens) and records its own history. Then it
shows the month's standings, and the kudos and nudges it would have sent on the last day.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from bot.config import DeskboardConfig, parse_config
from bot.console import metrics_tables, standings_panel
from bot.jobs import run_sync
from bot.reports import contest_standings, metrics_from_database
from bot.wiring import member_names
from metrics.derive import DerivedTicket, derive
from metrics.triggers import NudgeReason, earns_kudos, nudge_reasons
from metrics.windows import Period, Window, period_window
from psa.connectwise import ConnectWiseClient, build_http_client
from psa.simulator import SimulatorServer, generate_msp
from storage import repo
from storage.db import create_engine_for, migrate, session_scope

DEMO_CONFIG = Path(__file__).with_name("demo.toml")
STEP = timedelta(hours=6)
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
class Notice:
    ticket_id: int
    member: str
    summary: str
    company: str
    seen_on: date
    reasons: tuple[NudgeReason, ...] = ()


REASON_TEXT = {
    NudgeReason.UNCATEGORIZED: "is missing its type, subtype or item",
    NudgeReason.NO_AGREEMENT: "has no agreement",
    NudgeReason.CATCHALL: "sits in the Catchall company",
}


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(console: Console, *, seed: int, database: Path, now: datetime) -> None:
    config = demo_config()
    tz = config.tz
    window = demo_window(config, now)
    until = min(now, window.end)
    console.rule("[bold]Deskboard demo")
    console.print(
        f"Generating an MSP with the ConnectWise simulator (seed {seed}): "
        f"{window.start - LEAD_IN:%d %b} → {until.astimezone(tz):%d %b %Y %H:%M %Z}."
    )
    msp = generate_msp(seed=seed, start=window.start - LEAD_IN, end=until, timezone=config.timezone)
    _remove_database(database)
    engine = create_engine_for(f"sqlite:///{database}")
    migrate(engine)
    params = config.derive_params()
    clocks = _clock_steps(window.start, until)
    kudos: list[Notice] = []
    nudges: list[Notice] = []
    with SimulatorServer(msp, clock=clocks[0]) as server:
        console.print(f"Simulator listening at [cyan]{server.url}[/]")
        http = build_http_client(
            api_url=server.url,
            company=server.company,
            public_key=server.public_key,
            private_key=server.private_key,
            client_id=server.client_id,
        )
        with http, _progress(console) as progress:
            client = ConnectWiseClient(http)
            task = progress.add_task("Syncing from ConnectWise", total=len(clocks))
            stored = 0
            for i, clock in enumerate(clocks):
                server.clock = clock
                report = run_sync(
                    client=client,
                    engine=engine,
                    config=config,
                    now=clock,
                    since=window.start.astimezone(tz).date() if i == 0 else None,
                    params=params,
                )
                stored += report.inserted
                if i > 0:  # the first sync is the backfill: nothing in it is news
                    seen_on = clock.astimezone(tz).date()
                    _collect(engine, config, report.newly_resolved, seen_on, kudos, nudges)
                progress.update(
                    task,
                    advance=1,
                    description=f"Syncing from ConnectWise ({stored} tickets)",
                )
    names = member_names(engine)
    _show_results(console, engine, config, window, names, until, kudos, nudges, database)


def capped(notices: list[Notice], cap: int) -> list[Notice]:
    """At most ``cap`` kudos per technician a day ([kudos] daily_cap), first come first served."""
    given: dict[tuple[str, date], int] = {}
    kept = []
    for notice in notices:
        key = (notice.member, notice.seen_on)
        if given.get(key, 0) < cap:
            given[key] = given.get(key, 0) + 1
            kept.append(notice)
    return kept


def _clock_steps(start: datetime, until: datetime) -> list[datetime]:
    steps = []
    clock = start
    while clock < until:
        steps.append(clock)
        clock += STEP
    steps.append(until)
    return steps


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("syncs"),
        TimeElapsedColumn(),
        console=console,
    )


def _collect(
    engine: Engine,
    config: DeskboardConfig,
    ticket_ids: list[int],
    seen_on: date,
    kudos: list[Notice],
    nudges: list[Notice],
) -> None:
    if not ticket_ids:
        return
    params = config.derive_params()
    excluded = config.excluded_members
    reasons_on = [NudgeReason(r) for r in config.nudges.reasons]
    with session_scope(engine) as session:
        records = repo.get_tickets(session, ids=ticket_ids)
    for record in records:
        derived: DerivedTicket = derive(record, params=params)
        if derived.resolver_key is None:
            continue
        notice = Notice(
            record.id,
            derived.resolver_key,
            record.summary or "(no summary)",
            record.company_name or record.company or "no company",
            seen_on,
        )
        if earns_kudos(derived, excluded=excluded):
            kudos.append(notice)
        reasons = nudge_reasons(derived, enabled=reasons_on, excluded=excluded)
        if config.nudges.enabled and reasons:
            nudges.append(replace(notice, reasons=reasons))


def _show_results(
    console: Console,
    engine: Engine,
    config: DeskboardConfig,
    window: Window,
    names: dict[str, str],
    now: datetime,
    kudos: list[Notice],
    nudges: list[Notice],
    database: Path,
) -> None:
    tz: ZoneInfo = config.tz
    console.print()
    console.rule(f"[bold]The month so far: {escape(window.label())}")
    report = metrics_from_database(
        engine,
        config=config,
        window=window,
        basis=config.metrics.time_basis,
    )
    console.print(metrics_tables(report, names))
    console.print()
    console.rule("[bold]Contests")
    for contest in config.contest_list():
        result = contest_standings(engine, config=config, contest=contest, now=now)
        console.print(standings_panel(result, names, tz))
    console.print()
    day = max((n.seen_on for n in kudos + nudges), default=None)
    if day is None:
        console.print("No resolutions were seen after the first sync.")
        return
    console.rule(f"[bold]What Deskboard would have sent on {day:%a %d %b}")
    kudos = capped([k for k in kudos if k.seen_on == day], config.kudos.daily_cap)
    nudges = [n for n in nudges if n.seen_on == day]
    console.print(
        f"[bold]Kudos[/] ({len(kudos)} resolutions without escalation, "
        f"at most {config.kudos.daily_cap} per technician a day)"
    )
    for k in kudos[:5]:
        who = escape(names.get(k.member, k.member))
        console.print(
            f"  🎉 Kudos to [bold]{who}[/] for resolving #{k.ticket_id} "
            f"“{escape(k.summary)}” for {escape(k.company)} start to finish!"
        )
    console.print(
        f"[bold]Nudges[/] ({len(nudges)} resolved tickets need a fix: one DM digest to each of "
        f"{len({n.member for n in nudges})} technicians)"
    )
    for n in nudges[:5]:
        who = escape(names.get(n.member, n.member))
        why = " and ".join(REASON_TEXT[r] for r in n.reasons)
        console.print(f"  👋 DM to {who}: #{n.ticket_id} “{escape(n.summary)}” {why}.")
    console.print()
    console.print(
        Panel(
            "\n".join(
                [
                    f"The demo database is [cyan]{escape(str(database))}[/]; explore it with:",
                    f"  export DESKBOARD_DATABASE_URL=sqlite:///{escape(str(database))}",
                    "  .venv/bin/deskboard standings -c bot/demo.toml",
                    "  .venv/bin/deskboard metrics -c bot/demo.toml --json",
                    "Connect your own ConnectWise: README.md, 'Connecting ConnectWise'.",
                    "Define your contests: deskboard.example.toml and the README's reference.",
                ]
            ),
            title="Where to go next",
            title_align="left",
        )
    )

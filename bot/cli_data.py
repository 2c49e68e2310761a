"""``deskboard sync``, ``metrics``, ``standings``, ``alerts`` and ``status``: the data commands.

Part of the composition root (registered on the app in ``bot.cli``); reads through
``bot.cli_common``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot import cli_common
from bot.cli_common import (
    ConfigOption,
    JsonOption,
    ScaleOption,
    config_or_exit,
    console,
    engine_or_exit,
    fail,
    parse_date,
    program_or_exit,
    settings_or_exit,
)
from bot.config import DeskboardConfig
from bot.settings import SettingsError
from metrics.ratings import Rating, RatingScale

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.core.standings_period import StandingsPeriod
    from metrics.contests import Contest
    from metrics.windows import Window


def sync(
    config_path: ConfigOption = None,
    since: Annotated[
        str | None, typer.Option(help="Backfill from this date (default: first of this month).")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the watermark; refresh boards and members.")
    ] = False,
) -> None:
    """Fetch tickets changed since the last sync from ConnectWise into the database."""
    from bot.core.sync import SyncConfigError, run_sync
    from bot.wiring import connectwise_client
    from psa.connectwise.errors import ConnectWiseError
    from storage.db import SYNC_LOCK, one_at_a_time

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    since_date = parse_date(since, "--since")
    try:
        settings.require_connectwise()
    except SettingsError as exc:
        raise fail(str(exc)) from None
    engine = engine_or_exit(settings, check_integrity=True)
    config = program_or_exit(config, engine)
    with connectwise_client(settings) as client, progress_bars() as progress:
        task = progress.add_task("Syncing tickets", total=None)
        notes_task = progress.add_task("Reading notes", total=None, visible=False)
        try:
            with one_at_a_time(engine, key=SYNC_LOCK):  # not beside a running bot's sync
                report = run_sync(
                    client=client,
                    engine=engine,
                    config=config,
                    now=cli_common.now(),
                    since=since_date,
                    full=full,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                    notes_progress=lambda done, total: progress.update(
                        notes_task, completed=done, total=total, visible=True
                    ),
                )
        except (ConnectWiseError, SyncConfigError) as exc:
            raise fail(str(exc), code=1) from None
    console.print(
        f"Synced: {report.inserted} new, {report.updated} changed, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped, {report.status_changes} status changes, "
        f"{len(report.reopened)} reopened, notes read for {report.notes_read} tickets."
    )
    judged = report.notices
    if judged.judged:
        console.print(
            f"Judged {judged.judged} new resolutions: {judged.kudos_recorded} kudos, "
            f"{judged.nudges_recorded} nudges (posted by `deskboard run`, or `deskboard post`)."
        )
    if report.notes_error is not None:
        console.print(
            f"Notes of {len(report.notes_failed)} tickets could not be read; "
            f"the next sync tries again. Last error: {report.notes_error}",
            markup=False,
            highlight=False,
        )
    ratings = report.ratings
    if ratings is not None:
        console.print(
            f"Ratings: {ratings.read} survey results read, {ratings.changed} new or changed, "
            f"{len(ratings.skipped)} skipped."
        )
        if ratings.error is not None:
            console.print(
                f"Survey results could not be read; the next sync tries again: {ratings.error}",
                markup=False,
                highlight=False,
            )


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def metrics(
    config_path: ConfigOption = None,
    tickets: Annotated[
        Path | None,
        typer.Option(help="A JSON array of ConnectWise tickets; without it, the database."),
    ] = None,
    notes: Annotated[
        Path | None,
        typer.Option(
            help="With --tickets: a JSON object of each ticket id's notes, as "
            "GET /service/tickets/{id}/notes returns them."
        ),
    ] = None,
    ratings: Annotated[
        Path | None,
        typer.Option(help="With --tickets: a CSV of ratings, as deskboard csat import reads."),
    ] = None,
    scale: ScaleOption = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Window start YYYY-MM-DD (default: this month).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Window end YYYY-MM-DD, exclusive.")] = None,
    time_basis: Annotated[
        str | None, typer.Option(help="business | sla | calendar (default: from the config).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Every metric for every technician over a window (docs/metrics.md, "The metrics command")."""
    from bot.core.rating_import import RatingsFileError
    from bot.core.reports import (
        TicketFileError,
        metrics_from_database,
        metrics_from_file,
        read_notes_file,
    )
    from bot.wiring import member_names, metrics_window, parse_time_basis
    from psa.connectwise.mapping import map_notes, map_tickets

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    window = metrics_window(config, start=start, end=end, now=cli_common.now())
    basis = parse_time_basis(time_basis, config)
    if ratings is not None and tickets is None:
        raise fail("--ratings needs --tickets (the database holds its own ratings)")
    if notes is not None and tickets is None:
        raise fail("--notes needs --tickets (the database holds the notes the sync read)")
    if tickets is not None:
        try:
            rated = None if ratings is None else ratings_of_file(ratings, scale, config)
            noted = None if notes is None else read_notes_file(notes, read_notes=map_notes)
            report = metrics_from_file(
                tickets,
                read_tickets=map_tickets,
                config=config,
                window=window,
                basis=basis,
                ratings=rated,
                notes=noted,
            )
        except (TicketFileError, RatingsFileError) as exc:
            raise fail(str(exc)) from None
        names: dict[str, str] = {}
    else:
        engine = engine_or_exit(settings)
        config = program_or_exit(config, engine)
        report = metrics_from_database(engine, config=config, window=window, basis=basis)
        names = member_names(engine)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    from bot.console import print_metrics

    print_metrics(console, report, names)


def ratings_of_file(path: Path, scale: RatingScale | None, config: DeskboardConfig) -> list[Rating]:
    """The good rows of a ``--ratings`` file; its bad rows are reported on stderr."""
    from bot.core.rating_import import read_ratings_csv

    read = read_ratings_csv(path, scale=scale, tz=config.tz)
    for problem in read.problems:
        typer.echo(f"{path}:{problem.line}: {problem.reason}", err=True)
    return read.ratings


def standings(
    contest: Annotated[str | None, typer.Argument(help="A contest name; default: all.")] = None,
    config_path: ConfigOption = None,
    period: Annotated[
        str,
        typer.Option(
            help="current | previous | YYYY-MM-DD (the period containing that local date)."
        ),
    ] = "current",
    as_json: JsonOption = False,
) -> None:
    """Ranked standings of the configured contests, with "data as of"."""
    from bot.core.reports import standings_for_window
    from bot.core.standings_period import NoSuchPeriod, StandingsPeriod
    from bot.wiring import member_names

    try:
        chosen = StandingsPeriod.parse(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    contests = config.contest_list()
    if contest is not None:
        contests = tuple(c for c in contests if c.name.casefold() == contest.casefold())
        if not contests:
            known = ", ".join(c.name for c in config.contest_list()) or "none configured"
            raise fail(f"no contest named {contest!r}; contests: {known}")
    if not contests:
        raise fail(f"no contests configured; add [[contests]] to {settings.config_path}")
    now = cli_common.now()
    windows: list[tuple[Contest, Window]] = []
    for c in contests:
        try:
            window = chosen.window(c, now=now, tz=config.tz, week_start=config.week_start_day)
        except NoSuchPeriod as exc:
            if contest is not None:
                raise fail(str(exc)) from None
            typer.echo(f"note: {exc}; left out", err=True)
            continue
        windows.append((c, window))
    if not windows:
        raise fail(f"no contest has a {chosen.describe().casefold()}; try --period current")
    names = member_names(engine)
    results = [
        standings_for_window(engine, config=config, contest=c, window=window)
        for c, window in windows
    ]
    if as_json:
        from bot.cli_json import standings_json

        typer.echo(json.dumps(standings_json(results, names), indent=2))
        return
    from bot.console import standings_panel

    for result in results:
        caption = period_caption(chosen, result.contest, result.window, config.tz)
        console.print(caption, soft_wrap=True)
        console.print(standings_panel(result, names, config.tz))


def period_caption(chosen: StandingsPeriod, contest: Contest, window: Window, tz: ZoneInfo) -> str:
    """The period above a contest's table: which one, and its exact bounds."""

    def moment(at: datetime) -> str:
        return f"{at.astimezone(tz):%Y-%m-%d %H:%M %Z}"

    which = "Fixed dates" if contest.period is None else f"{chosen.describe()} ({contest.period})"
    return f"[dim]{escape(which)}: {moment(window.start)} → {moment(window.end)} (end exclusive)[/]"


def alerts(config_path: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The open tickets each [[alerts]] rule flags now (README "SLA-risk alerts")."""
    from bot.core.alerts import alerts_json, alerts_now

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    now = cli_common.now()
    found = alerts_now(engine, config=config, now=now)
    if as_json:
        typer.echo(json.dumps(alerts_json(found, now=now, timezone=config.timezone), indent=2))
        return
    if not found:
        console.print("No alert rules: add [[alerts]] to deskboard.toml (README, SLA-risk alerts).")
        return
    from bot.console import alerts_tables

    console.print(alerts_tables(found, tz=config.tz))


def status(config_path: ConfigOption = None, as_json: JsonOption = False) -> None:
    """When the data was last synced, the watermark, the last error and the outbox."""
    from storage import outbox, repo
    from storage.db import session_scope

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings, check_integrity=True)
    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        count = repo.count_tickets(session)
        delivery = outbox.delivery_health(session)
    if as_json:
        from bot.cli_json import status_json

        typer.echo(json.dumps(status_json(state, count, delivery), indent=2))
        return
    tz = config.tz

    def show(moment: datetime | None) -> str:
        return "never" if moment is None else f"{moment.astimezone(tz):%Y-%m-%d %H:%M %Z}"

    def plain(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    failing = " (the latest sync failed)" if state.failing else ""
    plain(f"Tickets stored:   {count}")
    plain(f"Last sync:        {show(state.last_sync_finished_at)}{failing}")
    plain(f"Watermark:        {show(state.watermark)}")
    if state.last_error:
        recovered = "" if state.failing else " (since recovered)"
        plain(f"Last error:       {show(state.last_error_at)}{recovered}: {state.last_error}")
    plain(f"Messages waiting: {delivery.pending}")
    if delivery.dead:
        plain(f"Messages given up: {delivery.dead}")
    if delivery.last_error:
        plain(
            f"Delivery error:   {show(delivery.last_error_at)}: {delivery.last_error} "
            f"({delivery.last_error_key})"
        )

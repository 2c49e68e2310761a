"""The ``deskboard`` command line: the composition root for operators and cron.

Settings and ``deskboard.toml`` are read here, once, and passed down; nothing reads them at
import time. Bad configuration exits with status 2 and a message naming the key.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.config import ConfigError, DeskboardConfig, load_config
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy import Engine

    from bot.core.runtime import Runtime
    from bot.core.standings_period import StandingsPeriod
    from bot.service import Service
    from metrics.contests import Contest
    from metrics.windows import Window

app = typer.Typer(
    name="deskboard",
    help="Help-desk contests from ConnectWise PSA tickets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
log = logging.getLogger(__name__)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="deskboard.toml (default: $DESKBOARD_CONFIG or ./deskboard.toml)"
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _error_line(message)
    return typer.Exit(code)


def _error_line(message: str) -> None:
    """``error: MESSAGE`` on stderr, on one line: several lines (a configuration file's
    problems, one a line) are joined with "; "."""
    lines = (line.strip() for line in message.splitlines())
    typer.echo(f"error: {'; '.join(line for line in lines if line)}", err=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None


def _config(settings: Settings, path: Path | None) -> DeskboardConfig:
    try:
        return load_config(path or settings.config_path, required=path is not None)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def _open_engine(settings: Settings, *, check_integrity: bool = False) -> Engine:
    """The migrated database, or exit 2 with the reason (``bot.wiring.open_engine``)."""
    from bot.wiring import open_engine

    try:
        return open_engine(settings, check_integrity=check_integrity)
    except SettingsError as exc:
        raise _fail(str(exc)) from None


def _now() -> datetime:
    return datetime.now(UTC)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if verbose:  # main() logs an unexpected error's traceback at DEBUG
        log.setLevel(logging.DEBUG)


@app.command()
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

    settings = _settings()
    config = _config(settings, config_path)
    since_date = _date(since, "--since")
    try:
        settings.require_connectwise()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    engine = _open_engine(settings, check_integrity=True)
    with connectwise_client(settings) as client, _progress() as progress:
        task = progress.add_task("Syncing tickets", total=None)
        notes_task = progress.add_task("Reading notes", total=None, visible=False)
        try:
            with one_at_a_time(engine, key=SYNC_LOCK):  # not beside a running bot's sync
                report = run_sync(
                    client=client,
                    engine=engine,
                    config=config,
                    now=_now(),
                    since=since_date,
                    full=full,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                    notes_progress=lambda done, total: progress.update(
                        notes_task, completed=done, total=total, visible=True
                    ),
                )
        except (ConnectWiseError, SyncConfigError) as exc:
            raise _fail(str(exc), code=1) from None
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


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def metrics(
    config_path: ConfigOption = None,
    tickets: Annotated[
        Path | None,
        typer.Option(help="A JSON array of ConnectWise tickets; without it, the database."),
    ] = None,
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
    from bot.core.reports import TicketFileError, metrics_from_database, metrics_from_file
    from bot.wiring import member_names, metrics_window, parse_time_basis
    from psa.connectwise.mapping import map_tickets

    settings = _settings()
    config = _config(settings, config_path)
    start, end = _date(from_, "--from"), _date(to, "--to")
    window = metrics_window(config, start=start, end=end, now=_now())
    basis = parse_time_basis(time_basis, config)
    if tickets is not None:
        try:
            report = metrics_from_file(
                tickets, read_tickets=map_tickets, config=config, window=window, basis=basis
            )
        except TicketFileError as exc:
            raise _fail(str(exc)) from None
        names: dict[str, str] = {}
    else:
        engine = _open_engine(settings)
        report = metrics_from_database(engine, config=config, window=window, basis=basis)
        names = member_names(engine)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    from bot.console import print_metrics

    print_metrics(console, report, names)


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command()
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
    settings = _settings()
    config = _config(settings, config_path)
    contests = config.contest_list()
    if contest is not None:
        contests = tuple(c for c in contests if c.name.casefold() == contest.casefold())
        if not contests:
            known = ", ".join(c.name for c in config.contest_list()) or "none configured"
            raise _fail(f"no contest named {contest!r}; contests: {known}")
    if not contests:
        raise _fail(f"no contests configured; add [[contests]] to {settings.config_path}")
    now = _now()
    windows: list[tuple[Contest, Window]] = []
    for c in contests:
        try:
            window = chosen.window(c, now=now, tz=config.tz, week_start=config.week_start_day)
        except NoSuchPeriod as exc:
            if contest is not None:
                raise _fail(str(exc)) from None
            typer.echo(f"note: {exc}; left out", err=True)
            continue
        windows.append((c, window))
    if not windows:
        raise _fail(f"no contest has a {chosen.describe().casefold()}; try --period current")
    engine = _open_engine(settings)
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
        caption = _period_caption(chosen, result.contest, result.window, config.tz)
        console.print(caption, soft_wrap=True)
        console.print(standings_panel(result, names, config.tz))


def _period_caption(chosen: StandingsPeriod, contest: Contest, window: Window, tz: ZoneInfo) -> str:
    """The period above a contest's table: which one, and its exact bounds."""

    def moment(at: datetime) -> str:
        return f"{at.astimezone(tz):%Y-%m-%d %H:%M %Z}"

    which = "Fixed dates" if contest.period is None else f"{chosen.describe()} ({contest.period})"
    return f"[dim]{escape(which)}: {moment(window.start)} → {moment(window.end)} (end exclusive)[/]"


@app.command()
def status(config_path: ConfigOption = None, as_json: JsonOption = False) -> None:
    """When the data was last synced, the watermark, the last error and the outbox."""
    from storage import outbox, repo
    from storage.db import session_scope

    settings = _settings()
    config = _config(settings, config_path)
    engine = _open_engine(settings, check_integrity=True)
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


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Simulator seed: same seed, same MSP.")] = 7,
    database: Annotated[Path, typer.Option(help="Where the demo database goes.")] = Path("demo.db"),
) -> None:
    """Run the whole pipeline against the built-in ConnectWise simulator and show the results."""
    from bot.demo import run_demo

    run_demo(console, seed=seed, database=database, now=_now())


def _service(
    settings: Settings,
    config: DeskboardConfig,
    *,
    dry_run: bool,
    commands: bool = True,
    connectwise: bool = True,
) -> Service:
    """The bot (``deskboard run``), or with ``commands=False`` what posting needs
    (``deskboard post``: ConnectWise only when ``connectwise``), or exit 2 with the reason."""
    from bot.service import build_service

    try:
        if connectwise:
            settings.require_connectwise()
        engine = _open_engine(settings, check_integrity=commands)
        return build_service(
            settings, config, engine, dry_run=dry_run, console=console, commands=commands
        )
    except SettingsError as exc:
        raise _fail(str(exc)) from None


@app.command()
def run(
    config_path: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every message instead of sending it.")
    ] = False,
) -> None:
    """The bot: Slack and/or Teams, and the scheduler (sync, standings, winners, kudos, nudges).

    Several processes may share one PostgreSQL database: all serve chat requests, and one at
    a time runs the scheduler (``bot.core.leader``)."""
    from bot.core.derived import ensure_derived
    from bot.core.leader import SchedulerLeader
    from bot.core.scheduler import build_scheduler
    from bot.service import serve
    from storage.leadership import Leadership

    settings = _settings()
    config = _config(settings, config_path)
    service = _service(settings, config, dry_run=dry_run)
    ensure_derived(service.runtime.engine, config=config)  # before the first command reads
    scheduler = build_scheduler(service.runtime, now=_now())
    leader = SchedulerLeader(
        scheduler,
        Leadership(service.runtime.engine),
        every=settings.leader_poll_seconds,
        clock=_now,
    )
    leads = leader.start()
    platforms = ", ".join(service.runtime.platforms)
    role = (
        f"syncing every {config.connectwise.poll_minutes} min, "
        f"{len(scheduler.get_jobs())} scheduled jobs"
        if leads
        else "standing by: another process runs the scheduler "
        f"(checking every {settings.leader_poll_seconds:g} s)"
    )
    console.print(
        f"Deskboard is running: {role}, messages to {platforms}"
        + (", printing messages (dry run)." if dry_run else "."),
        soft_wrap=True,
    )
    for note in service.notes:
        console.print(f"Note: {note}.", soft_wrap=True, markup=False, highlight=False)
    try:
        serve(service, settings)
    except KeyboardInterrupt:
        pass
    finally:
        leader.stop()
        service.close()


post_app = typer.Typer(help="Post now, once (for operators and cron).", no_args_is_help=True)
app.add_typer(post_app, name="post")


@contextmanager
def _posting(
    config_path: Path | None, dry_run: bool, *, connectwise: bool = False
) -> Iterator[Runtime]:
    """The jobs over every platform the environment can post to: posting needs only what
    posting needs (``bot.chat_setup``), never the settings of commands; ConnectWise only
    when ``connectwise`` (the nudges check each ticket again)."""
    settings = _settings()
    config = _config(settings, config_path)
    service = _service(settings, config, dry_run=dry_run, commands=False, connectwise=connectwise)
    try:
        yield service.runtime
    finally:
        service.close()


DryRun = Annotated[bool, typer.Option("--dry-run", help="Print instead of sending.")]


def _platform_names(runtime: Runtime) -> str:
    return ", ".join(runtime.platforms)


@post_app.command("leaderboard")
def post_leaderboard(
    contest: Annotated[
        str | None, typer.Option("--contest", help="One contest; default: every contest.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Post here instead of the contest's channel.")
    ] = None,
    config_path: ConfigOption = None,
    dry_run: DryRun = False,
) -> None:
    """Post contest standings (with the chart) to their channels now."""
    from bot.core.platforms import contest_target

    with _posting(config_path, dry_run) as runtime:
        contests = runtime.config.contest_list()
        if contest is not None:
            contests = tuple(c for c in contests if c.name.casefold() == contest.casefold())
            if not contests:
                known = ", ".join(c.name for c in runtime.config.contest_list()) or "none"
                raise _fail(f"no contest named {contest!r}; contests: {known}")
        if not contests:
            raise _fail("no contests configured; add [[contests]] to deskboard.toml")
        for c in contests:
            if not (channel or any(contest_target(p, c) for p in runtime.platforms)):
                raise _fail(
                    f"contest {c.name!r} has no channel on {_platform_names(runtime)}: set its "
                    "channel (Slack) or teams_channel (Teams), or give --channel"
                )
        posted = sum(runtime.post_standings(c.name, channel=channel) for c in contests)
        report = runtime.deliver()
    console.print(
        f"Queued {posted} standings post(s); delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise _fail(f"{report.failed} post(s) failed; `deskboard status` shows why", code=1)


@post_app.command("kudos")
def post_kudos(config_path: ConfigOption = None, dry_run: DryRun = False) -> None:
    """Post the kudos digest of resolutions not yet celebrated."""
    from bot.core.platforms import kudos_target

    with _posting(config_path, dry_run) as runtime:
        if not any(kudos_target(p, runtime.config) for p in runtime.platforms):
            raise _fail(
                f"no kudos channel on {_platform_names(runtime)}: set [kudos] channel (Slack) "
                "or teams_channel (Teams)"
            )
        queued = runtime.post_kudos_digest()
        report = runtime.deliver()
    console.print(
        f"Kudos digest queued: {queued}; delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise _fail(f"{report.failed} post(s) failed; `deskboard status` shows why", code=1)


@post_app.command("nudges")
def post_nudges(config_path: ConfigOption = None, dry_run: DryRun = False) -> None:
    """Send today's nudge digests (only in business hours, once a day per technician)."""
    from bot.core.platforms import can_dm

    with _posting(config_path, dry_run, connectwise=True) as runtime:
        if not runtime.config.nudges.enabled:
            raise _fail("nudges are off in deskboard.toml ([nudges] enabled = false)")
        if not any(can_dm(p) for p in runtime.platforms):
            raise _fail(
                "nudges are direct messages, which Teams Workflows cannot send: set "
                "SLACK_BOT_TOKEN (Slack) or TEAMS_CLIENT_ID and TEAMS_CLIENT_SECRET (Teams)"
            )
        queued = runtime.post_nudges()
        report = runtime.deliver()
    console.print(
        f"Nudge digests queued: {queued}; delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise _fail(f"{report.failed} message(s) failed; `deskboard status` shows why", code=1)


@app.command("teams-package")
def teams_package(
    output: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path(
        "deskboard-teams.zip"
    ),
    app_id: Annotated[
        str | None, typer.Option(help="The Teams app id (default: TEAMS_CLIENT_ID).")
    ] = None,
) -> None:
    """Build the Teams app package (manifest and icons) to upload in Teams."""
    from bot.teams.package import PackageError, build_package

    settings = _settings()
    if not settings.teams_client_id:
        raise _fail("set TEAMS_CLIENT_ID (the bot's Microsoft Entra app id) to build the package")
    try:
        build_package(output, bot_id=settings.teams_client_id, app_id=app_id)
    except PackageError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Wrote {output}: upload it in Teams (Apps → Manage your apps → Upload an app).")


connectwise_app = typer.Typer(help="ConnectWise set-up.", no_args_is_help=True)
app.add_typer(connectwise_app, name="connectwise")

CALLBACK_DESCRIPTION = "Deskboard: push ticket changes (help-desk contests)"


@connectwise_app.command("register-callback")
def register_callback(
    url: Annotated[
        str,
        typer.Argument(
            help="Where ConnectWise reaches `deskboard run`, ending /connectwise/callback."
        ),
    ],
) -> None:
    """Register URL with ConnectWise for ticket callbacks (once; a second run changes nothing)."""
    from urllib.parse import urlsplit

    from bot.web.callbacks import CALLBACK_PATH
    from bot.wiring import connectwise_client
    from psa.connectwise.callbacks import same_callback_url
    from psa.connectwise.errors import ConnectWiseError

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(
            f"{url!r} is not an http(s) URL, e.g. https://deskboard.example.com{CALLBACK_PATH}"
        )
    if parts.username is not None or parts.password is not None:
        raise _fail("the callback URL must not contain a user name or password")
    settings = _settings()
    try:
        settings.require_connectwise()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    if parts.path.rstrip("/") != CALLBACK_PATH:
        console.print(
            f"Note: `deskboard run` receives callbacks at {CALLBACK_PATH}; this URL's path is "
            f"{parts.path or '/'!r} (fine behind a proxy that rewrites it).",
            markup=False,
            highlight=False,
        )
    if parts.scheme == "http":
        console.print("Note: ConnectWise cloud sites call only https URLs.", highlight=False)
    try:
        with connectwise_client(settings) as client:
            existing = [c for c in client.callbacks() if c.type.casefold() == "ticket"]
            same = next((c for c in existing if same_callback_url(c.url, url)), None)
            if same is None:
                created = client.register_callback(
                    url=url.strip(), description=CALLBACK_DESCRIPTION
                )
    except ConnectWiseError as exc:
        raise _fail(f"ConnectWise: {exc}", code=1) from None
    for entry in existing:
        state = " (inactive)" if entry.inactive else ""
        console.print(
            f"Ticket callback {entry.id}: {entry.url} level {entry.level}{state}"
            f" — {entry.description or 'no description'}",
            markup=False, highlight=False,
        )  # fmt: skip
    if same is not None:
        console.print(f"Already registered as callback {same.id}; nothing changed.", markup=False)
    else:
        console.print(
            f"Registered callback {created.id}: ConnectWise now posts ticket changes to "
            f"{created.url}. Polling stays on.",
            markup=False, highlight=False,
        )  # fmt: skip


def main() -> None:
    """The ``deskboard`` console script: every failure ends in one line on stderr.

    Exit status 0 on success; 2 for a usage error (``error: MESSAGE (see deskboard COMMAND
    --help)``) or a refused configuration; 1 for a failure at run time, and for an
    unexpected exception (``error: TYPE: MESSAGE``, its traceback logged at DEBUG: shown
    with ``-v``); 130 after Ctrl-C. A command's own ``typer.Exit`` code passes through.
    """
    sys.exit(_run_app(sys.argv[1:]))


USAGE_ERROR = 2  # Click's exit status for a usage error


def _run_app(args: list[str]) -> int:
    try:
        result = app(args=args, prog_name="deskboard", standalone_mode=False)
    except typer.TyperException as exc:  # Click's exceptions, as Typer (vendoring Click) has them
        if type(exc).__name__ == "NoArgsIsHelpError":
            return exc.exit_code  # a bare `deskboard` or `deskboard post`: the help is printed
        message = exc.format_message()
        if exc.exit_code == USAGE_ERROR:
            command = getattr(getattr(exc, "ctx", None), "command_path", None)
            message = f"{message} (see {command or _command_path(args)} --help)"
        _error_line(message)
        return exc.exit_code
    except typer.Abort:
        _error_line("aborted")
        return 1
    except KeyboardInterrupt:  # outside the command, where Typer does not turn it into 130
        _error_line("interrupted")
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        reason = _first_line(str(exc))
        _error_line(f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__)
        return 1
    code = result if isinstance(result, int) else 0  # a typer.Exit's code, or a return value
    if code == 130:
        _error_line("interrupted")
    return code


def _command_path(args: list[str]) -> str:
    """``deskboard post leaderboard``: the command ``args`` name, for a usage error that came
    without its context (an option missing its value)."""
    command: object = typer.main.get_command(app)
    path = ["deskboard"]
    for arg in args:
        if arg.startswith("-"):
            continue  # -v before the command
        sub = getattr(command, "commands", {}).get(arg)
        if sub is None:
            break
        command, path = sub, [*path, arg]
    return " ".join(path)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")

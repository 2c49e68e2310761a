"""``deskboard demo``, ``run``, ``teams-package`` and ``post …``: running the bot, and posting
once (for operators and cron).

Part of the composition root (registered on the app in ``bot.cli``); reads through
``bot.cli_common``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot import cli_common
from bot.cli_common import (
    ConfigOption,
    DryRun,
    config_or_exit,
    console,
    fail,
    service_or_exit,
    settings_or_exit,
)

if TYPE_CHECKING:
    from bot.core.runtime import Runtime


def demo(
    seed: Annotated[int, typer.Option(help="Simulator seed: same seed, same MSP.")] = 7,
    database: Annotated[Path, typer.Option(help="Where the demo database goes.")] = Path("demo.db"),
    serve: Annotated[
        bool, typer.Option("--serve", help="Then show the month on a wallboard until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="The wallboard's port.")] = 8000,
) -> None:
    """Run the whole pipeline against the built-in ConnectWise simulator and show the results
    (with --serve, then keep a wallboard of the month up on 127.0.0.1 until Ctrl-C)."""
    from bot.demo import run_demo, serve_demo_board

    until = run_demo(console, seed=seed, database=database, now=cli_common.now(), serving=serve)
    if serve:
        serve_demo_board(console, database=database, now=until, host="127.0.0.1", port=port)


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

    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    service = service_or_exit(settings, config, dry_run=dry_run)
    ensure_derived(service.runtime.engine, config=config)  # before the first command reads
    scheduler = build_scheduler(service.runtime, now=cli_common.now())
    leader = SchedulerLeader(
        scheduler,
        Leadership(service.runtime.engine),
        every=settings.leader_poll_seconds,
        clock=cli_common.now,
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


@contextmanager
def posting(
    config_path: Path | None, dry_run: bool, *, connectwise: bool = False
) -> Iterator[Runtime]:
    """The jobs over every platform the environment can post to: posting needs only what
    posting needs (``bot.chat_setup``), never the settings of commands; ConnectWise only
    when ``connectwise`` (the nudges check each ticket again)."""
    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    service = service_or_exit(
        settings, config, dry_run=dry_run, commands=False, connectwise=connectwise
    )
    try:
        yield service.runtime
    finally:
        service.close()


def platform_names(runtime: Runtime) -> str:
    return ", ".join(runtime.platforms)


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

    with posting(config_path, dry_run) as runtime:
        contests = runtime.config.contest_list()
        if contest is not None:
            contests = tuple(c for c in contests if c.name.casefold() == contest.casefold())
            if not contests:
                known = ", ".join(c.name for c in runtime.config.contest_list()) or "none"
                raise fail(f"no contest named {contest!r}; contests: {known}")
        if not contests:
            raise fail("no contests configured; add [[contests]] to deskboard.toml")
        for c in contests:
            if not (
                channel or any(contest_target(p, runtime.config, c) for p in runtime.platforms)
            ):
                raise fail(
                    f"contest {c.name!r} has no channel on {platform_names(runtime)}: set its "
                    "channel (Slack) or teams_channel (Teams), or give --channel"
                )
        posted = sum(runtime.post_standings(c.name, channel=channel) for c in contests)
        report = runtime.deliver()
    console.print(
        f"Queued {posted} standings post(s); delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise fail(f"{report.failed} post(s) failed; `deskboard status` shows why", code=1)


def post_kudos(config_path: ConfigOption = None, dry_run: DryRun = False) -> None:
    """Post the kudos digest of resolutions not yet celebrated."""
    from bot.core.platforms import kudos_target

    with posting(config_path, dry_run) as runtime:
        if not any(kudos_target(p, runtime.config) for p in runtime.platforms):
            raise fail(
                f"no kudos channel on {platform_names(runtime)}: set [kudos] channel (Slack) "
                "or teams_channel (Teams)"
            )
        queued = runtime.post_kudos_digest()
        report = runtime.deliver()
    console.print(
        f"Kudos digest queued: {queued}; delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise fail(f"{report.failed} post(s) failed; `deskboard status` shows why", code=1)


def post_nudges(config_path: ConfigOption = None, dry_run: DryRun = False) -> None:
    """Send today's nudge digests (only in business hours, once a day per technician)."""
    from bot.core.platforms import can_dm

    with posting(config_path, dry_run, connectwise=True) as runtime:
        if not runtime.config.nudges.enabled:
            raise fail("nudges are off in deskboard.toml ([nudges] enabled = false)")
        if not any(can_dm(p) for p in runtime.platforms):
            raise fail(
                "nudges are direct messages, which Teams Workflows cannot send: set "
                "SLACK_BOT_TOKEN (Slack) or TEAMS_CLIENT_ID and TEAMS_CLIENT_SECRET (Teams)"
            )
        queued = runtime.post_nudges()
        report = runtime.deliver()
    console.print(
        f"Nudge digests queued: {queued}; delivered {report.sent}, failed {report.failed}."
    )
    if report.failed:
        raise fail(f"{report.failed} message(s) failed; `deskboard status` shows why", code=1)


def teams_package(
    output: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path(
        "deskboard-teams.zip"
    ),
    app_id: Annotated[
        str | None, typer.Option(help="The Teams app id (default: TEAMS_CLIENT_ID).")
    ] = None,
    config_path: ConfigOption = None,
) -> None:
    """Build the Teams app package (manifest and icons) to upload in Teams; with
    ``[csat] public_url`` set, it holds the personal tab "My numbers" too."""
    from bot.teams.package import PackageError, build_package

    settings = settings_or_exit()
    if not settings.teams_client_id:
        raise fail("set TEAMS_CLIENT_ID (the bot's Microsoft Entra app id) to build the package")
    public_url = config_or_exit(settings, config_path).csat.public_url
    try:
        build_package(output, bot_id=settings.teams_client_id, app_id=app_id, public_url=public_url)
    except PackageError as exc:
        raise fail(str(exc)) from None
    console.print(f"Wrote {output}: upload it in Teams (Apps → Manage your apps → Upload an app).")
    if public_url is None:
        console.print('note: no personal tab: set [csat] public_url (https) to add "My numbers".')

"""The ``deskboard`` command line: the composition root for operators and cron.

Settings and ``deskboard.toml`` are read here, once, and passed down; nothing reads them at
import time. Bad configuration exits with status 2 and a message naming the key.

Every command lives in a sibling module, registered here in the order ``--help`` lists them:
``bot.cli_data`` (sync, metrics, standings, status), ``bot.cli_program`` (changes,
config …), ``bot.cli_run`` (demo, run, post …,
teams-package), ``bot.cli_csat`` (csat …) and ``bot.cli_connectwise`` (connectwise …),
sharing ``bot.cli_common``. All of ``bot/cli*.py`` belongs to the composition root.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from bot import cli_board, cli_connectwise, cli_data, cli_program, cli_run
from bot.cli_common import error_line
from bot.cli_csat import csat_app

app = typer.Typer(
    name="deskboard",
    help="Help-desk contests from ConnectWise PSA tickets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger(__name__)


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


app.command()(cli_data.sync)
app.command()(cli_data.metrics)
app.command()(cli_data.standings)
app.command()(cli_data.alerts)
app.command()(cli_data.status)
app.command()(cli_program.changes)
app.command()(cli_run.demo)
app.command()(cli_run.run)

post_app = typer.Typer(help="Post now, once (for operators and cron).", no_args_is_help=True)
app.add_typer(post_app, name="post")
post_app.command("leaderboard")(cli_run.post_leaderboard)
post_app.command("kudos")(cli_run.post_kudos)
post_app.command("nudges")(cli_run.post_nudges)

app.command("teams-package")(cli_run.teams_package)

app.add_typer(csat_app, name="csat")
app.add_typer(cli_program.config_app, name="config")
app.add_typer(cli_board.board_app, name="board")

connectwise_app = typer.Typer(help="ConnectWise set-up.", no_args_is_help=True)
app.add_typer(connectwise_app, name="connectwise")
connectwise_app.command("register-callback")(cli_connectwise.register_callback)


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
        error_line(message)
        return exc.exit_code
    except typer.Abort:
        error_line("aborted")
        return 1
    except KeyboardInterrupt:  # outside the command, where Typer does not turn it into 130
        error_line("interrupted")
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        reason = _first_line(str(exc))
        error_line(f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__)
        return 1
    code = result if isinstance(result, int) else 0  # a typer.Exit's code, or a return value
    if code == 130:
        error_line("interrupted")
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

"""``deskboard board new|list|revoke``: the office TV's wallboards (README "The wallboard").
Part of the composition root, like every ``bot/cli*.py``."""

from __future__ import annotations

from typing import Annotated

import typer

from bot import cli_common
from bot.cli_common import (
    ConfigOption,
    config_or_exit,
    console,
    engine_or_exit,
    fail,
    program_or_exit,
    settings_or_exit,
)

board_app = typer.Typer(help="Wallboards for the office TV: live standings.", no_args_is_help=True)


@board_app.command("new")
def board_new(
    name: Annotated[str, typer.Argument(help='What the board is for: "Office TV".')],
    contests: Annotated[
        str | None,
        typer.Option(help="Contest names, comma-separated; default: every running contest."),
    ] = None,
    theme: Annotated[str, typer.Option(help="dark or light.")] = "dark",
    config_path: ConfigOption = None,
) -> None:
    """Make a board and print its URL (the token in it is shown once: keep it)."""
    from bot.core.boards import THEMES, new_board

    if theme not in THEMES:
        raise typer.BadParameter(
            f"{theme!r} is not one of {', '.join(THEMES)}", param_hint="--theme"
        )
    if not name.strip():
        raise typer.BadParameter("a board needs a name", param_hint="NAME")
    settings = settings_or_exit()
    config = config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    config = program_or_exit(config, engine)
    wanted = [c.strip() for c in (contests or "").split(",") if c.strip()]
    known = {c.name.casefold() for c in config.contest_list()}
    unknown = [c for c in wanted if c.casefold() not in known]
    if unknown:
        names = ", ".join(c.name for c in config.contest_list()) or "none running"
        raise fail(f"no running contest named {unknown[0]!r}; contests: {names}")
    board, token = new_board(
        engine, name=name.strip(), contests=wanted, theme=theme, actor="cli", now=cli_common.now()
    )
    base = config.csat.public_url or f"http://localhost:{settings.port}"
    typer.echo(f"{base}/board/{token}")
    typer.echo(
        f"Board {board.id} “{board.name}”: open the URL on the TV; `deskboard board revoke "
        f"{board.id}` ends it.",
        err=True,
    )


@board_app.command("list")
def board_list(config_path: ConfigOption = None) -> None:
    """The live boards (their tokens are not kept, only a hash)."""
    from rich.markup import escape
    from rich.table import Table

    from bot.core.boards import boards

    settings = settings_or_exit()
    config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    found = boards(engine)
    if not found:
        console.print("No boards: `deskboard board new NAME` makes one.")
        return
    table = Table("Id", "Name", "Contests", "Theme", "Made by", "Made")
    for b in found:
        table.add_row(
            str(b.id),
            escape(b.name),
            escape(", ".join(b.contests) or "all running"),
            b.theme,
            escape(b.created_by),
            f"{b.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@board_app.command("revoke")
def board_revoke(
    board_id: Annotated[int, typer.Argument(help="The board's id (`deskboard board list`).")],
    config_path: ConfigOption = None,
) -> None:
    """End a board now: its URL answers 404 at once, on every process."""
    from bot.core.boards import revoke

    settings = settings_or_exit()
    config_or_exit(settings, config_path)
    engine = engine_or_exit(settings)
    if not revoke(engine, board_id=board_id, now=cli_common.now()):
        raise fail(f"no live board {board_id} (see deskboard board list)")
    typer.echo(f"Board {board_id} revoked.")
